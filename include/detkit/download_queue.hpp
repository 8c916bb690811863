// detkit/download_queue.hpp — the bookkeeping of a parallel, resumable download, with no network
// code and no terminal code, so any transfer engine (detkit-download's libcurl loop, a test, a
// user's own fetcher) can drive it.
//
// It answers the failures listed in openimages.md §2: skip files already complete (a rerun only
// fetches what is missing, unlike downloader.py and the recipe's downloadOI.py), resume `.part`
// files with a Range offset, retry transient errors with seeded exponential backoff and jitter,
// record 403/404 as missing instead of aborting, and stop everything on a local write failure.
//
//     detkit::download_queue q(jobs, opts);
//     q.scan_existing();                       // complete files -> skipped, .part -> resume offset
//     q.begin(now());
//     while (!q.settled()) {
//       while (auto s = q.next(now())) start_transfer(s->index, s->resume_offset);
//       ... on data: q.note_bytes(n); on end: q.finish(index, result, part_bytes, now());
//     }
//     auto sum = q.summary(now());
//
// Single-threaded: call it from the one loop that owns the transfers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "detkit/detail/mmap.hpp"
#include "detkit/image_header.hpp"
#include "detkit/part_file.hpp"
#include "detkit/retry_policy.hpp"

DETKIT_BEGIN_NAMESPACE

/// The completeness check for downloaded images: the file maps and is a JPEG from SOI to EOI
/// (detkit::is_complete_jpeg). Only the first and last pages are touched.
inline bool is_complete_jpeg_file(const std::string& path) {
  auto m = detail::mapped_file::try_open(path, detail::map_advice::random);
  return m && is_complete_jpeg(m->view());
}

enum class job_state : std::uint8_t {
  pending,  // not started yet (or cancelled and put back)
  waiting,  // failed, waiting for its backoff delay
  active,   // a transfer is running
  done,     // downloaded in this run
  skipped,  // already complete on disk
  missing,  // 403/404/410 (or listed as missing by an earlier run)
  failed,   // gave up (attempts exhausted, a permanent error, or a fatal local error)
};

struct download_job {
  std::string url;
  std::string path;  // final file path; the transfer writes `<path>.part`
  std::string key;   // what reports call it (the ImageID)
};

/// Decides whether a file on disk is complete (e.g. detkit::is_complete_jpeg for images).
using completeness_check = std::function<bool(const std::string& path)>;

struct download_queue_options {
  retry_policy retry{};
  std::uint64_t seed = 20181001;   // seeds the backoff jitter: same seed, same schedule
  completeness_check is_complete;  // empty: any non-empty file counts as complete
  double rate_window_s = 10.0;     // window of the bytes/s and images/s in progress snapshots
};

/// A job the caller should start now.
struct job_start {
  std::size_t index = 0;
  std::uint64_t resume_offset = 0;  // bytes already in `<path>.part`: send `Range: bytes=N-`
  int attempt = 1;                  // 1 for the first try
};

struct download_summary {
  std::size_t total = 0;
  std::size_t downloaded = 0;       // completed in this run
  std::size_t skipped = 0;          // already complete on disk
  std::size_t missing = 0;          // 403/404/410 in this run
  std::size_t missing_known = 0;    // listed as missing by an earlier run, not asked again
  std::size_t failed = 0;           // gave up after retries or on a permanent error
  std::size_t pending = 0;          // never finished (stopped by Ctrl-C or a fatal error)
  std::size_t retries = 0;          // attempts beyond the first
  std::size_t resumed = 0;          // transfers that continued a .part file with a Range request
  std::uint64_t bytes = 0;          // body bytes received in this run
  std::uint64_t bytes_resumed = 0;  // bytes of .part files that Range requests did not fetch again
  double seconds = 0;
};

struct progress_snapshot {
  std::size_t finished = 0;  // downloaded + skipped + missing + failed
  std::size_t total = 0;
  std::size_t active = 0;
  std::size_t downloaded = 0, skipped = 0, missing = 0, failed = 0, retries = 0;
  std::uint64_t bytes = 0;
  double elapsed_s = 0;
  double bytes_per_s = 0;   // over the last rate_window_s
  double images_per_s = 0;  // finished transfers per second over the same window
  double eta_s = -1;        // < 0 when not known yet
};

class download_queue {
 public:
  explicit download_queue(std::vector<download_job> jobs, download_queue_options opts = {})
      : jobs_(std::move(jobs)), opts_(std::move(opts)), rng_(opts_.seed), slots_(jobs_.size()) {
    for (std::size_t i = 0; i < jobs_.size(); ++i) ready_.push_back(i);
  }

  std::size_t size() const noexcept { return jobs_.size(); }
  const download_job& job(std::size_t i) const { return jobs_[i]; }
  job_state state(std::size_t i) const { return slots_[i].state; }
  /// The last attempt's result (for missing.csv and failure reports).
  const transfer_result& last_result(std::size_t i) const { return slots_[i].last; }
  int attempts(std::size_t i) const { return slots_[i].attempts; }

  /// Whether the file at `path` is complete, by the configured check.
  bool is_complete(const std::string& path) const {
    if (opts_.is_complete) return opts_.is_complete(path);
    return file_size_or_neg(path) > 0;
  }

  /// Looks at the disk before starting: complete final files become `skipped`; a `.part` file
  /// gives the job its resume offset. Returns the number skipped.
  std::size_t scan_existing() {
    std::size_t n = 0;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      slot& s = slots_[i];
      if (s.state != job_state::pending) continue;
      if (is_complete(jobs_[i].path)) {
        s.state = job_state::skipped;
        ++skipped_;
        ++n;
        continue;
      }
      const std::int64_t part = file_size_or_neg(part_path_of(jobs_[i].path));
      s.resume = part > 0 ? static_cast<std::uint64_t>(part) : 0;
    }
    if (n > 0) rebuild_ready();
    return n;
  }

  /// Marks a job missing without asking the server (it was listed in an earlier missing.csv).
  void mark_known_missing(std::size_t i) {
    if (slots_[i].state != job_state::pending) return;
    slots_[i].state = job_state::missing;
    slots_[i].known_missing = true;
    ++missing_known_;
    rebuild_ready();
  }

  /// Starts the clock of rates, ETA and the summary.
  void begin(double now_s) {
    t0_ = now_s;
    samples_.clear();
    samples_.push_back({now_s, 0, 0});
  }

  /// The next job to start now, or nothing (none ready, waiting for a backoff, or stopped).
  std::optional<job_start> next(double now_s) {
    if (stopped_) return std::nullopt;
    std::size_t i;
    if (!waiting_.empty() && waiting_.top().first <= now_s) {
      i = waiting_.top().second;
      waiting_.pop();
    } else if (!ready_.empty()) {
      i = ready_.front();
      ready_.pop_front();
    } else {
      return std::nullopt;
    }
    slot& s = slots_[i];
    s.state = job_state::active;
    ++s.attempts;
    ++active_;
    if (s.attempts > 1) ++retries_;
    return job_start{i, s.resume, s.attempts};
  }

  /// True when next(now_s) would return a job.
  bool has_ready(double now_s) const {
    return !stopped_ && (!ready_.empty() || (!waiting_.empty() && waiting_.top().first <= now_s));
  }

  /// Seconds until a waiting job becomes ready (for the poll timeout); +inf when none waits.
  double next_ready_in(double now_s) const {
    if (stopped_ || waiting_.empty()) return std::numeric_limits<double>::infinity();
    return std::max(0.0, waiting_.top().first - now_s);
  }

  /// Body bytes received by any transfer (for live progress and the summary).
  void note_bytes(std::uint64_t n) noexcept { bytes_ += n; }

  /// Records the end of an attempt. `part_bytes` is what the job's `.part` file now holds (the
  /// next Range offset; 0 after a discard). Returns what happened to the job.
  transfer_outcome finish(std::size_t i, const transfer_result& r, std::uint64_t part_bytes,
                          double now_s) {
    slot& s = slots_[i];
    DETKIT_ASSERT(s.state == job_state::active);
    --active_;
    s.last = r;
    if (r.resumed_from > 0) {  // the server honoured the Range: those bytes were not sent again
      ++resumed_;
      bytes_resumed_ += r.resumed_from;
    }
    transfer_outcome out = classify(r);
    if (r.status == transfer_status::http_error && r.http_code == 416) part_bytes = 0;
    s.resume = part_bytes;
    switch (out) {
      case transfer_outcome::done:
        s.state = job_state::done;
        ++downloaded_;
        break;
      case transfer_outcome::missing:
        s.state = job_state::missing;
        ++missing_;
        break;
      case transfer_outcome::failed:
        s.state = job_state::failed;
        ++failed_;
        break;
      case transfer_outcome::fatal:
        s.state = job_state::failed;
        ++failed_;
        fatal_ = true;
        stopped_ = true;
        break;
      case transfer_outcome::requeue:
        --s.attempts;  // a cancelled transfer was not a real attempt
        s.state = job_state::pending;
        ready_.push_front(i);
        break;
      case transfer_outcome::retry:
        if (s.attempts >= opts_.retry.max_attempts) {
          s.state = job_state::failed;
          ++failed_;
          out = transfer_outcome::failed;
        } else {
          s.state = job_state::waiting;
          const double d = backoff_delay_s(opts_.retry, s.attempts, rng_, r.retry_after_s);
          waiting_.push({now_s + d, i});
        }
        break;
    }
    return out;
  }

  /// Starts no new transfers (Ctrl-C). Active ones finish or are cancelled by the caller.
  void stop() noexcept { stopped_ = true; }
  bool stopped() const noexcept { return stopped_; }
  /// True after a fatal local error (disk full, unwritable folder).
  bool fatal() const noexcept { return fatal_; }
  std::size_t active() const noexcept { return active_; }

  /// Nothing runs and nothing more will start.
  bool settled() const noexcept {
    return active_ == 0 && (stopped_ || (ready_.empty() && waiting_.empty()));
  }

  /// Checks a finished body and publishes it: the `.part` size must equal `expected_total`
  /// (when >= 0), the completeness check must pass, then `.part` is renamed to the final name.
  /// A short file is kept for a Range resume; a corrupt one is removed. Returns the status to
  /// report (ok, short_body, corrupt or write_error) and fills `r` accordingly.
  transfer_status publish(part_file& part, std::int64_t expected_total, transfer_result& r) const {
    part.close();
    const std::int64_t have = file_size_or_neg(part.part_path());
    if (have <= 0 || (expected_total >= 0 && have < expected_total)) {
      r.status = transfer_status::short_body;
      r.detail = "got " + std::to_string(std::max<std::int64_t>(have, 0)) + " of " +
                 std::to_string(expected_total) + " bytes";
      if (have <= 0) part.discard();
      return r.status;
    }
    if ((expected_total >= 0 && have > expected_total) || !is_complete(part.part_path())) {
      r.status = transfer_status::corrupt;
      r.detail = expected_total >= 0 && have > expected_total
                     ? "file longer than announced (" + std::to_string(have) + " > " +
                           std::to_string(expected_total) + ")"
                     : "incomplete or invalid file";
      part.discard();
      return r.status;
    }
    if (auto c = part.commit(); !c) {
      r.status = transfer_status::write_error;
      r.os_errno = part.os_errno();
      r.detail = c.error().message;
      return r.status;
    }
    r.status = transfer_status::ok;
    return r.status;
  }

  download_summary summary(double now_s) const {
    download_summary s;
    s.total = jobs_.size();
    s.downloaded = downloaded_;
    s.skipped = skipped_;
    s.missing = missing_;
    s.missing_known = missing_known_;
    s.failed = failed_;
    s.pending = s.total - downloaded_ - skipped_ - missing_ - missing_known_ - failed_;
    s.retries = retries_;
    s.resumed = resumed_;
    s.bytes = bytes_;
    s.bytes_resumed = bytes_resumed_;
    s.seconds = now_s - t0_;
    return s;
  }

  /// Progress for display; call it periodically (it also records the rate window's samples).
  progress_snapshot snapshot(double now_s) {
    progress_snapshot p;
    p.total = jobs_.size();
    p.active = active_;
    p.downloaded = downloaded_;
    p.skipped = skipped_;
    p.missing = missing_ + missing_known_;
    p.failed = failed_;
    p.retries = retries_;
    p.finished = downloaded_ + skipped_ + p.missing + failed_;
    p.bytes = bytes_;
    p.elapsed_s = now_s - t0_;
    const std::size_t transferred = downloaded_ + missing_ + failed_;
    samples_.push_back({now_s, bytes_, transferred});
    while (samples_.size() > 2 && now_s - samples_[1].t >= opts_.rate_window_s)
      samples_.pop_front();
    const sample& first = samples_.front();
    const double dt = now_s - first.t;
    if (dt > 1e-3) {
      p.bytes_per_s = static_cast<double>(bytes_ - first.bytes) / dt;
      p.images_per_s = static_cast<double>(transferred - first.transferred) / dt;
    }
    const std::size_t left = p.total - p.finished;
    if (left == 0)
      p.eta_s = 0;
    else if (p.images_per_s > 0)
      p.eta_s = static_cast<double>(left) / p.images_per_s;
    return p;
  }

 private:
  struct slot {
    job_state state = job_state::pending;
    int attempts = 0;
    std::uint64_t resume = 0;
    bool known_missing = false;
    transfer_result last{};
  };
  struct sample {
    double t;
    std::uint64_t bytes;
    std::size_t transferred;
  };
  using timed = std::pair<double, std::size_t>;

  void rebuild_ready() {
    std::deque<std::size_t> keep;
    for (std::size_t i : ready_)
      if (slots_[i].state == job_state::pending) keep.push_back(i);
    ready_.swap(keep);
  }

  std::vector<download_job> jobs_;
  download_queue_options opts_;
  std::uint64_t rng_;
  std::vector<slot> slots_;
  std::deque<std::size_t> ready_;
  std::priority_queue<timed, std::vector<timed>, std::greater<timed>> waiting_;
  std::deque<sample> samples_;
  double t0_ = 0;
  std::size_t active_ = 0, downloaded_ = 0, skipped_ = 0, missing_ = 0, missing_known_ = 0,
              failed_ = 0, retries_ = 0, resumed_ = 0;
  std::uint64_t bytes_ = 0, bytes_resumed_ = 0;
  bool stopped_ = false, fatal_ = false;
};

DETKIT_END_NAMESPACE

// examples/download/curl_fetcher.cpp — the libcurl multi loop behind detkit-download (see the
// header). Mirrors the structure of curl's own `--parallel` tool code (curl/src/tool_operate.c:
// add transfers up to the limit, curl_multi_perform, drain CURLMSG_DONE, curl_multi_poll).
//
// Disk work (creating, writing, checking and renaming `.part` files) runs on a few writer threads,
// never on the network thread: creating a file can take a millisecond on a busy disk, and one
// thread doing it for every image would hold back all 16 transfers. Each file's operations go to
// one writer (lane = job index % writers), in order; the network thread learns that a file is
// finished only after its writer has renamed it (or kept/removed its .part), so the queue's
// bookkeeping stays on one thread.
#include "download/curl_fetcher.hpp"

#include <curl/curl.h>

#include "detkit/http_headers.hpp"

#if LIBCURL_VERSION_NUM < 0x074400
#error "detkit-download needs libcurl 7.68 or newer (curl_multi_poll, curl_multi_wakeup)"
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace detkit_download {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// What a writer does with a .part file when the transfer is over.
enum class part_action : std::uint8_t {
  publish,        // check length + completeness, rename to the final name
  publish_whole,  // a 416 said the .part already holds the whole object: check and rename
  keep,           // close it, keep it for a Range resume
  discard,        // remove it (stale bytes of a vanished or changed object)
};

// One transfer. Network fields are touched by the network thread only; `part` by its writer only
// (after begin()); the two meet through the writer queue and the finished list, both mutex-guarded.
struct transfer {
  transfer(std::size_t i, std::string path) : index(i), part(std::move(path)) {}
  std::size_t index;
  detkit::part_file part;
  CURL* easy = nullptr;
  detkit::download_queue* queue = nullptr;
  class disk_writers* writers = nullptr;
  std::uint64_t offset = 0;  // what we asked for with Range
  // From the headers of the last response (redirects reset them).
  bool have_range = false;
  std::uint64_t range_start = 0;
  std::int64_t range_total = -1;
  double retry_after = 0;
  // Body handling, decided at the first body byte.
  bool body_started = false, write_body = false, bad_range = false;
  long http_code = 0;
  std::int64_t expected_total = -1;
  std::uint64_t received = 0;
  bool got_headers = false;
  char errbuf[CURL_ERROR_SIZE] = {};
  // Set by the writer when a write fails; the body callback then aborts the transfer.
  std::atomic<bool> write_failed{false};
  int write_errno = 0;  // written before write_failed is set (release), read after (acquire)
  // Filled when finished: the result to report and what the .part holds (the next Range offset).
  detkit::transfer_result result;
  part_action action = part_action::keep;
  std::uint64_t part_bytes = 0;
};

// Writer threads with ordered lanes and a cap on bytes waiting to be written (backpressure: when
// the disk is slower than the network, the network thread waits instead of buffering without end).
class disk_writers {
 public:
  disk_writers(unsigned lanes, CURLM* multi, const detkit::download_queue& q)
      : multi_(multi), queue_(q), lanes_(lanes) {
    for (unsigned i = 0; i < lanes; ++i) threads_.emplace_back([this, i] { run(lanes_[i]); });
  }
  disk_writers(const disk_writers&) = delete;
  disk_writers& operator=(const disk_writers&) = delete;
  ~disk_writers() {
    for (auto& l : lanes_) {
      std::lock_guard<std::mutex> g(l.mu);
      l.stop = true;
      l.cv.notify_one();
    }
    for (auto& t : threads_) t.join();
  }

  void write(transfer* t, const char* data, std::size_t n) {
    {
      std::unique_lock<std::mutex> g(pending_mu_);
      pending_cv_.wait(g, [&] { return pending_bytes_ < k_max_pending_bytes; });
      pending_bytes_ += n;
    }
    push(t, command{command::kind::write, t, std::vector<char>(data, data + n)});
  }
  void restart(transfer* t) { push(t, command{command::kind::restart, t, {}}); }
  // The transfer is over: act on its .part, then hand it back through finished().
  void finish(transfer* t) { push(t, command{command::kind::finish, t, {}}); }

  // Transfers whose finish command is done, in completion order.
  std::vector<transfer*> take_finished() {
    std::lock_guard<std::mutex> g(finished_mu_);
    std::vector<transfer*> out;
    out.swap(finished_);
    return out;
  }

 private:
  static constexpr std::size_t k_max_pending_bytes = std::size_t{64} << 20;
  struct command {
    enum class kind : std::uint8_t { write, restart, finish } what;
    transfer* t;
    std::vector<char> data;
  };
  struct lane {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<command> todo;
    bool stop = false;
  };

  void push(transfer* t, command c) {
    lane& l = lanes_[t->index % lanes_.size()];
    std::lock_guard<std::mutex> g(l.mu);
    l.todo.push_back(std::move(c));
    l.cv.notify_one();
  }

  void run(lane& l) {
    for (;;) {
      command c;
      {
        std::unique_lock<std::mutex> g(l.mu);
        l.cv.wait(g, [&] { return l.stop || !l.todo.empty(); });
        if (l.todo.empty()) return;  // stop, and nothing left
        c = std::move(l.todo.front());
        l.todo.pop_front();
      }
      execute(c);
    }
  }

  void execute(command& c) {
    transfer* t = c.t;
    switch (c.what) {
      case command::kind::write:
        if (!t->write_failed.load(std::memory_order_acquire) &&
            !t->part.write(c.data.data(), c.data.size())) {
          t->write_errno = t->part.os_errno();
          t->write_failed.store(true, std::memory_order_release);
        }
        {
          std::lock_guard<std::mutex> g(pending_mu_);
          pending_bytes_ -= c.data.size();
        }
        pending_cv_.notify_one();
        break;
      case command::kind::restart:
        t->part.restart();
        break;
      case command::kind::finish:
        settle(t);
        {
          std::lock_guard<std::mutex> g(finished_mu_);
          finished_.push_back(t);
        }
        curl_multi_wakeup(multi_);
        break;
    }
  }

  // Runs on the writer: the .part file's fate, and the final result.
  void settle(transfer* t) {
    detkit::transfer_result& r = t->result;
    if (t->write_failed.load(std::memory_order_acquire)) {
      t->part.close();
      r.status = detkit::transfer_status::write_error;
      r.os_errno = t->write_errno;
      r.detail = "cannot write '" + t->part.part_path() + "': " + std::strerror(t->write_errno);
    } else {
      switch (t->action) {
        case part_action::publish:
          queue_.publish(t->part, t->expected_total, r);
          break;
        case part_action::publish_whole:
          // "bytes */N" with N = what the .part holds: whole already (a run killed between the
          // last byte and the rename). Published without fetching a byte again.
          if (queue_.publish(t->part, t->range_total, r) != detkit::transfer_status::ok) {
            r.status = detkit::transfer_status::http_error;
            r.detail = "HTTP 416";
            t->part.discard();
          }
          break;
        case part_action::keep:
          t->part.close();
          break;
        case part_action::discard:
          t->part.discard();
          break;
      }
    }
    t->part_bytes = r.status == detkit::transfer_status::ok
                        ? 0
                        : static_cast<std::uint64_t>(std::max<std::int64_t>(
                              0, detkit::file_size_or_neg(t->part.part_path())));
  }

  CURLM* multi_;
  const detkit::download_queue& queue_;  // publish() only: const, reads the options
  std::deque<lane> lanes_;
  std::vector<std::thread> threads_;
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  std::size_t pending_bytes_ = 0;
  std::mutex finished_mu_;
  std::vector<transfer*> finished_;
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t len = size * n;
  const std::string_view line(data, len);
  t->got_headers = true;
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect or 100 Continue)
    t->have_range = false;
    t->range_total = -1;
    t->retry_after = 0;
  } else if (auto v = detkit::header_value(line, "Content-Range")) {
    if (auto cr = detkit::parse_content_range(*v)) {
      t->range_total = cr->complete_length;
      t->have_range = cr->has_range;
      t->range_start = cr->first;
    }
  } else if (auto ra = detkit::header_value(line, "Retry-After")) {
    if (auto secs = detkit::parse_retry_after(*ra)) t->retry_after = *secs;
  }
  return len;
}

// Decides, at the first body byte, whether and where the body goes.
void start_body(transfer* t) {
  t->body_started = true;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->http_code);
  curl_off_t cl = -1;
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
  if (t->http_code == 206) {
    if (!t->have_range || t->range_start != t->offset) {
      t->bad_range = true;  // a range we did not ask for: never splice it into the file
      return;
    }
    t->write_body = true;
    t->expected_total = t->range_total >= 0 ? t->range_total
                        : cl >= 0           ? static_cast<std::int64_t>(t->offset) + cl
                                            : -1;
  } else if (t->http_code == 200) {
    if (t->offset > 0) t->writers->restart(t);  // the server ignored Range: start over
    t->offset = 0;
    t->write_body = true;
    t->expected_total = cl >= 0 ? static_cast<std::int64_t>(cl) : -1;
  }
  // Any other status: the body is an error page; it is read and dropped.
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t len = size * n;
  if (!t->body_started) start_body(t);
  if (t->bad_range) return 0;  // aborts with CURLE_WRITE_ERROR
  if (!t->write_body) return len;
  if (t->write_failed.load(std::memory_order_acquire)) return 0;  // the disk refused: stop now
  t->writers->write(t, data, len);
  t->received += len;
  t->queue->note_bytes(len);
  return len;
}

// Maps how curl ended to a result and to what the writer does with the .part file.
void classify_end(transfer* t, CURLcode rc) {
  detkit::transfer_result& r = t->result;
  r.bytes_received = t->received;
  r.retry_after_s = t->retry_after;
  if (!t->body_started) {  // e.g. an empty body: still read the status
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->http_code);
  }
  r.http_code = static_cast<int>(t->http_code);
  r.detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
  if (t->write_body && t->http_code == 206 && t->offset > 0) r.resumed_from = t->offset;
  t->action = part_action::keep;
  switch (rc) {
    case CURLE_OK:
      if (t->http_code == 200 || t->http_code == 206) {
        t->action = part_action::publish;
      } else if (t->http_code == 416 && t->offset > 0 &&
                 t->range_total == static_cast<std::int64_t>(t->offset)) {
        t->action = part_action::publish_whole;
      } else {
        r.status = detkit::transfer_status::http_error;
        r.detail = "HTTP " + std::to_string(t->http_code);
        if (t->http_code == 416 || detkit::classify(r) == detkit::transfer_outcome::missing)
          t->action = part_action::discard;  // stale bytes of a changed or vanished object
      }
      break;
    case CURLE_WRITE_ERROR:  // a failed disk write (settled by the writer) or a bad range
      r.status = detkit::transfer_status::corrupt;
      r.detail = "server sent a range that was not asked for";
      break;
    case CURLE_PARTIAL_FILE:
      r.status = detkit::transfer_status::short_body;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      r.status = (t->received > 0 || t->got_headers) ? detkit::transfer_status::stall
                                                     : detkit::transfer_status::timeout;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      r.status = detkit::transfer_status::bad_request;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      r.status = detkit::transfer_status::cancelled;
      break;
    default:  // resets, refused connections, DNS, TLS hiccups, empty replies: retried
      r.status = detkit::transfer_status::connection;
      break;
  }
}

struct multi_deleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

}  // namespace

bool init_curl_once() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

detkit::result<void> run_transfers(detkit::download_queue& q, const curl_fetch_options& opts,
                                   const std::atomic<int>& stop, const fetch_hooks& hooks) {
  if (!init_curl_once())
    return detkit::make_error(detkit::errc::net_transfer, "libcurl initialisation failed");
  std::unique_ptr<CURLM, multi_deleter> multi(curl_multi_init());
  if (!multi) return detkit::make_error(detkit::errc::net_transfer, "curl_multi_init failed");
  const long jobs = std::max(1, opts.jobs);
  curl_multi_setopt(multi.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, jobs);
  curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, jobs);
  const std::string agent = opts.user_agent.empty()
                                ? std::string("detkit-download/" DETKIT_VERSION_STRING)
                                : opts.user_agent;

  // Writers: enough to overlap file creation on a slow disk, never more than the transfers.
  disk_writers writers(static_cast<unsigned>(std::min(jobs, 8L)), multi.get(), q);
  std::vector<std::unique_ptr<transfer>> running;    // on the network
  std::vector<std::unique_ptr<transfer>> finishing;  // with their writer
  auto hand_over = [&](transfer* t) {  // the network part is over: the writer settles the file
    curl_multi_remove_handle(multi.get(), t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    auto it =
        std::find_if(running.begin(), running.end(), [&](const auto& p) { return p.get() == t; });
    finishing.push_back(std::move(*it));
    running.erase(it);
    writers.finish(t);
  };
  auto collect = [&] {  // files the writers are done with: report them to the queue
    for (transfer* t : writers.take_finished()) {
      const auto out = q.finish(t->index, t->result, t->part_bytes, now_s());
      if (hooks.on_finish) hooks.on_finish(t->index, out, t->result);
      finishing.erase(std::find_if(finishing.begin(), finishing.end(),
                                   [&](const auto& p) { return p.get() == t; }));
    }
  };
  auto cancel_all = [&] {
    while (!running.empty()) {
      transfer* t = running.back().get();
      t->result.status = detkit::transfer_status::cancelled;
      t->result.bytes_received = t->received;
      t->action = part_action::keep;  // the next run resumes it with a Range request
      hand_over(t);
    }
  };

  double last_tick = now_s();
  bool aborted = false;
  while (!q.settled()) {
    const int level = stop.load(std::memory_order_relaxed);
    if (level >= static_cast<int>(stop_level::graceful)) q.stop();
    if ((level >= static_cast<int>(stop_level::now) || q.fatal()) && !aborted) {
      cancel_all();
      aborted = true;
    }
    while (static_cast<long>(running.size()) < jobs) {
      auto s = q.next(now_s());
      if (!s) break;
      const detkit::download_job& job = q.job(s->index);
      auto t = std::make_unique<transfer>(s->index, job.path);
      t->queue = &q;
      t->writers = &writers;
      t->offset = s->resume_offset;
      t->part.begin(t->offset);  // before any writer command: no other thread sees it yet
      t->easy = curl_easy_init();
      CURL* e = t->easy;
      if (!e) {
        t->result.status = detkit::transfer_status::bad_request;
        t->result.detail = "curl_easy_init failed (out of memory?)";
        running.push_back(std::move(t));
        continue;  // reported below, like a transfer that ended at once
      }
      curl_easy_setopt(e, CURLOPT_URL, job.url.c_str());
      curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string form; the bitmask form is deprecated there
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
      curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_s);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, opts.low_speed_bytes);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, opts.low_speed_time_s);
      if (opts.max_time_s > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT, opts.max_time_s);
      curl_easy_setopt(e, CURLOPT_USERAGENT, agent.c_str());
      curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
      // CURLOPT_RANGE, not RESUME_FROM: a 200 answer must restart the file, not fail the transfer.
      if (t->offset > 0) {
        const std::string range = std::to_string(t->offset) + "-";
        curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // copied by libcurl
      }
      transfer* raw = t.get();
      running.push_back(std::move(t));
      if (curl_multi_add_handle(multi.get(), e) != CURLM_OK) {
        raw->result.status = detkit::transfer_status::bad_request;
        raw->result.detail = "curl_multi_add_handle failed";
        hand_over(raw);
      }
    }
    // Transfers that could not even start (no easy handle): straight to their writer.
    for (std::size_t i = 0; i < running.size();) {
      transfer* t = running[i].get();
      if (t->easy != nullptr) {
        ++i;
        continue;
      }
      auto own = std::move(running[i]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      finishing.push_back(std::move(own));
      writers.finish(t);
    }

    // Progress after the free slots were filled, so `active` shows the transfers really running.
    if (hooks.on_tick && now_s() - last_tick >= hooks.tick_s) {
      hooks.on_tick();
      last_tick = now_s();
    }

    int still = 0;
    curl_multi_perform(multi.get(), &still);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      classify_end(t, msg->data.result);
      hand_over(t);
    }
    collect();

    const double now = now_s();
    if (q.settled()) break;
    // A slot is free and work is ready: fill it now rather than after the next socket event
    // (with every other transfer waiting on its server, that event can be a round trip away).
    if (static_cast<long>(running.size()) < jobs && q.has_ready(now)) continue;
    const int wait_ms = static_cast<int>(
        std::clamp(std::min(hooks.tick_s, q.next_ready_in(now)) * 1000.0, 0.0, 1000.0));
    curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr);  // writers wake it when done
  }
  return {};
}

}  // namespace detkit_download

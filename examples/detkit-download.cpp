// examples/detkit-download.cpp — parallel, resumable Open Images image download with the labels
// written from the same join.
//
// What the peers do and where this differs (reference notes openimages.md §2): downloader.py
// (5 threads, boto3) takes a `split/ImageID` list, aborts on the first 404 and never resumes; the
// recipe's downloadOI.py `rm -rf`s its folder and greps MIDs as substrings; OIDv4_ToolKit needs the
// AWS CLI and appends duplicate labels on rerun. Here: exact-MID joins on the streamed CSV, N
// transfers on libcurl's multi interface, `.part` + rename, Range resume, retries with backoff,
// 403/404 logged to missing.csv, and a label cache per split for the images that are present.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/attribute_options.hpp"
#include "common/cli.hpp"
#include "common/files.hpp"
#include "common/options.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/class_selection.hpp"
#include "detkit/download_queue.hpp"
#include "detkit/error.hpp"
#include "download/curl_fetcher.hpp"
#include "download/selection.hpp"

namespace {

using detkit_download::split_selection;

constexpr const char* k_default_base_url =
    "https://open-images-dataset.s3.amazonaws.com/{split}/{image_id}.jpg";

// Average bytes per image of the bucket (the CVDF 1024-px copies): 561 GB of train + validation
// + test over their 1,910,098 images (openimages.md §2). Used only for the --dry-run estimate.
constexpr double k_avg_image_bytes = 561e9 / 1910098.0;

struct options {
  std::vector<std::string> boxes, splits;
  std::string classes, target, image_list, out = "open-images", base_url = k_default_base_url;
  std::size_t limit = 0, max_per_class = 0;
  detkit::attribute_filter attributes{};
  detkit::rounding_policy rounding = detkit::rounding_policy::none;
  std::string settings;
  int jobs = 16, retries = 6;
  double retry_delay = 0.5, stall_timeout = 30, connect_timeout = 20, progress_every = 5;
  double labels_every = 30;
  bool retry_missing = false, no_labels = false, dry_run = false, quiet = false;
  std::uint64_t seed = 20181001;
};

std::atomic<int> g_stop{0};

extern "C" void on_signal(int sig) {
  // First Ctrl-C: graceful; second Ctrl-C or SIGTERM: now.
  const int level = sig == SIGTERM ? 2 : g_stop.load() + 1;
  g_stop.store(level > 2 ? 2 : level);
}

[[noreturn]] void die(int code, const std::string& msg) {
  detkit_cli::die("detkit-download", code, msg);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const auto end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

options parse_args(int argc, char** argv) {
  options o;
  std::vector<std::string> boxes;
  std::string rounding;
  detkit_cli::option_table t(
      "detkit-download",
      "usage: detkit-download [options]\n\n"
      "Downloads Open Images images for target classes, resumably, and writes a label cache per "
      "split.\n",
      "\nCtrl-C once: start nothing new, finish running transfers. Twice: stop now; .part files "
      "are kept\nand the next run resumes them with Range requests. Exit status: 0 all present or "
      "missing on the\nserver, 1 some files failed, 2 usage or input error, 3 local write error "
      "(disk full,\nunwritable folder), 130 interrupted.\n");
  t.section("Input:")
      .values("--boxes", "F...", &boxes,
              "bbox CSVs (paths or http(s) URLs, downloaded first, resumably), e.g.\n"
              "validation-annotations-bbox.csv; space- or comma-separated")
      .custom("--split", "S[,S...]",
              "the split of each --boxes file, or one split for all (default: validation)",
              [&o](const std::string& v) -> std::string {
                for (auto& sp : split_list(v)) {
                  if (!detkit_download::is_split_name(sp))
                    return "'" + sp + "' is not a plain folder name ([A-Za-z0-9_-]+)";
                  o.splits.push_back(sp);
                }
                return {};
              })
      .text("--classes", "F", &o.classes, "class descriptions CSV (path or URL)")
      .text("--target", "LIST", &o.target,
            "NAME,NAME,... (exact names, '_' for ' ', or MIDs), @FILE (one per line),\n"
            "or airbnb (the recipe's 30 amenity classes); category id = position")
      .text("--image-list", "FILE", &o.image_list,
            "with --boxes: keep only these ImageIDs. Alone: fetch exactly these lines\n"
            "'split/ImageID' (downloader.py's input format; no labels are written)");
  t.section("Selection (as detkit-prepare):");
  detkit_cli::add_attribute_options(t, o.attributes, o.settings);
  t.integer("--max-per-class", "N", &o.max_per_class, 1, 1e15,
            "stop adding images for a class once it has N (ImageID order, which is a\n"
            "fixed pseudo-random order); an image counts for all of its classes")
      .integer("--limit", "N", &o.limit, 1, 1e15, "at most N images per split")
      .choice("--rounding", &rounding, {"none", "recipe"},
              "label boxes: none (default) or recipe (float32, round half to even)", "MODE");
  t.section("Output and transfer:")
      .text("--out", "DIR", &o.out,
            "images in DIR/<split>/<ImageID>.jpg, DIR/<split>/missing.csv,\n"
            "DIR/<split>/labels.dkc (default: open-images)")
      .text("--base-url", "T", &o.base_url,
            "URL template with {split} and {image_id} (default: the public S3 bucket)")
      .integer("--jobs", "N", &o.jobs, 1, 1024, "concurrent transfers (default 16)")
      .integer("--retries", "N", &o.retries, 1, 100, "attempts per file (default 6)")
      .number("--retry-delay", "S", &o.retry_delay, 0, 3600,
              "first backoff delay in seconds (default 0.5; doubles, jittered, max 30)")
      .number("--stall-timeout", "S", &o.stall_timeout, 1, 3600,
              "a transfer under 1 KiB/s for S seconds is cut and retried (default 30)")
      .number("--connect-timeout", "S", &o.connect_timeout, 1, 3600, "(default 20)")
      .flag("--retry-missing", &o.retry_missing,
            "ask again for images an earlier run listed in missing.csv")
      .flag("--no-labels", &o.no_labels, "do not write the label cache")
      .number("--labels-every", "S", &o.labels_every, 0, 86400,
              "rewrite DIR/<split>/labels.dkc every S seconds while downloading, for the\n"
              "images already on disk (default 30; 0: only at the end)")
      .integer("--seed", "N", &o.seed, 0, 9e15, "seed of the retry jitter (default 20181001)")
      .flag("--dry-run", &o.dry_run,
            "print per-class image counts and the bytes it would fetch; no network")
      .number("--progress-every", "S", &o.progress_every, 0.1, 3600,
              "seconds between progress lines when stderr is not a terminal (default 5)")
      .flag("--quiet", &o.quiet, "no progress lines");
  t.parse(argc, argv);
  for (const auto& b : boxes)
    for (auto& f : split_list(b)) o.boxes.push_back(f);
  if (!rounding.empty()) {
    o.rounding = rounding == "recipe" ? detkit::rounding_policy::detectron2_recipe
                                      : detkit::rounding_policy::none;
    o.settings += ";rounding=" + rounding;
  }
  if (o.base_url.find("{image_id}") == std::string::npos)
    die(2, "--base-url must contain {image_id}, e.g. " + std::string(k_default_base_url));
  if (o.boxes.empty() && o.image_list.empty())
    die(2, "need --boxes, --classes and --target, or an --image-list; see --help");
  if (!o.boxes.empty()) {
    if (o.classes.empty() || o.target.empty())
      die(2, "--boxes needs --classes and --target; see --help");
    if (o.splits.empty()) o.splits.push_back("validation");
    if (o.splits.size() != o.boxes.size() && o.splits.size() != 1)
      die(2, "give one --split per --boxes file, or one split for all (" +
                 std::to_string(o.boxes.size()) + " boxes files, " +
                 std::to_string(o.splits.size()) + " splits)");
  } else if (!o.target.empty() || !o.splits.empty()) {
    die(2,
        "--image-list alone names the split of each image ('split/ImageID' lines); --target "
        "and --split need --boxes");
  }
  o.settings +=
      ";limit=" + std::to_string(o.limit) + ";max_per_class=" + std::to_string(o.max_per_class);
  return o;
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string human_duration(double s) {
  if (s < 0 || !std::isfinite(s)) return "?";
  const auto t = static_cast<long long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

std::string make_url(const std::string& tmpl, const std::string& split, const std::string& id) {
  std::string url = tmpl;
  for (auto [key, val] : {std::pair<std::string, std::string>{"{split}", split},
                          std::pair<std::string, std::string>{"{image_id}", id}}) {
    for (std::size_t p = url.find(key); p != std::string::npos; p = url.find(key, p + val.size()))
      url.replace(p, key.size(), val);
  }
  return url;
}

bool is_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// Creates `dir` (and parents) and proves it is writable, so a bad --out fails before any transfer.
void ensure_writable_dir(const std::string& dir) {
  detkit_cli::make_folder("detkit-download", dir, 3);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    die(3, "'" + dir + "' is not a folder");
  const std::string probe = dir + "/.detkit-download-probe." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die(3, "cannot write in '" + dir + "': " + std::strerror(errno));
  const bool ok = ::write(fd, "x", 1) == 1;
  const int werr = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!ok) die(3, "cannot write in '" + dir + "': " + std::strerror(werr));
}

// ---- Progress ------------------------------------------------------------------------------

/// Whether a progress line is the last one of a split (it then ends with a newline on a TTY).
enum class line_kind { live, last };

class progress_printer {
 public:
  progress_printer(std::string label, bool quiet, double every_s)
      : label_(std::move(label)),
        quiet_(quiet),
        tty_(::isatty(STDERR_FILENO) == 1),
        every_s_(every_s) {}

  void tick(detkit::download_queue& q, line_kind kind) {
    if (quiet_) return;
    const double t = now_s();
    const auto p = q.snapshot(t);
    const bool final_line = kind == line_kind::last;
    if (!tty_ && !final_line && t - last_ < every_s_) return;
    last_ = t;
    char line[256];
    std::snprintf(line, sizeof line,
                  "[%s] %zu/%zu images  %.2f MB/s  %.1f img/s  ETA %s  missing %zu  failed %zu  "
                  "retries %zu  active %zu",
                  label_.c_str(), p.finished, p.total, p.bytes_per_s / 1e6, p.images_per_s,
                  human_duration(p.eta_s).c_str(), p.missing, p.failed, p.retries, p.active);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K%s", line, final_line ? "\n" : "");
    } else {
      std::fprintf(stderr, "%s\n", line);
    }
    std::fflush(stderr);
  }
  // A message that must not be glued to the live line.
  void note(const std::string& msg) {
    std::fprintf(stderr, "%s%s\n", tty_ && !quiet_ ? "\r\033[K" : "", msg.c_str());
  }

 private:
  std::string label_;
  bool quiet_, tty_;
  double every_s_, last_ = 0;
};

// ---- missing.csv ---------------------------------------------------------------------------

using missing_rows = std::map<std::string, std::pair<int, std::string>>;  // ImageID -> status, URL

// Rows of an earlier run's missing.csv (header ImageID,Split,HTTPStatus,URL).
missing_rows read_missing(const std::string& path) {
  missing_rows ids;
  std::ifstream in(path);
  if (!in) return ids;
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n == 1 || line.empty()) continue;
    const std::string id = line.substr(0, line.find(','));
    if (!detkit_download::is_image_id(id)) {
      detkit::error e = detkit::make_error(detkit::errc::oi_bad_image_id,
                                           "expected 16 hex digits, got '" + id + "'", "ImageID");
      e.file = path;
      e.line = n;
      e.column = 1;
      die(2, e.to_string() + " (delete the file to ask the server again)");
    }
    // Split and URL are informational; the status is kept so a rerun rewrites the same row.
    int code = 404;
    const auto c1 = line.find(',');
    const auto c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    const auto c3 = c2 == std::string::npos ? c2 : line.find(',', c2 + 1);
    std::string url;
    if (c3 != std::string::npos) {
      code = std::atoi(line.substr(c2 + 1, c3 - c2 - 1).c_str());
      url = line.substr(c3 + 1);
    }
    ids[id] = {code, url};
  }
  return ids;
}

void write_missing(const std::string& path, const std::string& split, const missing_rows& rows) {
  std::string text = "ImageID,Split,HTTPStatus,URL\n";
  for (const auto& [id, st] : rows)
    text += id + "," + split + "," + std::to_string(st.first) + "," + st.second + "\n";
  if (auto r = detkit::try_write_file_atomically(path, text); !r) die(3, r.error().to_string());
}

// failed.csv: the files given up on in this run and why (removed when there are none), so a
// count in the summary can always be traced to names.
void write_failed(const std::string& path, const detkit::download_queue& q) {
  std::string text = "ImageID,Attempts,Reason,HTTPStatus,Detail\n";
  std::size_t n = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q.state(i) != detkit::job_state::failed) continue;
    const auto& r = q.last_result(i);
    std::string detail = r.detail;
    for (char& c : detail)
      if (c == ',' || c == '\n' || c == '"') c = ' ';
    text += q.job(i).key + "," + std::to_string(q.attempts(i)) + "," + detkit::to_string(r.status) +
            "," + std::to_string(r.http_code) + "," + detail + "\n";
    ++n;
  }
  if (n == 0) {
    ::unlink(path.c_str());
    return;
  }
  if (auto r = detkit::try_write_file_atomically(path, text); !r) die(3, r.error().to_string());
}

// ---- CSVs given as URLs ----------------------------------------------------------------------

// Downloads a CSV (resumably: .part + Range) into `dir` and returns the local path.
std::string fetch_csv(const std::string& url, const std::string& dir, const options& o) {
  std::string name = url.substr(url.find_last_of('/') + 1);
  if (auto q = name.find('?'); q != std::string::npos) name.resize(q);
  if (name.empty()) name = "download.csv";
  ensure_writable_dir(dir);
  detkit::download_queue_options qo;
  qo.retry.max_attempts = o.retries;
  qo.retry.base_delay_s = o.retry_delay;
  qo.seed = o.seed;
  detkit::download_queue q({{url, dir + "/" + name, name}}, qo);
  q.scan_existing();
  if (q.state(0) == detkit::job_state::skipped) return q.job(0).path;
  detkit_download::curl_fetch_options fo;
  fo.jobs = 1;
  fo.low_speed_time_s = static_cast<long>(o.stall_timeout);
  fo.connect_timeout_s = static_cast<long>(o.connect_timeout);
  progress_printer prog(name, o.quiet, o.progress_every);
  detkit_download::fetch_hooks hooks;
  hooks.on_tick = [&] { prog.tick(q, line_kind::live); };
  q.begin(now_s());
  if (auto r = detkit_download::run_transfers(q, fo, g_stop, hooks); !r)
    die(1, r.error().to_string());
  prog.tick(q, line_kind::last);
  if (q.state(0) != detkit::job_state::done) {
    const auto& lr = q.last_result(0);
    if (g_stop.load() != 0) die(130, "interrupted while fetching " + url + " (rerun to resume)");
    die(q.fatal() ? 3 : 1, "cannot download " + url + ": " + lr.detail);
  }
  return q.job(0).path;
}

// ---- One split ---------------------------------------------------------------------------------

struct split_totals {
  detkit::download_summary sum;
  bool interrupted = false, fatal = false;
};

split_totals download_split(split_selection& sel, const options& o) {
  const std::string dir = o.out + "/" + sel.split;
  ensure_writable_dir(dir);
  const std::string missing_path = dir + "/missing.csv";
  // Earlier rows are kept for images this run does not ask about (another --limit, say).
  missing_rows rows = read_missing(missing_path);
  const missing_rows known_missing = o.retry_missing ? missing_rows{} : rows;

  std::vector<detkit::download_job> jobs;
  jobs.reserve(sel.image_ids.size());
  for (const auto& id : sel.image_ids)
    jobs.push_back({make_url(o.base_url, sel.split, id), dir + "/" + id + ".jpg", id});
  detkit::download_queue_options qo;
  qo.retry.max_attempts = o.retries;
  qo.retry.base_delay_s = o.retry_delay;
  qo.seed = o.seed;
  qo.is_complete = detkit::is_complete_jpeg_file;
  detkit::download_queue q(std::move(jobs), qo);
  q.scan_existing();
  for (std::size_t i = 0; i < q.size(); ++i)
    if (known_missing.count(q.job(i).key)) q.mark_known_missing(i);

  detkit_download::curl_fetch_options fo;
  fo.jobs = o.jobs;
  fo.low_speed_time_s = static_cast<long>(o.stall_timeout);
  fo.connect_timeout_s = static_cast<long>(o.connect_timeout);
  progress_printer prog(sel.split, o.quiet, o.progress_every);

  // Labels for the images on disk, rewritten (atomically) while the download runs, so they exist
  // as soon as the images do; image sizes are read from each JPEG header once.
  const bool labels = !o.no_labels && !sel.labels.classes.empty();
  std::vector<detkit::image_size> sizes;
  std::size_t labelled = static_cast<std::size_t>(-1);  // present count at the last write
  bool labels_failed = false;
  auto write_labels = [&](line_kind kind) {
    std::vector<bool> present(q.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
      const auto st = q.state(i);
      present[i] = st == detkit::job_state::done || st == detkit::job_state::skipped;
      n += present[i] ? 1 : 0;
    }
    if (n == labelled && kind == line_kind::live) return;
    labelled = n;
    auto r = detkit_download::write_split_labels(sel, dir, present, sizes);
    if (!r) {
      prog.note("labels not written: " + r.error().to_string());
      labels_failed = labels_failed || r.error().code == detkit::errc::io_write;
    } else if (kind == line_kind::last) {
      prog.note("labels: " + *r);
    }
  };
  double last_labels = now_s();

  int announced = 0;
  detkit_download::fetch_hooks hooks;
  hooks.on_tick = [&] {
    const int level = g_stop.load();
    if (level > announced) {
      announced = level;
      prog.note(level == 1 ? "stopping: finishing running transfers (Ctrl-C again to stop now)"
                           : "stopping now: partial files are kept as .part and resumed next run");
    }
    prog.tick(q, line_kind::live);
    if (labels && o.labels_every > 0 && now_s() - last_labels >= o.labels_every) {
      write_labels(line_kind::live);
      last_labels = now_s();
    }
  };
  std::size_t failures_shown = 0;
  hooks.on_finish = [&](std::size_t i, detkit::transfer_outcome out,
                        const detkit::transfer_result& r) {
    if (out != detkit::transfer_outcome::failed) return;
    // The first few by name; all of them are in failed.csv (a dead network must not flood).
    if (++failures_shown <= 10)
      prog.note("failed: " + q.job(i).key + " after " + std::to_string(q.attempts(i)) +
                " attempt(s): " + detkit::to_string(r.status) + ": " + r.detail);
    else if (failures_shown == 11)
      prog.note("more failures: see " + dir + "/failed.csv at the end");
  };
  q.begin(now_s());
  if (auto r = detkit_download::run_transfers(q, fo, g_stop, hooks); !r)
    die(1, r.error().to_string());
  prog.tick(q, line_kind::last);

  // missing.csv: this run's 403/404s plus the earlier ones that are still wanted.
  for (std::size_t i = 0; i < q.size(); ++i) {
    const auto st = q.state(i);
    if (st == detkit::job_state::done || st == detkit::job_state::skipped) rows.erase(q.job(i).key);
    if (st != detkit::job_state::missing || q.attempts(i) == 0) continue;  // 0: known, row kept
    rows[q.job(i).key] = {q.last_result(i).http_code, q.job(i).url};
  }
  if (!rows.empty() || detkit::file_size_or_neg(missing_path) >= 0)
    write_missing(missing_path, sel.split, rows);
  write_failed(dir + "/failed.csv", q);

  split_totals t;
  t.sum = q.summary(now_s());
  t.interrupted = g_stop.load() != 0;
  t.fatal = q.fatal();
  if (t.fatal) {
    for (std::size_t i = 0; i < q.size(); ++i) {
      const auto& lr = q.last_result(i);
      if (lr.status != detkit::transfer_status::write_error) continue;
      std::string msg = "stopped: " + lr.detail;
      if (detkit::is_disk_full_errno(lr.os_errno))
        msg +=
            "\n  the disk is full: free space (or choose another --out) and rerun; completed "
            "files are kept and the rest resumes";
      else
        msg += "\n  check that '" + dir + "' is writable, then rerun; completed files are kept";
      prog.note(msg);
      break;
    }
  }

  if (labels) {
    write_labels(line_kind::last);
    t.fatal = t.fatal || labels_failed;
  }
  return t;
}

void print_summary(const std::string& split, const split_totals& t) {
  const auto& s = t.sum;
  std::printf(
      "%s: %zu images: %zu downloaded, %zu skipped (already complete), %zu missing on the "
      "server%s, %zu failed, %zu not started; %s received (%s not fetched again thanks to "
      "Range resume, %zu resumed), %zu retries, %s%s\n",
      split.c_str(), s.total, s.downloaded, s.skipped, s.missing + s.missing_known,
      s.missing_known
          ? (" (" + std::to_string(s.missing_known) + " known from missing.csv)").c_str()
          : "",
      s.failed, s.pending, human_bytes(static_cast<double>(s.bytes)).c_str(),
      human_bytes(static_cast<double>(s.bytes_resumed)).c_str(), s.resumed, s.retries,
      human_duration(s.seconds).c_str(), t.interrupted ? " (interrupted)" : "");
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse_args(argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (!o.dry_run && !detkit_download::init_curl_once()) die(1, "libcurl cannot start");

  // CSV inputs given as URLs are downloaded first (resumable), next to the images.
  std::vector<std::string*> inputs{&o.classes, &o.image_list};
  for (auto& b : o.boxes) inputs.push_back(&b);
  for (auto* p : inputs) {
    if (!is_url(*p)) continue;
    if (o.dry_run) die(2, "--dry-run uses no network: give local CSV paths, not " + *p);
    *p = fetch_csv(*p, o.out + "/csv", o);
  }

  std::vector<split_selection> selections;
  {
    detkit_download::selection_request req;
    req.boxes = o.boxes;
    req.splits = o.splits;
    req.classes_path = o.classes;
    req.target = o.target;
    req.image_list = o.image_list;
    req.limit = o.limit;
    req.max_per_class = o.max_per_class;
    req.attributes = o.attributes;
    req.rounding = o.rounding;
    req.settings = o.settings;
    auto sel = detkit_download::select_images(req);
    if (!sel) die(2, sel.error().to_string());
    selections = std::move(*sel);
  }

  if (o.dry_run) {
    double total_bytes = 0;
    std::size_t total_images = 0;
    for (const auto& sel : selections) {
      std::size_t present = 0;
      for (const auto& id : sel.image_ids)
        if (detkit::is_complete_jpeg_file(o.out + "/" + sel.split + "/" + id + ".jpg")) ++present;
      std::printf("%s: %zu images selected", sel.split.c_str(), sel.image_ids.size());
      if (sel.boxes_kept > 0) std::printf(", %zu boxes", sel.boxes_kept);
      std::printf(" (%zu already in %s/%s)\n", present, o.out.c_str(), sel.split.c_str());
      if (!sel.per_class.empty()) {
        std::printf("  %-30s %8s %8s\n", "class", "images", "boxes");
        for (const auto& c : sel.per_class)
          std::printf("  %-30s %8zu %8zu\n", c.name.c_str(), c.images, c.boxes);
      }
      const double bytes = static_cast<double>(sel.image_ids.size() - present) * k_avg_image_bytes;
      std::printf(
          "  would fetch %zu images, about %s (estimate: %.0f KB per image, the bucket's "
          "average)\n",
          sel.image_ids.size() - present, human_bytes(bytes).c_str(), k_avg_image_bytes / 1e3);
      total_bytes += bytes;
      total_images += sel.image_ids.size() - present;
    }
    std::printf("total: would fetch %zu images, about %s; no network used (--dry-run)\n",
                total_images, human_bytes(total_bytes).c_str());
    return 0;
  }

  bool any_failed = false, interrupted = false, fatal = false;
  for (auto& sel : selections) {
    if (g_stop.load() != 0) break;
    const split_totals t = download_split(sel, o);
    print_summary(sel.split, t);
    any_failed = any_failed || t.sum.failed > 0;
    interrupted = interrupted || t.interrupted;
    fatal = fatal || t.fatal;
    if (fatal) break;
  }
  std::fflush(stdout);
  if (fatal) return 3;
  if (interrupted) return 130;
  return any_failed ? 1 : 0;
}

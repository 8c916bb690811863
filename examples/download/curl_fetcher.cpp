// examples/download/curl_fetcher.cpp — the libcurl multi loop behind detkit-download (see the
// header). Mirrors the structure of curl's own `--parallel` tool code (curl/src/tool_operate.c:
// add transfers up to the limit, curl_multi_perform, drain CURLMSG_DONE, curl_multi_poll).
#include "download/curl_fetcher.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace detkit_download {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char a = line[i], b = name[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  return s;
}

template <class T>
bool parse_uint(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// One running transfer.
struct transfer {
  transfer(std::size_t i, std::string path) : index(i), part(std::move(path)) {}
  std::size_t index;
  detkit::part_file part;
  CURL* easy = nullptr;
  detkit::download_queue* queue = nullptr;
  std::uint64_t offset = 0;  // what we asked for with Range
  // From the headers of the last response (redirects reset them).
  bool have_range = false;
  std::uint64_t range_start = 0;
  std::int64_t range_total = -1;
  double retry_after = 0;
  // Body handling, decided at the first body byte.
  bool body_started = false, write_body = false;
  bool write_failed = false, bad_range = false;
  long http_code = 0;
  std::int64_t expected_total = -1;
  std::uint64_t received = 0;
  bool got_headers = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  t->got_headers = true;
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect or 100 Continue)
    t->have_range = false;
    t->range_total = -1;
    t->retry_after = 0;
  } else if (iequals_prefix(line, "content-range:")) {
    // "bytes START-END/TOTAL" (TOTAL may be '*'), or "bytes */TOTAL" on a 416
    std::string_view v = trim(line.substr(14));
    if (v.rfind("bytes ", 0) == 0) {
      v.remove_prefix(6);
      const auto dash = v.find('-'), slash = v.find('/');
      std::uint64_t start = 0, total = 0;
      if (slash != std::string_view::npos && parse_uint(v.substr(slash + 1), total))
        t->range_total = static_cast<std::int64_t>(total);
      if (dash != std::string_view::npos && slash != std::string_view::npos && dash < slash &&
          parse_uint(v.substr(0, dash), start)) {
        t->have_range = true;
        t->range_start = start;
      }
    }
  } else if (iequals_prefix(line, "retry-after:")) {
    unsigned secs = 0;
    if (parse_uint(trim(line.substr(12)), secs)) t->retry_after = secs;
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
    if (t->offset > 0) t->part.restart();  // the server ignored Range: start over
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
  if (!t->part.write(data, len)) {
    t->write_failed = true;
    return 0;
  }
  t->received += len;
  t->queue->note_bytes(len);
  return len;
}

// Maps how curl ended to a transfer_result, publishing the file when the body is complete.
detkit::transfer_result finish_result(transfer* t, CURLcode rc, const detkit::download_queue& q) {
  detkit::transfer_result r;
  r.bytes_received = t->received;
  r.retry_after_s = t->retry_after;
  if (!t->body_started) {  // e.g. an empty body: still read the status
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->http_code);
  }
  r.http_code = static_cast<int>(t->http_code);
  r.detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
  if (t->write_body && t->http_code == 206 && t->offset > 0) r.resumed_from = t->offset;
  switch (rc) {
    case CURLE_OK:
      if (t->http_code == 200 || t->http_code == 206) {
        q.publish(t->part, t->expected_total, r);
      } else if (t->http_code == 416 && t->offset > 0 &&
                 t->range_total == static_cast<std::int64_t>(t->offset) &&
                 q.publish(t->part, t->range_total, r) == detkit::transfer_status::ok) {
        // "bytes */N" with N = what the .part holds: it was whole already (a run killed between
        // the last byte and the rename). Published without fetching a byte again.
      } else {
        r.status = detkit::transfer_status::http_error;
        r.detail = "HTTP " + std::to_string(t->http_code);
      }
      break;
    case CURLE_WRITE_ERROR:
      if (t->write_failed) {
        r.status = detkit::transfer_status::write_error;
        r.os_errno = t->part.os_errno();
        r.detail =
            std::string("cannot write '") + t->part.part_path() + "': " + std::strerror(r.os_errno);
      } else {
        r.status = detkit::transfer_status::corrupt;
        r.detail = "server sent a range that was not asked for";
      }
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
  return r;
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

  std::vector<std::unique_ptr<transfer>> running;
  auto release = [&](transfer* t) {
    curl_multi_remove_handle(multi.get(), t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    t->part.close();
  };
  auto finish = [&](transfer* t, const detkit::transfer_result& r) {
    if (r.status == detkit::transfer_status::http_error &&
        (r.http_code == 416 || detkit::classify(r) == detkit::transfer_outcome::missing))
      t->part.discard();  // stale bytes of a changed or vanished object
    const std::uint64_t part_bytes =
        r.status == detkit::transfer_status::ok
            ? 0
            : std::max<std::int64_t>(0, detkit::file_size_or_neg(t->part.part_path()));
    const auto out = q.finish(t->index, r, static_cast<std::uint64_t>(part_bytes), now_s());
    if (hooks.on_finish) hooks.on_finish(t->index, out, r);
  };
  auto cancel_all = [&] {
    for (auto& t : running) {
      release(t.get());
      detkit::transfer_result r;
      r.status = detkit::transfer_status::cancelled;
      r.bytes_received = t->received;
      finish(t.get(), r);
    }
    running.clear();
  };

  double last_tick = now_s();
  bool aborted = false;
  while (!q.settled()) {
    const int level = stop.load(std::memory_order_relaxed);
    if (level >= static_cast<int>(stop_level::graceful)) q.stop();
    if ((level >= static_cast<int>(stop_level::now) || q.fatal()) && !aborted) {
      cancel_all();
      aborted = true;
      continue;
    }
    while (static_cast<long>(running.size()) < jobs) {
      auto s = q.next(now_s());
      if (!s) break;
      const detkit::download_job& job = q.job(s->index);
      auto t = std::make_unique<transfer>(s->index, job.path);
      t->queue = &q;
      t->offset = s->resume_offset;
      t->part.begin(t->offset);
      t->easy = curl_easy_init();
      if (!t->easy) {
        cancel_all();
        return detkit::make_error(detkit::errc::net_transfer, "curl_easy_init failed");
      }
      CURL* e = t->easy;
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
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_s);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, opts.low_speed_bytes);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, opts.low_speed_time_s);
      if (opts.max_time_s > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT, opts.max_time_s);
      curl_easy_setopt(e, CURLOPT_USERAGENT, agent.c_str());
      curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
      // CURLOPT_RANGE, not RESUME_FROM: a 200 answer must restart the file, not fail the transfer.
      std::string range;
      if (t->offset > 0) {
        range = std::to_string(t->offset) + "-";
        curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // copied by libcurl
      }
      if (curl_multi_add_handle(multi.get(), e) != CURLM_OK) {
        curl_easy_cleanup(e);
        t->easy = nullptr;
        detkit::transfer_result r;
        r.status = detkit::transfer_status::bad_request;
        r.detail = "curl_multi_add_handle failed";
        finish(t.get(), r);
        continue;
      }
      running.push_back(std::move(t));
    }

    // Progress after the free slots were filled, so `active` shows the transfers really running.
    if (hooks.on_tick && now_s() - last_tick >= hooks.tick_s) {
      hooks.on_tick();
      last_tick = now_s();
    }

    int still = 0;
    curl_multi_perform(multi.get(), &still);
    int left = 0;
    bool finished_any = false;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      finished_any = true;
      transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      const CURLcode rc = msg->data.result;
      const detkit::transfer_result r = finish_result(t, rc, q);
      release(t);
      finish(t, r);
      running.erase(std::find_if(running.begin(), running.end(),
                                 [&](const auto& p) { return p.get() == t; }));
    }

    const double now = now_s();
    if (q.settled()) break;
    // A slot just freed: fill it now rather than after the next socket event (with every other
    // transfer waiting on its server, that event can be a whole round trip away).
    if (finished_any && static_cast<long>(running.size()) < jobs && q.has_ready(now)) continue;
    double wait = std::min(hooks.tick_s, q.next_ready_in(now));
    if (running.empty() && std::isinf(q.next_ready_in(now)) && q.stopped()) wait = 0;
    const int wait_ms = static_cast<int>(std::clamp(wait * 1000.0, 0.0, 1000.0));
    curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr);
  }
  return {};
}

}  // namespace detkit_download

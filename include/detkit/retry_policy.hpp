// detkit/retry_policy.hpp — what a finished transfer means and when a failed one is tried again.
//
// The rules answer the known failures of the Open Images download tools (reference notes
// openimages.md §2): the official downloader.py aborts on the first 404, monocongo/openimages#14
// dies on transient S3 errors. Here a 403/404/410 is "missing" (logged, never fatal); 5xx, 408,
// 429, timeouts, resets, stalls and short bodies are retried with exponential backoff and jitter;
// a local write failure (disk full, read-only, permission) is fatal, because every later file
// would fail the same way. No I/O and no libcurl here: the transfer layer fills transfer_result.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <string>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE

/// How one transfer attempt ended, as seen by the transfer layer.
enum class transfer_status : std::uint8_t {
  ok,           // a complete 200/206 body landed in the .part file (sizes checked)
  http_error,   // the server answered with a status that is not 200/206 (see http_code)
  timeout,      // no connection or no response in time
  connection,   // connection refused, reset, closed before any byte, DNS failure
  stall,        // the body slowed below the low-speed limit (a hung transfer)
  short_body,   // fewer bytes than Content-Length / Content-Range announced
  corrupt,      // the body arrived whole but is not a complete file (e.g. a JPEG without EOI)
  write_error,  // writing the .part file or renaming it failed (see os_errno)
  bad_request,  // the request itself is wrong (malformed URL, unsupported protocol)
  cancelled,    // stopped by us (Ctrl-C); not an attempt
};

/// What the queue does with a job after an attempt.
enum class transfer_outcome : std::uint8_t {
  done,     // the file is in place
  retry,    // try again after a backoff delay (if attempts remain)
  missing,  // the server says the file does not exist: record it, never fatal
  failed,   // give up on this file, continue with the others
  fatal,    // stop the whole run (local disk full / unwritable)
  requeue,  // not an attempt (cancelled): back to pending with no delay and no count
};

struct transfer_result {
  transfer_status status = transfer_status::ok;
  int http_code = 0;                 // last HTTP status, 0 when none was received
  int os_errno = 0;                  // for write_error: errno of the failed call
  double retry_after_s = 0;          // the server's Retry-After, 0 when absent
  std::uint64_t bytes_received = 0;  // body bytes that arrived in this attempt
  std::uint64_t resumed_from = 0;    // > 0 when the server honoured `Range: bytes=N-` (N)
  std::string detail;                // human-readable reason (curl's message, the OS error)
};

/// Backoff and attempt limits. The defaults suit S3: a few quick retries, then up to 30 s apart.
struct retry_policy {
  int max_attempts = 6;       // tries per file in one run, the first one included
  double base_delay_s = 0.5;  // delay after the first failure
  double multiplier = 2.0;    // growth per further failure
  double max_delay_s = 30.0;  // cap on one delay (also caps Retry-After)
  double jitter = 0.5;        // fraction of the delay that is random: d*(1-j) + U(0, d*j)
};

/// Classifies a finished attempt. Pure function of the result; attempt counting is the queue's.
inline transfer_outcome classify(const transfer_result& r) noexcept {
  switch (r.status) {
    case transfer_status::ok:
      return transfer_outcome::done;
    case transfer_status::http_error: {
      const int c = r.http_code;
      if (c == 403 || c == 404 || c == 410) return transfer_outcome::missing;  // S3: 403 = no key
      if (c == 408 || c == 425 || c == 429 || c >= 500) return transfer_outcome::retry;
      // 416: our .part is longer than the object (it changed); the queue restarts from byte 0.
      if (c == 416) return transfer_outcome::retry;
      return transfer_outcome::failed;  // other 4xx, 3xx we did not follow: retrying won't help
    }
    case transfer_status::timeout:
    case transfer_status::connection:
    case transfer_status::stall:
    case transfer_status::short_body:
    case transfer_status::corrupt:
      return transfer_outcome::retry;
    case transfer_status::write_error:
      return transfer_outcome::fatal;
    case transfer_status::bad_request:
      return transfer_outcome::failed;
    case transfer_status::cancelled:
      return transfer_outcome::requeue;
  }
  return transfer_outcome::failed;
}

/// Short name for logs and missing.csv.
inline const char* to_string(transfer_status s) noexcept {
  switch (s) {
    case transfer_status::ok:
      return "ok";
    case transfer_status::http_error:
      return "http";
    case transfer_status::timeout:
      return "timeout";
    case transfer_status::connection:
      return "connection";
    case transfer_status::stall:
      return "stall";
    case transfer_status::short_body:
      return "short-body";
    case transfer_status::corrupt:
      return "corrupt";
    case transfer_status::write_error:
      return "write-error";
    case transfer_status::bad_request:
      return "bad-request";
    case transfer_status::cancelled:
      return "cancelled";
  }
  return "?";
}

namespace detail {
/// splitmix64: a tiny seeded generator, so a run's retry schedule is reproducible.
inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/// Uniform in [0, 1) from the top 53 bits.
inline double uniform01(std::uint64_t& state) noexcept {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
}
}  // namespace detail

/// Delay before attempt `failures + 1`, after `failures` (>= 1) failed attempts. `rng_state` is
/// advanced; the same seed gives the same schedule. A Retry-After longer than the computed delay
/// wins, capped at max_delay_s.
inline double backoff_delay_s(const retry_policy& p, int failures, std::uint64_t& rng_state,
                              double retry_after_s = 0) noexcept {
  const int n = std::max(failures, 1) - 1;
  double d = p.base_delay_s * std::pow(p.multiplier, static_cast<double>(std::min(n, 60)));
  d = std::min(d, p.max_delay_s);
  const double j = std::clamp(p.jitter, 0.0, 1.0);
  d = d * (1.0 - j) + detail::uniform01(rng_state) * d * j;
  if (retry_after_s > d) d = std::min(retry_after_s, p.max_delay_s);
  return std::max(d, 0.0);
}

/// True for errno values that mean "this disk will not take more data" (for clearer messages).
inline bool is_disk_full_errno(int e) noexcept {
  return e == ENOSPC
#ifdef EDQUOT
         || e == EDQUOT
#endif
         || e == EFBIG;
}

DETKIT_END_NAMESPACE

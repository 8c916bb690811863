// examples/download/curl_fetcher.hpp — runs a detkit::download_queue on libcurl's multi interface.
//
// The only file of detkit-download that includes curl. N transfers run at once on one network
// thread (like `curl --parallel`); their `.part` files are written as bytes arrive by a few
// ordered writer threads, so a slow disk does not hold back the network; a stalled transfer is
// cut by curl's low-speed limit; a resumed file asks for `Range: bytes=N-` and is restarted from
// byte 0 when the server answers 200 instead of 206; the body length is checked against
// Content-Length / Content-Range before the `.part` file is renamed.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "detkit/download_queue.hpp"
#include "detkit/error.hpp"

namespace detkit_download {

struct curl_fetch_options {
  int jobs = 16;                // concurrent transfers
  long connect_timeout_s = 20;  // TCP/TLS connect
  long low_speed_bytes = 1024;  // a transfer below this many bytes/s ...
  long low_speed_time_s = 30;   // ... for this many seconds is a stall, cut and retried
  long max_time_s = 0;          // cap on one transfer (0: none; the stall limit covers hangs)
  std::string user_agent;       // empty: "detkit-download/<version>"
};

/// What the user asked for through the stop flag (a signal handler sets it).
enum class stop_level : int {
  none = 0,      // keep going
  graceful = 1,  // start nothing new, let running transfers finish
  now = 2,       // also abort running transfers (their .part files stay, to be resumed)
};

struct fetch_hooks {
  double tick_s = 0.25;
  std::function<void()> on_tick;  // progress display
  std::function<void(std::size_t index, detkit::transfer_outcome, const detkit::transfer_result&)>
      on_finish;  // every finished attempt (retries included)
};

/// Runs transfers until the queue is settled. Errors only when libcurl cannot be set up; per-file
/// failures and a fatal local write error are in the queue (q.fatal(), q.last_result(i)).
[[nodiscard]] detkit::result<void> run_transfers(detkit::download_queue& q,
                                                 const curl_fetch_options& opts,
                                                 const std::atomic<int>& stop,
                                                 const fetch_hooks& hooks);

/// Call once before any transfer (curl_global_init); returns false when libcurl cannot start.
bool init_curl_once();

}  // namespace detkit_download

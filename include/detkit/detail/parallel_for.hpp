// detkit/detail/parallel_for.hpp — the evaluator's loop over categories on several threads
// (dynamic scheduling, the first exception rethrown on the caller). Not API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>

#include "detkit/config.hpp"
#include "detkit/detail/run_on_threads.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {
/// `threads` as given, or all cores for 0.
inline unsigned resolve_threads(unsigned threads) { return threads ? threads : hardware_threads(); }

/// Runs fn(i) for i in [0, n) on `threads` threads (dynamic scheduling); rethrows the first
/// exception on the calling thread.
template <class Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  threads = resolve_threads(threads);
  if (threads <= 1 || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto worker = [&](std::size_t) {
    try {
      for (std::size_t i = next++; i < n && !failed.load(); i = next++) fn(i);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  run_on_threads(std::min<std::size_t>(threads, n), worker);
  if (failure) std::rethrow_exception(failure);
}
}  // namespace detail
DETKIT_END_NAMESPACE

// detkit/detail/parallel_for.hpp — the evaluator's loop over categories on several threads
// (dynamic scheduling, the first exception rethrown on the caller). Not API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {
/// `threads` as given, or all cores for 0.
inline unsigned resolve_threads(unsigned threads) {
  return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

/// Runs fn(i) for i in [0, n) on `threads` threads (dynamic scheduling); rethrows the first
/// exception on the calling thread.
template <class Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads <= 1 || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto worker = [&]() {
    try {
      for (std::size_t i = next++; i < n && !failed.load(); i = next++) fn(i);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  const std::size_t extra = std::min<std::size_t>(threads, n) - 1;
  pool.reserve(extra);
  for (std::size_t t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}
}  // namespace detail
DETKIT_END_NAMESPACE

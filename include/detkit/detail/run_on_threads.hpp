// detkit/detail/run_on_threads.hpp — the one thread pattern detkit uses: run fn(0) … fn(n-1) at
// once, fn(0) on the calling thread, and wait for all of them. Written on POSIX threads because
// <thread> costs every file that includes a detkit reader about 0.1 s of parsing and
// this is all detkit needs from it. A thread that cannot be started (a process at its thread
// limit) is not an error: the caller runs that index itself afterwards. As with std::thread, an
// exception escaping fn on another thread ends the program; callers catch inside fn.
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

/// Cores online (what std::thread::hardware_concurrency() reports), at least 1.
inline unsigned hardware_threads() noexcept {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}

template <class Fn>
struct thread_task {
  Fn* fn;
  std::size_t index;
};

template <class Fn>
void* run_thread_task(void* p) noexcept {
  auto* task = static_cast<thread_task<Fn>*>(p);
  (*task->fn)(task->index);
  return nullptr;
}

/// Calls fn(i) for every i in [0, n), concurrently, and returns when all calls have returned.
template <class Fn>
void run_on_threads(std::size_t n, Fn& fn) {
  if (n == 0) return;
  std::vector<thread_task<Fn>> tasks(n, thread_task<Fn>{&fn, 0});
  std::vector<pthread_t> started;
  started.reserve(n - 1);
  std::size_t run_here_from = n;
  for (std::size_t i = 1; i < n; ++i) {
    tasks[i].index = i;
    pthread_t thread;
    if (::pthread_create(&thread, nullptr, &run_thread_task<Fn>, &tasks[i]) != 0) {
      run_here_from = i;
      break;
    }
    started.push_back(thread);
  }
  fn(std::size_t{0});
  for (std::size_t i = run_here_from; i < n; ++i) fn(i);
  for (pthread_t thread : started) ::pthread_join(thread, nullptr);
}

}  // namespace detail
DETKIT_END_NAMESPACE

// detkit/config.hpp — every user-facing macro in one list, and the version.
//
// Macros a user may define before including any detkit header:
//   DETKIT_NO_THREADS      build the parallel CSV scan and cache check single-threaded.
//   DETKIT_NO_AVX2         no run-time AVX2 paths (checksums, cache box check, CSV line scan);
//                          DETKIT_NO_RUNTIME_DISPATCH turns off the CSV one only.
//   DETKIT_ASSERTIONS      turn DETKIT_ASSERT on in release builds (it is on when NDEBUG is not set).
// Build choices made by CMake (never needed by header users):
//   DETKIT_CUDA            the CUDA RetinaNet target is being built (cuda/ only).
#pragma once

#define DETKIT_VERSION_MAJOR 0
#define DETKIT_VERSION_MINOR 1
#define DETKIT_VERSION_PATCH 0
#define DETKIT_VERSION_STRING "0.1.0"

// Two different detkit versions linked into one program fail at link time, not at run time.
#define DETKIT_ABI_NAMESPACE v0_1

#define DETKIT_BEGIN_NAMESPACE \
  namespace detkit {           \
  inline namespace DETKIT_ABI_NAMESPACE {
#define DETKIT_END_NAMESPACE \
  }                          \
  }

#if defined(__GNUC__) || defined(__clang__)
#define DETKIT_NOINLINE __attribute__((noinline))
#define DETKIT_LIKELY(x) __builtin_expect(!!(x), 1)
#define DETKIT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DETKIT_NOINLINE
#define DETKIT_LIKELY(x) (x)
#define DETKIT_UNLIKELY(x) (x)
#endif

#if !defined(NDEBUG) || defined(DETKIT_ASSERTIONS)
#include <stdexcept>
// Programmer errors only; never used on data read from files. Throws, so a library never aborts.
#define DETKIT_ASSERT(cond)                                                            \
  do {                                                                                 \
    if (!(cond)) throw std::logic_error(__FILE__ ": detkit assertion failed: " #cond); \
  } while (0)
#else
#define DETKIT_ASSERT(cond) ((void)0)
#endif

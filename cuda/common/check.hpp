// cuda/common/check.hpp — error checks for CUDA runtime and cuBLAS calls (tiny-cuda-nn's
// CUDA_CHECK_THROW / CUDA_CHECK_PRINT). Only for .cu files and code built with nvcc's headers.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "detkit/config.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// A failed CUDA runtime or cuBLAS call (file:line, the expression and the library's message), or
/// no device: the library's one exception type, a detkit::parse_error with code errc::other.
struct cuda_error : parse_error {
  explicit cuda_error(std::string message)
      : parse_error(make_error(errc::other, std::move(message))) {}
};

namespace detail {
[[noreturn]] DETKIT_NOINLINE inline void throw_cuda_error(const char* file, int line,
                                                          const char* expr, const char* msg) {
  throw cuda_error(std::string(file) + ":" + std::to_string(line) + ": " + expr +
                   " failed: " + msg);
}
}  // namespace detail

}  // namespace cuda
DETKIT_END_NAMESPACE

/// Throws detkit::cuda::cuda_error when `expr` does not return cudaSuccess.
#define DETKIT_CUDA_CHECK(expr)                                                          \
  do {                                                                                   \
    cudaError_t detkit_cuda_status_ = (expr);                                            \
    if (detkit_cuda_status_ != cudaSuccess)                                              \
      ::detkit::cuda::detail::throw_cuda_error(__FILE__, __LINE__, #expr,                \
                                               cudaGetErrorString(detkit_cuda_status_)); \
  } while (0)

/// For destructors, which must not throw: prints the failure to stderr and carries on.
#define DETKIT_CUDA_CHECK_PRINT(expr)                                           \
  do {                                                                          \
    cudaError_t detkit_cuda_status_ = (expr);                                   \
    if (detkit_cuda_status_ != cudaSuccess)                                     \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, \
                   cudaGetErrorString(detkit_cuda_status_));                    \
  } while (0)

/// Throws detkit::cuda::cuda_error when a cuBLAS call does not return CUBLAS_STATUS_SUCCESS.
#define DETKIT_CUBLAS_CHECK(expr)                                                             \
  do {                                                                                        \
    cublasStatus_t detkit_cublas_status_ = (expr);                                            \
    if (detkit_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                       \
      ::detkit::cuda::detail::throw_cuda_error(__FILE__, __LINE__, #expr,                     \
                                               cublasGetStatusString(detkit_cublas_status_)); \
  } while (0)

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Whether every launch is followed by a checked cudaDeviceSynchronize, so an execution error is
/// reported at the launch of the kernel that caused it (compute-sanitizer and the first GPU run
/// need this; it serialises the host with the device, so it is off for speed). On when the
/// environment has DETKIT_CUDA_SYNC_LAUNCHES=1 or after set_sync_launches(true); always on in
/// builds with -DDETKIT_CUDA_SYNC_LAUNCHES=ON (and Debug builds).
inline bool& sync_launches_flag() {
  static bool on = [] {
    const char* v = std::getenv("DETKIT_CUDA_SYNC_LAUNCHES");
    return v != nullptr && v[0] == '1';
  }();
  return on;
}
inline void set_sync_launches(bool on) { sync_launches_flag() = on; }

}  // namespace cuda
DETKIT_END_NAMESPACE

/// After every launch: a bad configuration is reported at the launch that made it; with sync
/// launches (above) an execution error too.
#if defined(DETKIT_CUDA_SYNC_LAUNCHES)
#define DETKIT_CUDA_CHECK_LAUNCH()              \
  do {                                          \
    DETKIT_CUDA_CHECK(cudaGetLastError());      \
    DETKIT_CUDA_CHECK(cudaDeviceSynchronize()); \
  } while (0)
#else
#define DETKIT_CUDA_CHECK_LAUNCH()                                                        \
  do {                                                                                    \
    DETKIT_CUDA_CHECK(cudaGetLastError());                                                \
    if (::detkit::cuda::sync_launches_flag()) DETKIT_CUDA_CHECK(cudaDeviceSynchronize()); \
  } while (0)
#endif

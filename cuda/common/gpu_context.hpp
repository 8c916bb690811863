// cuda/common/gpu_context.hpp — what every launcher needs: the stream and the cuBLAS handle.
// Op headers only forward-declare it, so they stay includable by plain C++.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

#include "check.hpp"
#include "device_buffer.hpp"
#include "gemm.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;

  explicit gpu_context(gemm_math math = gemm_math::fp32) {
    // Say "no device" plainly instead of cuBLAS's "library was not initialized".
    int devices = 0;
    const cudaError_t found = cudaGetDeviceCount(&devices);
    if (found != cudaSuccess || devices == 0)
      throw cuda_error(std::string("no CUDA device (cudaGetDeviceCount: ") +
                       (found != cudaSuccess ? cudaGetErrorString(found) : "0 devices") +
                       "); use --device cpu for the CPU twin");
    DETKIT_CUBLAS_CHECK(cublasCreate(&cublas));
    DETKIT_CUBLAS_CHECK(cublasSetStream(cublas, stream));
    DETKIT_CUBLAS_CHECK(cublasSetMathMode(
        cublas, math == gemm_math::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  }
  gpu_context(const gpu_context&) = delete;
  gpu_context& operator=(const gpu_context&) = delete;
  ~gpu_context() {
    if (cublas != nullptr) cublasDestroy(cublas);
  }

  /// `count` device doubles for the fixed-order reductions (blocked_sum.cuh). Grown, never shrunk:
  /// the first step of a larger shape allocates once (after the stream drains), later steps do not.
  double* reduction_scratch(std::size_t count) {
    if (scratch_.size() < count) {
      DETKIT_CUDA_CHECK(cudaStreamSynchronize(stream));
      scratch_ = device_buffer<double>(count);
    }
    return scratch_.data();
  }

 private:
  device_buffer<double> scratch_;
};

/// Row-major C = alpha * op(A) * op(B) + beta * C with cuBLAS (column-major): compute
/// C^T = op(B)^T op(A)^T by swapping the operands (darknet gemm.c's trick).
inline void gemm_row_major(gpu_context& ctx, transpose ta, transpose tb, int m, int n, int k,
                           float alpha, const float* a, int lda, const float* b, int ldb,
                           float beta, float* c, int ldc) {
  DETKIT_CUBLAS_CHECK(cublasSgemm(ctx.cublas, tb == transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  ta == transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha,
                                  b, ldb, a, lda, &beta, c, ldc));
}

inline unsigned blocks_for(long long n, int threads = 256) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

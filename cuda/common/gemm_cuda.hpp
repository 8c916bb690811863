// cuda/common/gemm_cuda.hpp — the strided-batched spelling of gemm_row_major (gpu_context.hpp): one
// cuBLAS call for a whole batch, e.g. a convolution's y_i = W * col_i for every image i at once.
#pragma once

#include "gpu_context.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// For i in [0, batch): row-major C_i = alpha * op(A_i) * op(B_i) + beta * C_i, where
/// X_i = x + i * stride_x (a stride of 0 shares one matrix, e.g. the weights).
inline void gemm_row_major_strided_batched(gpu_context& ctx, transpose ta, transpose tb, int m,
                                           int n, int k, float alpha, const float* a, int lda,
                                           long long stride_a, const float* b, int ldb,
                                           long long stride_b, float beta, float* c, int ldc,
                                           long long stride_c, int batch) {
  DETKIT_CUBLAS_CHECK(cublasSgemmStridedBatched(
      ctx.cublas, tb == transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N,
      ta == transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, stride_b, a, lda,
      stride_a, &beta, c, ldc, stride_c, batch));
}

}  // namespace cuda
DETKIT_END_NAMESPACE

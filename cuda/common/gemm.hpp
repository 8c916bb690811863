// cuda/common/gemm.hpp — row-major SGEMM, C = alpha * op(A) * op(B) + beta * C, for the CPU twin
// (CBLAS on OpenBLAS). The GPU spelling with the same arguments is gemm_row_major in gpu_context.hpp.
#pragma once

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

enum class transpose { no, yes };

/// GEMM precision on the GPU: FP32 (default; the GPU then agrees with the CPU twin to the
/// reference tolerances) or TF32 tensor cores (10-bit mantissa inputs, faster, looser).
enum class gemm_math { fp32, tf32 };

/// m x n result, k the inner size; lda/ldb/ldc are row strides of the stored (untransposed) arrays.
void gemm_cpu(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/common/gemm.hpp — row-major SGEMM, C = alpha * op(A) * op(B) + beta * C, for the CPU twin
// (CBLAS on OpenBLAS). The GPU spelling with the same arguments is gemm_row_major in gpu_context.hpp.
#pragma once

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

enum class transpose { no, yes };

/// m x n result, k the inner size; lda/ldb/ldc are row strides of the stored (untransposed) arrays.
void gemm_cpu(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace cuda
DETKIT_END_NAMESPACE

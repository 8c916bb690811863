// cuda/common/gemm_cpu.cpp — the CPU twin's GEMM: CBLAS (Debian's OpenBLAS).
#include <cblas.h>

#include "gemm.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void gemm_cpu(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta == transpose::yes ? CblasTrans : CblasNoTrans,
              tb == transpose::yes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

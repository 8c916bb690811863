// cuda/common/gemm.hpp — row-major SGEMM, C = alpha * op(A) * op(B) + beta * C, for the CPU twin.
// The GPU spelling with the same arguments is gemm_row_major in gpu_context.hpp.
#pragma once

#include <string>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

enum class transpose { no, yes };

/// GEMM precision on the GPU: FP32 (default; the GPU then agrees with the CPU twin to the
/// reference tolerances) or TF32 tensor cores (10-bit mantissa inputs, faster, looser).
enum class gemm_math { fp32, tf32 };

/// Which library runs gemm_cpu. oneDNN's sgemm (what torch's CPU path is built on) picks its
/// kernels from the CPU's features at run time; Debian's OpenBLAS picks a core from the CPU model
/// number and falls back to generic SSE3 (`Prescott`) on models it does not know — 4-5x slower on
/// an AVX-512 virtual Xeon — unless the user sets OPENBLAS_CORETYPE.
enum class gemm_cpu_library { openblas, onednn };

/// m x n result, k the inner size; lda/ldb/ldc are row strides of the stored (untransposed) arrays.
void gemm_cpu(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc);

/// The library gemm_cpu uses now. Default: oneDNN when detkit was built with it (Debian
/// libdnnl-dev), unless OpenBLAS's chosen core already uses the CPU's widest vectors (then either
/// is fine and OpenBLAS stays); OpenBLAS otherwise.
gemm_cpu_library gemm_cpu_active();
/// Whether `lib` was built in.
bool gemm_cpu_available(gemm_cpu_library lib);
/// Route gemm_cpu to `lib` (for A/B benchmarks); throws std::invalid_argument if not built in.
void set_gemm_cpu_library(gemm_cpu_library lib);
/// Threads each library's GEMMs use (default: one per core). For benchmarks that compare per-core
/// speed on a machine shared with other work.
void set_gemm_cpu_threads(int threads);
/// One line naming the library, version and the kernels it picked on this CPU, e.g.
/// "oneDNN 2.6.3 sgemm, ISA avx512_core_amx" or "OpenBLAS 0.3.21 core Prescott".
std::string gemm_cpu_description(gemm_cpu_library lib);

}  // namespace cuda
DETKIT_END_NAMESPACE

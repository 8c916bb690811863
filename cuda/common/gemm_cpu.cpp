// cuda/common/gemm_cpu.cpp — the CPU twin's GEMM: oneDNN's sgemm where detkit was built with it
// (DETKIT_HAVE_DNNL), Debian's OpenBLAS (CBLAS) otherwise or on request.
#include <cblas.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "gemm.hpp"
#ifndef DETKIT_HAVE_DNNL
#define DETKIT_HAVE_DNNL 0
#endif
#if DETKIT_HAVE_DNNL
#include <omp.h>  // Debian's oneDNN runs its threads on OpenMP
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#endif

// OpenBLAS's own entry points (its cblas.h declares them; restated so a netlib cblas.h still builds).
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
extern "C" void openblas_set_num_threads(int);

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
// OpenBLAS cores whose SGEMM kernels use AVX-512 / AVX2 (names as openblas_get_corename spells them).
bool openblas_core_is_avx512(const char* core) {
  for (const char* c : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (std::strcmp(core, c) == 0) return true;
  return false;
}
bool openblas_core_is_avx2(const char* core) {
  for (const char* c : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
    if (std::strcmp(core, c) == 0) return true;
  return false;
}

// Whether OpenBLAS's core uses the widest vectors this CPU has (its Prescott core on an AVX-512
// CPU does not).
bool openblas_core_fits_cpu() {
  const char* core = openblas_get_corename();
  if (__builtin_cpu_supports("avx512f")) return openblas_core_is_avx512(core);
  if (__builtin_cpu_supports("avx2")) return openblas_core_is_avx2(core);
  return true;  // no wide vectors to miss
}

// Measured for issue 16 (R50 RetinaNet, one thread): oneDNN 2.6 and OpenBLAS's SkylakeX core are
// within 10% of each other; OpenBLAS's pthreads cope better with a busy machine than OpenMP. So
// OpenBLAS stays where its core fits, and oneDNN replaces it where it does not (about 4x the GEMM GFLOP/s there).
gemm_cpu_library default_library() {
  return DETKIT_HAVE_DNNL && !openblas_core_fits_cpu() ? gemm_cpu_library::onednn
                                                       : gemm_cpu_library::openblas;
}

std::atomic<gemm_cpu_library>& active() {
  static std::atomic<gemm_cpu_library> lib{default_library()};
  return lib;
}
}  // namespace

gemm_cpu_library gemm_cpu_active() { return active().load(std::memory_order_relaxed); }

bool gemm_cpu_available(gemm_cpu_library lib) {
  return lib == gemm_cpu_library::openblas || DETKIT_HAVE_DNNL;
}

void set_gemm_cpu_library(gemm_cpu_library lib) {
  if (!gemm_cpu_available(lib))
    throw std::invalid_argument("gemm_cpu: detkit was built without oneDNN (Debian libdnnl-dev)");
  active().store(lib, std::memory_order_relaxed);
}

void set_gemm_cpu_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("gemm_cpu: threads must be at least 1");
  openblas_set_num_threads(threads);
#if DETKIT_HAVE_DNNL
  omp_set_num_threads(threads);
#endif
}

std::string gemm_cpu_description(gemm_cpu_library lib) {
  if (lib == gemm_cpu_library::openblas) {
    std::string config = openblas_get_config();
    // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64": keep name and version.
    const std::size_t second_space = config.find(' ', config.find(' ') + 1);
    return config.substr(0, second_space) + " core " + openblas_get_corename();
  }
#if DETKIT_HAVE_DNNL
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " sgemm, ISA " + dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
#else
  return "oneDNN (not built in)";
#endif
}

void gemm_cpu(transpose ta, transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc) {
#if DETKIT_HAVE_DNNL
  if (gemm_cpu_active() == gemm_cpu_library::onednn) {
    // dnnl_sgemm is row-major, as our arguments are.
    const dnnl_status_t st =
        dnnl_sgemm(ta == transpose::yes ? 'T' : 'N', tb == transpose::yes ? 'T' : 'N', m, n, k,
                   alpha, a, lda, b, ldb, beta, c, ldc);
    if (st != dnnl_success)
      throw std::runtime_error("gemm_cpu: dnnl_sgemm failed with status " + std::to_string(st));
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, ta == transpose::yes ? CblasTrans : CblasNoTrans,
              tb == transpose::yes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/upsample_add/upsample_add.cu — FPN top-down kernels; bodies in upsample_add_math.hpp.
#include "../../common/gpu_context.hpp"
#include "upsample_add.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void upsample_add_forward_kernel(long long total, int h, int w, int th, int tw,
                                            const float* lateral, const float* top, float* out) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const int x = static_cast<int>(i % w), y = static_cast<int>((i / w) % h);
    const long long plane = i / (static_cast<long long>(w) * h);
    out[i] =
        lateral[i] + top[(plane * th + nearest_source(y, th, h)) * tw + nearest_source(x, tw, w)];
  }
}
__global__ void upsample_add_backward_kernel(long long total, int h, int w, int th, int tw,
                                             const float* dout, float* dtop) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const int tx = static_cast<int>(i % tw), ty = static_cast<int>((i / tw) % th);
    const long long plane = i / (static_cast<long long>(tw) * th);
    dtop[i] += upsample_grad_value(dout + plane * h * w, h, w, th, tw, ty, tx);
  }
}
__global__ void upsample_add_backward_lateral_kernel(long long n, const float* src, float* dst) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += src[i];
}
}  // namespace

void upsample_add_forward(gpu_context& ctx, int n, int c, int h, int w, int th, int tw,
                          const float* lateral, const float* top, float* out) {
  const long long total = static_cast<long long>(n) * c * h * w;
  upsample_add_forward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(total, h, w, th, tw,
                                                                         lateral, top, out);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void upsample_add_backward(gpu_context& ctx, int n, int c, int h, int w, int th, int tw,
                           const float* dout, float* dlateral, float* dtop) {
  const long long total = static_cast<long long>(n) * c * h * w;
  upsample_add_backward_lateral_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(total, dout,
                                                                                  dlateral);
  DETKIT_CUDA_CHECK_LAUNCH();
  const long long top_total = static_cast<long long>(n) * c * th * tw;
  upsample_add_backward_kernel<<<blocks_for(top_total), 256, 0, ctx.stream>>>(top_total, h, w, th,
                                                                              tw, dout, dtop);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/frozen_bn/frozen_bn.cu — frozen BatchNorm affine kernels; bodies in frozen_bn_math.hpp.
#include "../../common/gpu_context.hpp"
#include "frozen_bn.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void frozen_bn_fold_kernel(int c, const float* weight, const float* bias,
                                      const float* mean, const float* var, float eps, float* scale,
                                      float* shift) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < c) frozen_bn_fold(weight[i], bias[i], mean[i], var[i], eps, &scale[i], &shift[i]);
}
__global__ void frozen_bn_forward_kernel(long long total, int c, int pixels, const float* x,
                                         const float* scale, const float* shift, float* y) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const int ch = static_cast<int>((i / pixels) % c);
    y[i] = affine_value(x[i], scale[ch], shift[ch]);
  }
}
__global__ void frozen_bn_backward_kernel(long long total, int c, int pixels, const float* dy,
                                          const float* scale, float* dx) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) dx[i] = affine_grad_accumulate(dx[i], dy[i], scale[(i / pixels) % c]);
}
}  // namespace

void frozen_bn_fold(gpu_context& ctx, int c, const float* weight, const float* bias,
                    const float* running_mean, const float* running_var, float eps, float* scale,
                    float* shift) {
  frozen_bn_fold_kernel<<<blocks_for(c), 256, 0, ctx.stream>>>(c, weight, bias, running_mean,
                                                               running_var, eps, scale, shift);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void frozen_bn_forward(gpu_context& ctx, int n, int c, int pixels, const float* x,
                       const float* scale, const float* shift, float* y) {
  const long long total = static_cast<long long>(n) * c * pixels;
  frozen_bn_forward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(total, c, pixels, x, scale,
                                                                      shift, y);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void frozen_bn_backward(gpu_context& ctx, int n, int c, int pixels, const float* dy,
                        const float* scale, float* dx) {
  const long long total = static_cast<long long>(n) * c * pixels;
  frozen_bn_backward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(total, c, pixels, dy, scale,
                                                                       dx);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

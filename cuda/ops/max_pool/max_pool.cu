// cuda/ops/max_pool/max_pool.cu — max-pool kernels; bodies in max_pool_math.hpp.
#include "../../common/gpu_context.hpp"
#include "max_pool.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void max_pool_forward_kernel(max_pool_shape s, const float* x, float* y, int* arg) {
  const int oh = s.out_h(), ow = s.out_w();
  const long long total = static_cast<long long>(s.n) * s.c * oh * ow;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const long long plane = i / (static_cast<long long>(oh) * ow);
    const int rem = static_cast<int>(i % (static_cast<long long>(oh) * ow));
    y[i] = max_pool_value(s, x + plane * s.h * s.w, rem / ow, rem % ow, &arg[i]);
  }
}
__global__ void max_pool_backward_kernel(max_pool_shape s, const float* dy, const int* arg,
                                         float* dx) {
  const long long out_plane = static_cast<long long>(s.out_h()) * s.out_w();
  const long long total = static_cast<long long>(s.n) * s.c * s.h * s.w;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const long long plane = i / (static_cast<long long>(s.h) * s.w);
    const int rem = static_cast<int>(i % (static_cast<long long>(s.h) * s.w));
    dx[i] += max_pool_grad_value(s, dy + plane * out_plane, arg + plane * out_plane, rem / s.w,
                                 rem % s.w);
  }
}
}  // namespace

void max_pool_forward(gpu_context& ctx, const max_pool_shape& s, const float* x, float* y,
                      int* arg) {
  const long long total = static_cast<long long>(s.n) * s.c * s.out_h() * s.out_w();
  max_pool_forward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(s, x, y, arg);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void max_pool_backward(gpu_context& ctx, const max_pool_shape& s, const float* dy, const int* arg,
                       float* dx) {
  const long long total = static_cast<long long>(s.n) * s.c * s.h * s.w;
  max_pool_backward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(s, dy, arg, dx);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

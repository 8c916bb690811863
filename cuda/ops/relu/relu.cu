// cuda/ops/relu/relu.cu — ReLU / add kernels; bodies in relu_math.hpp.
#include "../../common/gpu_context.hpp"
#include "relu.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void relu_forward_kernel(long long n, const float* x, float* y) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = relu_value(x[i]);
}
__global__ void relu_backward_kernel(long long n, const float* y, const float* dy, float* dx) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dx[i] += relu_grad(y[i], dy[i]);
}
__global__ void add_forward_kernel(long long n, const float* a, const float* b, float* y) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a[i] + b[i];
}
__global__ void accumulate_forward_kernel(long long n, const float* src, float* dst) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += src[i];
}
}  // namespace

void relu_forward(gpu_context& ctx, long long count, const float* x, float* y) {
  relu_forward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, x, y);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void relu_backward(gpu_context& ctx, long long count, const float* y, const float* dy, float* dx) {
  relu_backward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, y, dy, dx);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void add_forward(gpu_context& ctx, long long count, const float* a, const float* b, float* y) {
  add_forward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, a, b, y);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void accumulate(gpu_context& ctx, long long count, const float* src, float* dst) {
  accumulate_forward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, src, dst);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

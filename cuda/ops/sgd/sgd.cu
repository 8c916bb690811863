// cuda/ops/sgd/sgd.cu — SGD kernel; body in sgd_math.hpp.
#include "../../common/gpu_context.hpp"
#include "sgd.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void sgd_forward_kernel(sgd_options o, long long n, const float* grad, float* param,
                                   float* buf) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) sgd_update(o, grad[i], &param[i], &buf[i]);
}
}  // namespace

void sgd_step(gpu_context& ctx, const sgd_options& o, long long count, const float* grad,
              float* param, float* momentum_buf) {
  sgd_forward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(o, count, grad, param,
                                                                momentum_buf);
  DETKIT_CUDA_CHECK_LAUNCH();
}

double sum_of_squares(gpu_context& ctx, long long count, const float* x) {
  // cuBLAS takes an int length; parameter tensors are far below 2^31 elements.
  float norm = 0.0f;
  DETKIT_CUBLAS_CHECK(cublasSnrm2(ctx.cublas, static_cast<int>(count), x, 1, &norm));
  return static_cast<double>(norm) * static_cast<double>(norm);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

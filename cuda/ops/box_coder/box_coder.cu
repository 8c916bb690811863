// cuda/ops/box_coder/box_coder.cu — box encode/decode kernels; bodies in box_coder_math.hpp.
#include "../../common/gpu_context.hpp"
#include "box_coder.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void box_encode_kernel(long long n, const float* gt, const float* anchors,
                                  float* deltas) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) box_encode(gt + 4 * i, anchors + 4 * i, deltas + 4 * i);
}
__global__ void box_decode_kernel(long long n, const float* deltas, const float* anchors,
                                  float* boxes) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) box_decode(deltas + 4 * i, anchors + 4 * i, boxes + 4 * i);
}
}  // namespace

void box_encode(gpu_context& ctx, long long count, const float* gt, const float* anchors,
                float* deltas) {
  box_encode_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, gt, anchors, deltas);
  DETKIT_CUDA_CHECK_LAUNCH();
}
void box_decode(gpu_context& ctx, long long count, const float* deltas, const float* anchors,
                float* boxes) {
  box_decode_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, deltas, anchors, boxes);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

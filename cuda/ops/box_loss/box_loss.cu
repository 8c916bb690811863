// cuda/ops/box_loss/box_loss.cu — L1 box loss forward+backward; fixed-order reductions.
#include "../../common/gpu_context.hpp"
#include "../../common/loss_reductions.cuh"
#include "box_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
// One thread per anchor: its 4 terms summed in a fixed order.
__global__ void box_loss_forward_backward_kernel(int n, int r, box_loss_options o,
                                                 const float* deltas, const float* targets,
                                                 const float* anchors, const int* cls_target,
                                                 float grad_scale, const float* norm,
                                                 float* ddeltas, float* terms) {
  const long long a = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (a >= static_cast<long long>(n) * r) return;
  const int img = static_cast<int>(a / r);
  const float w = grad_scale / (norm[img] * static_cast<float>(n));
  float g[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  float sum = 0.0f;
  if (cls_target[a] >= 0)
    sum = box_loss_anchor(o, deltas + 4 * a, targets + 4 * a,
                          anchors == nullptr ? nullptr : anchors + 4 * (a % r), g);
  for (int j = 0; j < 4; ++j) ddeltas[4 * a + j] = g[j] * w;
  terms[a] = sum;
}

}  // namespace

float box_loss(gpu_context& ctx, int n, int r, const box_loss_options& o, const float* deltas,
               const float* targets, const float* anchors, const int* cls_target, float grad_scale,
               float* ddeltas, float* work) {
  float* terms = work;
  float* norm = work + static_cast<long long>(n) * r;
  float* result = norm + n;
  loss_count_foreground_kernel<<<static_cast<unsigned>(n), 256, 0, ctx.stream>>>(r, cls_target,
                                                                                 norm);
  DETKIT_CUDA_CHECK_LAUNCH();
  box_loss_forward_backward_kernel<<<blocks_for(static_cast<long long>(n) * r), 256, 0,
                                     ctx.stream>>>(n, r, o, deltas, targets, anchors, cls_target,
                                                   grad_scale, norm, ddeltas, terms);
  DETKIT_CUDA_CHECK_LAUNCH();
  return mean_loss_to_host(ctx, n, static_cast<long long>(r), terms, norm, result);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

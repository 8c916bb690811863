// cuda/ops/matcher/matcher.cu — IoU matrix, per-ground-truth best, per-anchor match; one thread
// per row or column so every max is taken in the CPU twin's order.
#include "../../common/gpu_context.hpp"
#include "matcher.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void matcher_iou_kernel(int g, int r, const float* gt, const float* anchors,
                                   float* iou) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < static_cast<long long>(g) * r) iou[i] = box_iou(gt + 4 * (i / r), anchors + 4 * (i % r));
}
__global__ void matcher_best_of_gt_kernel(int g, int r, const float* iou, float* best) {
  const int j = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (j < g) best[j] = best_iou_of_gt(iou + static_cast<long long>(j) * r, r);
}
__global__ void matcher_forward_kernel(matcher_options o, int g, int r, const float* iou,
                                       const float* best_of_gt, int* matches) {
  const int a = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (a < r) matches[a] = match_of_anchor(o, g, r, iou, best_of_gt, a);
}
__global__ void matcher_fill_kernel(int r, int value, int* matches) {
  const int a = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (a < r) matches[a] = value;
}
}  // namespace

void match_anchors(gpu_context& ctx, const matcher_options& o, int g, int r, const float* gt,
                   const float* anchors, int* matches, float* iou_work) {
  if (g == 0) {
    matcher_fill_kernel<<<blocks_for(r), 256, 0, ctx.stream>>>(r, -1, matches);
    DETKIT_CUDA_CHECK_LAUNCH();
    return;
  }
  float* best = iou_work + static_cast<long long>(g) * r;
  matcher_iou_kernel<<<blocks_for(static_cast<long long>(g) * r), 256, 0, ctx.stream>>>(
      g, r, gt, anchors, iou_work);
  DETKIT_CUDA_CHECK_LAUNCH();
  matcher_best_of_gt_kernel<<<blocks_for(g), 256, 0, ctx.stream>>>(g, r, iou_work, best);
  DETKIT_CUDA_CHECK_LAUNCH();
  matcher_forward_kernel<<<blocks_for(r), 256, 0, ctx.stream>>>(o, g, r, iou_work, best, matches);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

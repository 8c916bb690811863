// cuda/ops/box_loss/box_loss.hpp — RetinaNet's box loss: L1 (or smooth L1) over foreground anchors'
// encoded deltas, / max(1, foreground) per image, mean over images (tv RetinaNetRegressionHead).
#pragma once

#include "box_loss_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// deltas: (n, r, 4); cls_target: (n, r), foreground where >= 0 (targets are only read there).
/// targets (n, r, 4): encoded regression targets for l1/smooth_l1, the matched ground-truth boxes
/// (x1, y1, x2, y2) for giou, which also reads anchors (r, 4; may be null otherwise).
/// Returns the loss; writes ddeltas = grad_scale * d loss / d deltas.
float box_loss_cpu(int n, int r, const box_loss_options& o, const float* deltas,
                   const float* targets, const float* anchors, const int* cls_target,
                   float grad_scale, float* ddeltas);

inline long long box_loss_work_floats(int n, int r) {
  return static_cast<long long>(n) * r + n + 1;
}
float box_loss(gpu_context& ctx, int n, int r, const box_loss_options& o, const float* deltas,
               const float* targets, const float* anchors, const int* cls_target, float grad_scale,
               float* ddeltas, float* work);

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/focal_loss/focal_loss.hpp — RetinaNet's classification loss, forward and backward in one
// pass: sum of sigmoid focal terms over non-ignored anchors (one-hot targets, no background column),
// divided by max(1, foreground anchors) per image, then the mean over images (tv retinanet.py
// RetinaNetClassificationHead.compute_loss).
#pragma once

#include "focal_loss_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// Per-anchor class target of the loss: >= 0 foreground class, these two otherwise (torchvision's
/// Matcher.BELOW_LOW_THRESHOLD and BETWEEN_THRESHOLDS).
inline constexpr int anchor_background = -1;
inline constexpr int anchor_ignored = -2;

/// logits: (n, r, k); cls_target: (n, r). Returns the loss; writes dlogits (n, r, k) =
/// grad_scale * d loss / d logits (ignored anchors get 0).
float focal_loss_cpu(int n, int r, int k, const float* logits, const int* cls_target,
                     const focal_options& o, float grad_scale, float* dlogits);

inline long long focal_loss_work_floats(int n, int r, int k) {
  return static_cast<long long>(n) * r * k + n + 1;
}

/// Same on the device; `work` holds focal_loss_work_floats(n, r, k) floats; the loss is copied back to the host.
float focal_loss(gpu_context& ctx, int n, int r, int k, const float* logits, const int* cls_target,
                 const focal_options& o, float grad_scale, float* dlogits, float* work);

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/box_loss/box_loss_math.hpp — box regression terms on encoded deltas: L1 (torchvision v1's
// F.l1_loss(reduction="sum"); gradient sign(d) with sign(0) = 0, as torch.abs) and smooth L1
// (F.smooth_l1_loss: 0.5 d^2 / beta below beta, |d| - 0.5 beta above; beta 0 is L1). torchvision's
// _box_loss "smooth_l1" defaults to beta 1; Detectron2's RetinaNet config uses beta 0.
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD float l1_term(float pred, float target, float* grad) {
  const float d = pred - target;
  *grad = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
  return d < 0.0f ? -d : d;
}

enum class box_loss_kind { l1, smooth_l1 };

struct box_loss_options {
  box_loss_kind kind = box_loss_kind::l1;
  float beta = 1.0f;  // smooth_l1 only
};

DETKIT_HD float box_loss_term(const box_loss_options& o, float pred, float target, float* grad) {
  if (o.kind == box_loss_kind::l1 || o.beta <= 0.0f) return l1_term(pred, target, grad);
  const float d = pred - target;
  const float ad = d < 0.0f ? -d : d;
  if (ad < o.beta) {
    *grad = d / o.beta;
    return 0.5f * d * d / o.beta;
  }
  *grad = d > 0.0f ? 1.0f : -1.0f;
  return ad - 0.5f * o.beta;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

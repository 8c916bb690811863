// cuda/ops/box_loss/box_loss_math.hpp — L1 box regression term on encoded deltas (torchvision v1's
// F.l1_loss(reduction="sum")); the gradient is sign(pred - target) with sign(0) = 0, as torch.abs.
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

}  // namespace cuda
DETKIT_END_NAMESPACE

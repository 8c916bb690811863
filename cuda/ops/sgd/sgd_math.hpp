// cuda/ops/sgd/sgd_math.hpp — torch.optim.SGD step for one element (dampening 0, no Nesterov):
// d = g * grad_scale + wd * p; buf = momentum * buf + d (buf starts at 0, which equals torch's
// clone on step 1); p -= lr * buf. grad_scale is clip_grad_norm_'s factor (1 when not clipping:
// g * 1.0f == g exactly, so unclipped steps stay bit-equal to torch).
#pragma once

#include "../../common/rounding.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct sgd_options {
  float lr = 0.01f;
  float momentum = 0.9f;
  float weight_decay = 1e-4f;
  float grad_scale = 1.0f;  // torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6))
};

/// clip_grad_norm_'s factor from the total gradient norm.
DETKIT_HD float clip_factor(double total_norm, double max_norm) {
  const double f = max_norm / (total_norm + 1e-6);
  return f < 1.0 ? static_cast<float>(f) : 1.0f;
}

/// Every operation rounded on its own (rounding.hpp): nvcc would otherwise fuse momentum * buf + d
/// into an FMA and the GPU's momentum would drift from the CPU twin's (and torch's) by an ulp a step.
DETKIT_HD void sgd_update(const sgd_options& o, float grad, float* param, float* buf) {
  const float decayed = mul_rn(o.weight_decay, *param);
  const float d = add_rn(mul_rn(grad, o.grad_scale), decayed);
  *buf = add_rn(mul_rn(o.momentum, *buf), d);
  *param = sub_rn(*param, mul_rn(o.lr, *buf));
}

}  // namespace cuda
DETKIT_END_NAMESPACE

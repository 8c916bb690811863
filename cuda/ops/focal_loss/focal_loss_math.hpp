// cuda/ops/focal_loss/focal_loss_math.hpp — torchvision.ops.sigmoid_focal_loss for one logit, with
// its derivative fused in (tv/ops/focal_loss.py: ce = BCE-with-logits, p_t, (1-p_t)^gamma, alpha_t).
#pragma once

#include <cmath>

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct focal_options {
  float alpha = 0.25f;  // < 0 disables the alpha weighting, as in torchvision
  float gamma = 2.0f;
};

struct focal_term {
  float loss;
  float grad;  // d loss / d logit
};

/// target is 0 or 1.
DETKIT_HD focal_term sigmoid_focal_term(float x, float target, const focal_options& o) {
  const float p = 1.0f / (1.0f + expf(-x));
  // BCE with logits in its overflow-safe form: max(x,0) - x*t + log(1 + exp(-|x|)).
  const float ce = (x > 0.0f ? x : 0.0f) - x * target + log1pf(expf(-fabsf(x)));
  const float p_t = p * target + (1.0f - p) * (1.0f - target);
  const float m = 1.0f - p_t;
  const float mod = o.gamma == 2.0f ? m * m : powf(m, o.gamma);
  const float dmod_dm = o.gamma == 2.0f ? 2.0f * m : o.gamma * powf(m, o.gamma - 1.0f);
  const float alpha_t =
      o.alpha >= 0.0f ? o.alpha * target + (1.0f - o.alpha) * (1.0f - target) : 1.0f;
  const float dce = p - target;
  const float dp_t = (2.0f * target - 1.0f) * p * (1.0f - p);
  focal_term r;
  r.loss = alpha_t * ce * mod;
  r.grad = alpha_t * (dce * mod - ce * dmod_dm * dp_t);
  return r;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

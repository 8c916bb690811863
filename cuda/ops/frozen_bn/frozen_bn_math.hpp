// cuda/ops/frozen_bn/frozen_bn_math.hpp — torchvision FrozenBatchNorm2d folded to a per-channel
// affine (tv/ops/misc.py: scale = w * rsqrt(rv + eps), bias = b - rm * scale, y = x * scale + bias).
#pragma once

#include <cmath>

#include "../../common/rounding.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Folds one channel; torch's CPU rsqrt is 1 / sqrt, so this is bit-equal to torchvision.
DETKIT_HD void frozen_bn_fold(float weight, float bias, float running_mean, float running_var,
                              float eps, float* scale, float* shift) {
  const float inv = 1.0f / sqrtf(running_var + eps);
  *scale = weight * inv;
  *shift = sub_rn(bias, mul_rn(running_mean, *scale));
}

/// y = x * scale + shift with two roundings, as torch evaluates it (never one FMA: rounding.hpp).
DETKIT_HD float affine_value(float x, float scale, float shift) {
  return add_rn(mul_rn(x, scale), shift);
}

/// The input gradient accumulated into dx: dx + dy * scale, two roundings.
DETKIT_HD float affine_grad_accumulate(float dx, float dy, float scale) {
  return add_rn(dx, mul_rn(dy, scale));
}

}  // namespace cuda
DETKIT_END_NAMESPACE

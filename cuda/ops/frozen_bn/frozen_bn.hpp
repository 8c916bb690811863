// cuda/ops/frozen_bn/frozen_bn.hpp — frozen BatchNorm as a per-channel affine over NCHW tensors.
// No parameter gradients (frozen), only the input gradient dx += dy * scale.
#pragma once

#include "frozen_bn_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// Folds weight/bias/running_mean/running_var (c each) into scale/shift (c each).
void frozen_bn_fold_cpu(int c, const float* weight, const float* bias, const float* running_mean,
                        const float* running_var, float eps, float* scale, float* shift);
/// x, y: (n, c, pixels). y may alias x.
void frozen_bn_forward_cpu(int n, int c, int pixels, const float* x, const float* scale,
                           const float* shift, float* y);
/// dx += dy * scale.
void frozen_bn_backward_cpu(int n, int c, int pixels, const float* dy, const float* scale,
                            float* dx);

void frozen_bn_fold(gpu_context& ctx, int c, const float* weight, const float* bias,
                    const float* running_mean, const float* running_var, float eps, float* scale,
                    float* shift);
void frozen_bn_forward(gpu_context& ctx, int n, int c, int pixels, const float* x,
                       const float* scale, const float* shift, float* y);
void frozen_bn_backward(gpu_context& ctx, int n, int c, int pixels, const float* dy,
                        const float* scale, float* dx);

}  // namespace cuda
DETKIT_END_NAMESPACE

// tests/retinanet/rounding_probe.hpp — the bit-equal bodies of cuda/ops evaluated with the GPU's
// rounding on the CPU (rounding_probe.cpp): contraction on, as nvcc's default -fmad=true fuses
// a * b + c into one FMA, and the device intrinsics of common/rounding.hpp emulated. Plain arrays
// only: the probe's copies of the bodies live in their own ABI namespace.
#pragma once

namespace rounding_probe {

/// True when this build really contracts (the probe fused a * b + c into one rounding).
bool contracts();

void sgd(float lr, float momentum, float weight_decay, float grad_scale, long long count,
         const float* grad, float* param, float* buf);
/// sgd_update as it was before the policy (plain operators), compiled the same way.
void sgd_before_policy(float lr, float momentum, float weight_decay, float grad_scale,
                       long long count, const float* grad, float* param, float* buf);
void frozen_bn_fold(int c, const float* weight, const float* bias, const float* mean,
                    const float* var, float eps, float* scale, float* shift);
void affine(long long count, const float* x, float scale, float shift, float* y);
void affine_grad_accumulate(long long count, const float* dy, float scale, float* dx);
/// One level's anchors: cells (a x 4), a (h x w) grid with the given strides and offset.
void shifted_anchors(int a, const float* cells, int h, int w, int stride, float offset, float* out);
void box_iou(long long count, const float* a, const float* b, float* out);
void box_encode(long long count, const float* gt, const float* anchors, float* deltas);
void box_decode(long long count, const float* deltas, const float* anchors, float* boxes);
/// match_anchors_cpu's passes, with the probe's bodies. iou: g * r floats.
void match_anchors(int g, int r, const float* gt, const float* anchors, int* matches, float* iou);

}  // namespace rounding_probe

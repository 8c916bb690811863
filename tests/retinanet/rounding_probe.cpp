// tests/retinanet/rounding_probe.cpp — the bodies of cuda/ops compiled the way nvcc compiles them
// for the device, on the CPU: -ffp-contract=fast (and -mfma on x86), so every a * b + c the
// compiler can fuse becomes one FMA, and DETKIT_EMULATE_DEVICE_ROUNDING, so mul_rn / add_rn /
// sub_rn return what __fmul_rn / __fadd_rn / __fsub_rn return. A body that follows the numerics
// policy gives the CPU twin's bits here; one with a fusable product does not (sgd_before_policy).
// The bodies are inline: a different ABI namespace keeps the linker from merging these copies with
// the CPU library's.
#include "detkit/config.hpp"
#undef DETKIT_ABI_NAMESPACE
#define DETKIT_ABI_NAMESPACE rounding_probe_abi

#include <vector>

#include "ops/anchors/anchors_math.hpp"
#include "ops/box_coder/box_coder_math.hpp"
#include "ops/frozen_bn/frozen_bn_math.hpp"
#include "ops/matcher/matcher_math.hpp"
#include "ops/sgd/sgd_math.hpp"
#include "rounding_probe.hpp"

namespace dc = detkit::cuda;

namespace rounding_probe {

namespace {
// The values come from outside so the compiler cannot fold the expression.
volatile float probe_a = 1.0f + 0x1p-12f, probe_b = 1.0f + 0x1p-12f, probe_c = -1.0f;
}  // namespace

bool contracts() {
  const float a = probe_a, b = probe_b, c = probe_c;
  // Rounded product: 1 + 2^-11 (the 2^-24 is lost), so + c gives 2^-11; fused keeps 2^-24.
  return a * b + c != 0x1p-11f;
}

void sgd(float lr, float momentum, float weight_decay, float grad_scale, long long count,
         const float* grad, float* param, float* buf) {
  dc::sgd_options o;
  o.lr = lr;
  o.momentum = momentum;
  o.weight_decay = weight_decay;
  o.grad_scale = grad_scale;
  for (long long i = 0; i < count; ++i) dc::sgd_update(o, grad[i], &param[i], &buf[i]);
}

void sgd_before_policy(float lr, float momentum, float weight_decay, float grad_scale,
                       long long count, const float* grad, float* param, float* buf) {
  for (long long i = 0; i < count; ++i) {
    const float decayed = weight_decay * param[i];
    const float d = grad[i] * grad_scale + decayed;
    const float kept = momentum * buf[i];
    buf[i] = kept + d;
    const float step = lr * buf[i];
    param[i] = param[i] - step;
  }
}

void frozen_bn_fold(int c, const float* weight, const float* bias, const float* mean,
                    const float* var, float eps, float* scale, float* shift) {
  for (int i = 0; i < c; ++i)
    dc::frozen_bn_fold(weight[i], bias[i], mean[i], var[i], eps, &scale[i], &shift[i]);
}

void affine(long long count, const float* x, float scale, float shift, float* y) {
  for (long long i = 0; i < count; ++i) y[i] = dc::affine_value(x[i], scale, shift);
}

void affine_grad_accumulate(long long count, const float* dy, float scale, float* dx) {
  for (long long i = 0; i < count; ++i) dx[i] = dc::affine_grad_accumulate(dx[i], dy[i], scale);
}

void shifted_anchors(int a, const float* cells, int h, int w, int stride, float offset,
                     float* out) {
  dc::anchor_grid g;
  g.stride_h = g.stride_w = stride;
  g.offset = offset;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < a; ++k)
        dc::shifted_anchor(cells + 4 * k, y, x, g,
                           out + 4 * ((static_cast<long long>(y) * w + x) * a + k));
}

void box_iou(long long count, const float* a, const float* b, float* out) {
  for (long long i = 0; i < count; ++i) out[i] = dc::box_iou(a + 4 * i, b + 4 * i);
}

void box_encode(long long count, const float* gt, const float* anchors, float* deltas) {
  for (long long i = 0; i < count; ++i) dc::box_encode(gt + 4 * i, anchors + 4 * i, deltas + 4 * i);
}

void box_decode(long long count, const float* deltas, const float* anchors, float* boxes) {
  for (long long i = 0; i < count; ++i)
    dc::box_decode(deltas + 4 * i, anchors + 4 * i, boxes + 4 * i);
}

void match_anchors(int g, int r, const float* gt, const float* anchors, int* matches, float* iou) {
  for (int j = 0; j < g; ++j)
    for (int a = 0; a < r; ++a)
      iou[static_cast<long long>(j) * r + a] = dc::box_iou(gt + 4 * j, anchors + 4 * a);
  std::vector<float> best(static_cast<std::size_t>(g));
  for (int j = 0; j < g; ++j)
    best[static_cast<std::size_t>(j)] = dc::best_iou_of_gt(iou + static_cast<long long>(j) * r, r);
  for (int a = 0; a < r; ++a)
    matches[a] = dc::match_of_anchor(dc::matcher_options{}, g, r, iou, best.data(), a);
}

}  // namespace rounding_probe

// cuda/ops/max_pool/max_pool_math.hpp — max-pool bodies with torch's CPU semantics
// (aten/native/cpu/MaxPoolKernel.cpp): -inf padding, first maximum in scan order wins, NaN wins.
#pragma once

#include <cmath>

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Input (n, c, h, w) -> output (n, c, out_h, out_w); ResNet's stem uses k 3, stride 2, pad 1.
struct max_pool_shape {
  int n = 0, c = 0, h = 0, w = 0;
  int k = 3, stride = 2, pad = 1;
  DETKIT_HD int out_h() const { return (h + 2 * pad - k) / stride + 1; }
  DETKIT_HD int out_w() const { return (w + 2 * pad - k) / stride + 1; }
};

/// Max over one window of one plane; *arg receives iy*w+ix of the winner.
DETKIT_HD float max_pool_value(const max_pool_shape& s, const float* plane, int oy, int ox,
                               int* arg) {
  int y0 = oy * s.stride - s.pad, x0 = ox * s.stride - s.pad;
  const int y1 = y0 + s.k < s.h ? y0 + s.k : s.h, x1 = x0 + s.k < s.w ? x0 + s.k : s.w;
  if (y0 < 0) y0 = 0;
  if (x0 < 0) x0 = 0;
  float best = -INFINITY;
  int best_i = y0 * s.w + x0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const float v = plane[y * s.w + x];
      if (v > best || v != v) {
        best = v;
        best_i = y * s.w + x;
      }
    }
  *arg = best_i;
  return best;
}

/// Gradient reaching input pixel (iy, ix) of one plane: the sum of dy over windows it won.
DETKIT_HD float max_pool_grad_value(const max_pool_shape& s, const float* dy_plane,
                                    const int* arg_plane, int iy, int ix) {
  const int oh = s.out_h(), ow = s.out_w();
  const int me = iy * s.w + ix;
  // Windows containing iy: oy*stride - pad <= iy <= oy*stride - pad + k - 1.
  int oy0 = (iy + s.pad - s.k + s.stride) / s.stride;  // ceil((iy+pad-k+1)/stride) for >= 0
  if (iy + s.pad - s.k + 1 <= 0) oy0 = 0;
  int ox0 = (ix + s.pad - s.k + s.stride) / s.stride;
  if (ix + s.pad - s.k + 1 <= 0) ox0 = 0;
  const int oy1 = (iy + s.pad) / s.stride, ox1 = (ix + s.pad) / s.stride;
  float sum = 0.0f;
  for (int oy = oy0; oy <= oy1 && oy < oh; ++oy)
    for (int ox = ox0; ox <= ox1 && ox < ow; ++ox)
      if (arg_plane[oy * ow + ox] == me) sum += dy_plane[oy * ow + ox];
  return sum;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

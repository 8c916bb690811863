// cuda/ops/anchors/anchors_math.hpp — torchvision AnchorGenerator (tv/models/detection/
// anchor_utils.py): float32 cell anchors, ratio-major (w_ratios[:, None] * scales[None, :]),
// round() half-to-even, centred at (x*stride_w, y*stride_h) with no 0.5 offset; and the grid
// shift shared with Detectron2's convention (see anchors.hpp).
#pragma once

#include <cmath>

#include "../../common/rounding.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Cell anchor (x1, y1, x2, y2) around the origin for one size and one aspect ratio (h / w).
DETKIT_HD void cell_anchor(float scale, float aspect_ratio, float* out) {
  const float h_ratio = sqrtf(aspect_ratio);
  const float w_ratio = 1.0f / h_ratio;
  const float ws = w_ratio * scale, hs = h_ratio * scale;
  out[0] = rintf(-ws / 2.0f);
  out[1] = rintf(-hs / 2.0f);
  out[2] = rintf(ws / 2.0f);
  out[3] = rintf(hs / 2.0f);
}

struct anchor_grid {
  int stride_h = 0, stride_w = 0;
  float offset = 0.0f;  // in strides (detectron2's ANCHOR_GENERATOR.OFFSET); torchvision: 0
};

/// Anchor `a` of the cell at feature location (y, x): cell anchor shifted by the stride.
DETKIT_HD void shifted_anchor(const float* cell, int y, int x, const anchor_grid& g, float* out) {
  // torch.arange(offset * stride, ..., step=stride) values, exact for these integers.
  const float sx =
      add_rn(mul_rn(g.offset, static_cast<float>(g.stride_w)), static_cast<float>(x * g.stride_w));
  const float sy =
      add_rn(mul_rn(g.offset, static_cast<float>(g.stride_h)), static_cast<float>(y * g.stride_h));
  out[0] = cell[0] + sx;
  out[1] = cell[1] + sy;
  out[2] = cell[2] + sx;
  out[3] = cell[3] + sy;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

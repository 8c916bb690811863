// cuda/ops/box_coder/box_coder_math.hpp — torchvision BoxCoder with weights (1, 1, 1, 1)
// (tv/models/detection/_utils.py encode_single / decode_single): w = x2 - x1 (no +1), centres at
// x1 + 0.5 w, decode clamps dw, dh at log(1000/16) and clips nothing (clipping is separate).
#pragma once

#include <cmath>

#include "../../common/rounding.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// float(math.log(1000.0 / 16)), torchvision's bbox_xform_clip.
inline constexpr float box_xform_clip = 4.135166556742356f;

/// Regression target (dx, dy, dw, dh) of gt box relative to anchor, both x1,y1,x2,y2. (x + 0.5f * w
/// is the same fused or not: the product by 0.5 is exact.)
DETKIT_HD void box_encode(const float* gt, const float* anchor, float* delta) {
  const float ew = anchor[2] - anchor[0], eh = anchor[3] - anchor[1];
  const float ecx = anchor[0] + 0.5f * ew, ecy = anchor[1] + 0.5f * eh;
  const float gw = gt[2] - gt[0], gh = gt[3] - gt[1];
  const float gcx = gt[0] + 0.5f * gw, gcy = gt[1] + 0.5f * gh;
  delta[0] = (gcx - ecx) / ew;
  delta[1] = (gcy - ecy) / eh;
  delta[2] = logf(gw / ew);
  delta[3] = logf(gh / eh);
}

/// A decoded box as centre and size, before it is written as corners (GIoU's gradient needs these).
struct decoded_box {
  float cx, cy;  // predicted centre
  float w, h;    // predicted width and height: exp(clamped dw) * anchor width, ...
};

DETKIT_HD decoded_box box_decode_center_size(const float* delta, const float* anchor) {
  const float w = anchor[2] - anchor[0], h = anchor[3] - anchor[1];
  const float cx = anchor[0] + 0.5f * w, cy = anchor[1] + 0.5f * h;
  const float dw = delta[2] < box_xform_clip ? delta[2] : box_xform_clip;
  const float dh = delta[3] < box_xform_clip ? delta[3] : box_xform_clip;
  decoded_box d;
  // delta * size + centre: two roundings on both backends (rounding.hpp), as torch.
  d.cx = add_rn(mul_rn(delta[0], w), cx);
  d.cy = add_rn(mul_rn(delta[1], h), cy);
  d.w = mul_rn(expf(dw), w);
  d.h = mul_rn(expf(dh), h);
  return d;
}

/// (x1, y1, x2, y2) of a decoded box.
DETKIT_HD void box_corners(const decoded_box& d, float* box) {
  const float half_w = 0.5f * d.w, half_h = 0.5f * d.h;
  box[0] = d.cx - half_w;
  box[1] = d.cy - half_h;
  box[2] = d.cx + half_w;
  box[3] = d.cy + half_h;
}

DETKIT_HD void box_decode(const float* delta, const float* anchor, float* box) {
  box_corners(box_decode_center_size(delta, anchor), box);
}

/// torchvision.ops.clip_boxes_to_image: x into [0, width], y into [0, height].
DETKIT_HD void box_clip(float* box, float height, float width) {
  for (int i = 0; i < 4; ++i) {
    const float hi = (i % 2 == 0) ? width : height;
    box[i] = box[i] < 0.0f ? 0.0f : (box[i] > hi ? hi : box[i]);
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

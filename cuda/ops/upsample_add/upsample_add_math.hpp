// cuda/ops/upsample_add/upsample_add_math.hpp — FPN's top-down step:
// out = lateral + F.interpolate(top, size=lateral.shape[-2:], mode="nearest").
#pragma once

#include <cmath>

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// torch's nearest_idx (aten/native/UpSample.h): exact halving for 2x, else floor(dst * in/out)
/// with the scale in float, clamped to in-1.
DETKIT_HD int nearest_source(int dst, int in_size, int out_size) {
  if (out_size == in_size) return dst;
  if (out_size == 2 * in_size) return dst >> 1;
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const int src = static_cast<int>(floorf(static_cast<float>(dst) * scale));
  return src < in_size - 1 ? src : in_size - 1;
}

/// Gradient reaching top pixel (ty, tx) of one plane: sum of dout over the pixels that copied it.
DETKIT_HD float upsample_grad_value(const float* dout_plane, int h, int w, int th, int tw, int ty,
                                    int tx) {
  float sum = 0.0f;
  for (int y = 0; y < h; ++y) {
    if (nearest_source(y, th, h) != ty) continue;
    for (int x = 0; x < w; ++x)
      if (nearest_source(x, tw, w) == tx) sum += dout_plane[y * w + x];
  }
  return sum;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

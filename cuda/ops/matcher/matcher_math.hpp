// cuda/ops/matcher/matcher_math.hpp — torchvision box_iou (tv/ops/boxes.py, float32, no +1).
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD float box_area(const float* b) { return (b[2] - b[0]) * (b[3] - b[1]); }

DETKIT_HD float box_iou(const float* a, const float* b) {
  const float lx = a[0] > b[0] ? a[0] : b[0], ly = a[1] > b[1] ? a[1] : b[1];
  const float rx = a[2] < b[2] ? a[2] : b[2], ry = a[3] < b[3] ? a[3] : b[3];
  const float w = rx - lx > 0.0f ? rx - lx : 0.0f, h = ry - ly > 0.0f ? ry - ly : 0.0f;
  const float inter = w * h;
  const float uni = box_area(a) + box_area(b) - inter;
  return inter / uni;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

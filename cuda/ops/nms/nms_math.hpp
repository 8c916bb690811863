// cuda/ops/nms/nms_math.hpp — the overlap test of torchvision's nms kernel
// (tv/csrc/ops/cpu/nms_kernel.cpp): suppress when IoU > threshold; boxes of different classes never
// suppress each other (batched_nms).
#pragma once

#include "../matcher/matcher_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD bool nms_suppresses(const float* kept, int kept_label, const float* other,
                              int other_label, float iou_threshold) {
  return kept_label == other_label && box_iou(kept, other) > iou_threshold;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

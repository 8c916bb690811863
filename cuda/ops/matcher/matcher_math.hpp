// cuda/ops/matcher/matcher_math.hpp — torchvision box_iou (tv/ops/boxes.py, float32, no +1) and
// the Matcher's rule for one anchor (tv/models/detection/_utils.py), shared by both backends.
#pragma once

#include "../../common/rounding.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD float box_area(const float* b) { return mul_rn(b[2] - b[0], b[3] - b[1]); }

DETKIT_HD float box_iou(const float* a, const float* b) {
  const float lx = a[0] > b[0] ? a[0] : b[0], ly = a[1] > b[1] ? a[1] : b[1];
  const float rx = a[2] < b[2] ? a[2] : b[2], ry = a[3] < b[3] ? a[3] : b[3];
  const float w = rx - lx > 0.0f ? rx - lx : 0.0f, h = ry - ly > 0.0f ? ry - ly : 0.0f;
  const float inter = mul_rn(w, h);
  // Rounded one operation at a time: a fused area + area would move IoUs at the 0.4/0.5 edges.
  const float uni = add_rn(box_area(a), box_area(b)) - inter;
  return inter / uni;
}

enum class low_quality_matches { allow, drop };

struct matcher_options {
  float high = 0.5f;
  float low = 0.4f;
  low_quality_matches low_quality = low_quality_matches::allow;
};

/// Best IoU of ground truth row `iou_row` (r anchors); -1 when r is 0.
DETKIT_HD float best_iou_of_gt(const float* iou_row, int r) {
  float best = -1.0f;
  for (int a = 0; a < r; ++a) best = iou_row[a] > best ? iou_row[a] : best;
  return best;
}

/// Match of anchor `a` from the (g, r) IoU matrix (g >= 1) and each ground truth's best IoU: its
/// best ground truth (first on ties); IoU < low -> -1, low <= IoU < high -> -2; with low-quality
/// matches an anchor tied for some ground truth's best IoU keeps its own argmax.
DETKIT_HD int match_of_anchor(const matcher_options& o, int g, int r, const float* iou,
                              const float* best_of_gt, int a) {
  int best = 0;
  float best_v = iou[a];
  for (int j = 1; j < g; ++j) {
    const float v = iou[static_cast<long long>(j) * r + a];
    if (v > best_v) {
      best_v = v;
      best = j;
    }
  }
  int m = best_v < o.low ? -1 : (best_v < o.high ? -2 : best);
  if (o.low_quality == low_quality_matches::allow && m < 0)
    for (int j = 0; j < g; ++j)
      if (iou[static_cast<long long>(j) * r + a] == best_of_gt[j]) return best;
  return m;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

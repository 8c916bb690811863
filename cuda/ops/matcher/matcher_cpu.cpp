// cuda/ops/matcher/matcher_cpu.cpp — CPU twin of matcher.cu.
#include <vector>

#include "matcher.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void match_anchors_cpu(const matcher_options& o, int g, int r, const float* gt,
                       const float* anchors, int* matches, float* iou) {
  if (g == 0) {
    for (int a = 0; a < r; ++a) matches[a] = -1;
    return;
  }
  for (int j = 0; j < g; ++j)
    for (int a = 0; a < r; ++a)
      iou[static_cast<long long>(j) * r + a] = box_iou(gt + 4 * j, anchors + 4 * a);
  std::vector<float> best_of_gt(static_cast<std::size_t>(g), -1.0f);
  for (int j = 0; j < g; ++j)
    for (int a = 0; a < r; ++a)
      if (iou[static_cast<long long>(j) * r + a] > best_of_gt[static_cast<std::size_t>(j)])
        best_of_gt[static_cast<std::size_t>(j)] = iou[static_cast<long long>(j) * r + a];
  for (int a = 0; a < r; ++a) {
    int best = 0;
    float best_v = iou[a];
    for (int j = 1; j < g; ++j)
      if (iou[static_cast<long long>(j) * r + a] > best_v) {
        best_v = iou[static_cast<long long>(j) * r + a];
        best = j;
      }
    int m = best;
    if (best_v < o.low)
      m = -1;
    else if (best_v < o.high)
      m = -2;
    if (o.low_quality == low_quality_matches::allow && m < 0)
      for (int j = 0; j < g; ++j)
        if (iou[static_cast<long long>(j) * r + a] == best_of_gt[static_cast<std::size_t>(j)]) {
          m = best;
          break;
        }
    matches[a] = m;
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

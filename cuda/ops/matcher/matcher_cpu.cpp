// cuda/ops/matcher/matcher_cpu.cpp — CPU twin of matcher.cu: the same three passes over the same
// bodies (matcher_math.hpp).
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
  std::vector<float> best_of_gt(static_cast<std::size_t>(g));
  for (int j = 0; j < g; ++j)
    best_of_gt[static_cast<std::size_t>(j)] =
        best_iou_of_gt(iou + static_cast<long long>(j) * r, r);
  for (int a = 0; a < r; ++a) matches[a] = match_of_anchor(o, g, r, iou, best_of_gt.data(), a);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/nms/nms_cpu.cpp — CPU twin of nms.cu, with torchvision's CPU batched_nms dispatch.
#include <algorithm>
#include <numeric>

#include "nms.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

std::vector<int> batched_nms_cpu(int count, const float* boxes, const float* scores,
                                 const int* labels, float iou_threshold, int max_keep) {
  std::vector<int> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  // torchvision: boxes.numel() > 4000 on the CPU -> per-class loop, else the coordinate trick.
  const bool coordinate_trick = static_cast<long long>(count) * 4 <= 4000;
  std::vector<float> work(boxes, boxes + 4 * static_cast<long long>(count));
  std::vector<int> same(static_cast<std::size_t>(count), 0);
  if (coordinate_trick && count > 0) {
    float max_coord = *std::max_element(work.begin(), work.end());
    for (int i = 0; i < count; ++i) {
      const float offset = static_cast<float>(labels[i]) * (max_coord + 1.0f);
      for (int j = 0; j < 4; ++j)
        work[4 * static_cast<std::size_t>(i) + static_cast<std::size_t>(j)] += offset;
    }
  }
  const int* lab = coordinate_trick ? same.data() : labels;
  std::vector<char> suppressed(static_cast<std::size_t>(count), 0);
  std::vector<int> keep;
  for (std::size_t oi = 0; oi < order.size(); ++oi) {
    const int i = order[oi];
    if (suppressed[static_cast<std::size_t>(i)]) continue;
    keep.push_back(i);
    if (max_keep >= 0 && static_cast<int>(keep.size()) >= max_keep) break;
    for (std::size_t oj = oi + 1; oj < order.size(); ++oj) {
      const int j = order[oj];
      if (!suppressed[static_cast<std::size_t>(j)] &&
          nms_suppresses(&work[4 * static_cast<std::size_t>(i)], lab[i],
                         &work[4 * static_cast<std::size_t>(j)], lab[j], iou_threshold))
        suppressed[static_cast<std::size_t>(j)] = 1;
    }
  }
  return keep;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

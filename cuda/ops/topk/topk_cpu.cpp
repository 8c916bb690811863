// cuda/ops/topk/topk_cpu.cpp — CPU twin of topk.cu.
#include <algorithm>

#include "topk.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

std::vector<scored_index> topk_scores_cpu(long long count, const float* logits, float threshold,
                                          int k) {
  std::vector<scored_index> kept;
  for (long long i = 0; i < count; ++i) {
    const float s = thresholded_score(logits[i], threshold);
    if (s >= 0.0f) kept.push_back({s, static_cast<int>(i)});
  }
  auto better = [](const scored_index& a, const scored_index& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  };
  if (kept.size() > static_cast<std::size_t>(k)) {
    std::partial_sort(kept.begin(), kept.begin() + k, kept.end(), better);
    kept.resize(static_cast<std::size_t>(k));
  } else {
    std::sort(kept.begin(), kept.end(), better);
  }
  return kept;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

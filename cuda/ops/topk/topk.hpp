// cuda/ops/topk/topk.hpp — per-level candidate selection of torchvision RetinaNet inference:
// scores = sigmoid(logits).flatten(); keep > threshold; topk(min(k, kept)). Ties: lower index first.
#pragma once

#include <cstddef>
#include <vector>

#include "topk_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

struct scored_index {
  float score;
  int index;  // into the flattened (anchor, class) array of the level: anchor * k + class
};

/// logits: count floats. Returns at most k candidates, best first.
std::vector<scored_index> topk_scores_cpu(long long count, const float* logits, float threshold,
                                          int k);

/// Device version (CUB radix sort, stable): bytes of `work` needed for `count` logits.
std::size_t topk_scores_work_bytes(int count);
std::vector<scored_index> topk_scores(gpu_context& ctx, int count, const float* logits,
                                      float threshold, int k, void* work);

}  // namespace cuda
DETKIT_END_NAMESPACE

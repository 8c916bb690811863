// cuda/ops/matcher/matcher.hpp — torchvision Matcher (tv/models/detection/_utils.py) for one image:
// each anchor takes its best-IoU ground truth (first on ties); IoU < low -> -1 (background),
// low <= IoU < high -> -2 (ignored); with low-quality matches, every anchor tied for some ground
// truth's best IoU gets its own argmax back (including ground truths whose best IoU is 0, as
// torchvision does). No ground truth: all -1.
#pragma once

#include "matcher_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// gt: (g, 4), anchors: (r, 4) -> matches: (r). iou_work: g*r floats.
void match_anchors_cpu(const matcher_options& o, int g, int r, const float* gt,
                       const float* anchors, int* matches, float* iou_work);

/// Device version; iou_work holds g*r + g floats.
void match_anchors(gpu_context& ctx, const matcher_options& o, int g, int r, const float* gt,
                   const float* anchors, int* matches, float* iou_work);

}  // namespace cuda
DETKIT_END_NAMESPACE

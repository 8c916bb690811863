// cuda/ops/nms/nms.hpp — class-wise (batched) greedy non-maximum suppression.
#pragma once

#include <vector>

#include "nms_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// boxes: (count, 4) x1y1x2y2, scores, labels: (count). Returns kept indices, best score first
/// (stable on ties). At most max_keep (< 0: no limit).
///
/// Like torchvision.ops.batched_nms on the CPU: up to 1000 boxes it uses torchvision's coordinate
/// trick (boxes offset by label * (max coordinate + 1), then one plain NMS), whose float rounding
/// the result depends on; above that, per-class NMS on the raw boxes.
std::vector<int> batched_nms_cpu(int count, const float* boxes, const float* scores,
                                 const int* labels, float iou_threshold, int max_keep);

/// Device version: 64-box suppression masks in a kernel (torchvision's nms_kernel.cu layout), the
/// greedy pass on the host; per-class on the raw boxes. boxes/scores/labels are device pointers.
std::vector<int> batched_nms(gpu_context& ctx, int count, const float* boxes, const float* scores,
                             const int* labels, float iou_threshold, int max_keep);

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/box_coder/box_coder.hpp — box encode/decode over arrays of (x1, y1, x2, y2) boxes.
#pragma once

#include "box_coder_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// delta[i] = encode(gt[i], anchor[i]) for count boxes (4 floats each).
void box_encode_cpu(long long count, const float* gt, const float* anchors, float* deltas);
/// box[i] = decode(delta[i], anchor[i]).
void box_decode_cpu(long long count, const float* deltas, const float* anchors, float* boxes);

void box_encode(gpu_context& ctx, long long count, const float* gt, const float* anchors,
                float* deltas);
void box_decode(gpu_context& ctx, long long count, const float* deltas, const float* anchors,
                float* boxes);

}  // namespace cuda
DETKIT_END_NAMESPACE

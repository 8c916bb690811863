// cuda/ops/topk/topk_math.hpp — the score of one (anchor, class) pair in RetinaNet's
// postprocess_detections: sigmoid(logit), kept when above the score threshold.
#pragma once

#include <cmath>

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// The sigmoid score, or -1 when it is not above the threshold (so a descending sort drops it).
DETKIT_HD float thresholded_score(float logit, float threshold) {
  const float s = 1.0f / (1.0f + expf(-logit));
  return s > threshold ? s : -1.0f;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

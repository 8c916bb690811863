// cuda/ops/anchors/anchors.hpp — RetinaNet anchors for one padded image size (torchvision
// conventions: sizes (x, int(x*2^(1/3)), int(x*2^(2/3))) for x in 32..512, ratios 0.5/1/2,
// stride = padded size // feature size). Order: level, then location (row-major), then cell anchor.
#pragma once

#include <vector>

#include "anchors_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

struct anchor_options {
  std::vector<std::vector<float>> sizes;  // per level
  std::vector<float> aspect_ratios{0.5f, 1.0f, 2.0f};
  /// torchvision's _default_anchorgen for RetinaNet.
  static anchor_options retinanet_default();
  int anchors_per_location() const {
    return static_cast<int>(sizes.empty() ? 0 : sizes[0].size() * aspect_ratios.size());
  }
};

struct feature_size {
  int h = 0, w = 0;
};

/// Cell anchors of one level, ratio-major: (ratios * sizes) x 4 floats.
std::vector<float> cell_anchors_cpu(const anchor_options& o, int level);
/// All anchors (r x 4) for a padded image (image_h, image_w) and one feature map per level.
std::vector<float> generate_anchors_cpu(const anchor_options& o, int image_h, int image_w,
                                        const std::vector<feature_size>& levels);

/// Same on the device into `out` (r x 4 floats).
void generate_anchors(gpu_context& ctx, const anchor_options& o, int image_h, int image_w,
                      const std::vector<feature_size>& levels, float* out);

}  // namespace cuda
DETKIT_END_NAMESPACE

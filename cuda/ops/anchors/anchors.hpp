// cuda/ops/anchors/anchors.hpp — RetinaNet anchors for one padded image size (torchvision
// conventions: sizes (x, int(x*2^(1/3)), int(x*2^(2/3))) for x in 32..512, ratios 0.5/1/2,
// stride = padded size // feature size). Order: level, then location (row-major), then cell anchor.
#pragma once

#include <vector>

#include "anchors_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// torchvision: int-truncated sizes, float32 cell anchors rounded half-to-even, ratio-major order,
/// stride = padded image size // feature size. Detectron2 (DefaultAnchorGenerator): float sizes,
/// cell anchors computed in double (w = sqrt(size^2 / ratio), h = ratio * w) and not rounded,
/// size-major order, fixed strides (8..128) and a centre offset (RetinaNet config: 0.0).
enum class anchor_convention { torchvision, detectron2 };

struct anchor_options {
  anchor_convention convention = anchor_convention::torchvision;
  std::vector<std::vector<double>> sizes;  // per level
  std::vector<double> aspect_ratios{0.5, 1.0, 2.0};
  std::vector<int> strides{8, 16, 32, 64, 128};  // detectron2 only
  double offset = 0.0;                           // detectron2 only, in strides
  /// torchvision's _default_anchorgen for RetinaNet (the default).
  static anchor_options retinanet_default();
  /// Detectron2's Base-RetinaNet.yaml anchor generator.
  static anchor_options detectron2_retinanet();
  int anchors_per_location() const {
    return static_cast<int>(sizes.empty() ? 0 : sizes[0].size() * aspect_ratios.size());
  }
};

struct feature_size {
  int h = 0, w = 0;
};

/// Cell anchors of one level in the convention's order, 4 floats each.
std::vector<float> cell_anchors_cpu(const anchor_options& o, int level);
/// Where a level's anchors are centred: (x * stride_w + offset * stride_w, y * ...).
anchor_grid level_grid(const anchor_options& o, int image_h, int image_w, feature_size f,
                       int level);
/// All anchors (r x 4) for a padded image (image_h, image_w) and one feature map per level.
std::vector<float> generate_anchors_cpu(const anchor_options& o, int image_h, int image_w,
                                        const std::vector<feature_size>& levels);

/// Same on the device into `out` (r x 4 floats).
void generate_anchors(gpu_context& ctx, const anchor_options& o, int image_h, int image_w,
                      const std::vector<feature_size>& levels, float* out);

}  // namespace cuda
DETKIT_END_NAMESPACE

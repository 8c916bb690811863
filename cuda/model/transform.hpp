// cuda/model/transform.hpp — torchvision GeneralizedRCNNTransform's image path, as a separate step:
// normalise ((x - mean) / std, RGB in [0, 1]), then bilinear resize (align_corners=False,
// recompute_scale_factor=True) so the short side is min_size unless the long side would pass
// max_size, then zero-pad the batch to a multiple of size_divisible (tv/models/detection/
// transform.py 0.14.1; the scale is float32 as torch computes it, the output size floor(d * scale)).
#pragma once

#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct transform_options {
  int min_size = 800;
  int max_size = 1333;
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
  int size_divisible = 32;
};

struct resized_size {
  int h = 0, w = 0;
};

/// The size torchvision resizes an (h, w) image to.
resized_size transform_output_size(const transform_options& o, int h, int w);

/// One image: chw (3, h, w) in [0, 1] -> out (3, out.h, out.w), normalised then resized.
void normalize_and_resize(const transform_options& o, const float* chw, int h, int w,
                          resized_size out_size, float* out);

/// A batch as torchvision's batch_images: every image normalised and resized, then zero-padded to
/// the largest height/width rounded up to size_divisible. Fills the per-image sizes.
struct image_batch {
  int n = 0, h = 0, w = 0;
  std::vector<float> data;  // (n, 3, h, w)
  std::vector<resized_size> image_sizes;
};
struct image_view {
  const float* chw;
  int h, w;
};
image_batch make_batch(const transform_options& o, const std::vector<image_view>& images);

/// Boxes (x1, y1, x2, y2) from original to resized coordinates (torchvision resize_boxes: float32
/// ratios new / old per axis); use with from/to swapped to map detections back.
void resize_boxes(float* boxes, int count, int from_h, int from_w, int to_h, int to_w);

}  // namespace cuda
DETKIT_END_NAMESPACE

// examples/subset/anchor_coverage.hpp — how many ground-truth boxes the default RetinaNet anchors
// can reach: for each box, the best IoU over all anchors of its image after torchvision's
// GeneralizedRCNNTransform resize (min side 800, max side 1333, padded to a multiple of 32),
// bucketed by box size and aspect ratio. A box whose best IoU is below 0.5 is only matched through
// the matcher's low-quality rule (allow_low_quality_matches), i.e. it is hard to learn.
// The anchors come from cuda/ops/anchors (anchor_options::retinanet_default(), cell_anchors_cpu,
// level_grid, shifted_anchor) and the resize from cuda/model/transform (transform_output_size,
// resize_boxes): this file holds no anchor or resize math of its own.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "detkit/label_record.hpp"

namespace detkit_subset {

struct coverage_bucket {
  std::uint64_t boxes = 0, covered = 0;  // covered: best anchor IoU >= 0.5
  double iou_sum = 0;                    // of the best IoUs (mean = iou_sum / boxes)
};

inline constexpr int size_bucket_count = 4;    // sqrt(area) after resize: <16, <32, <96, >=96 px
inline constexpr int aspect_bucket_count = 5;  // w/h: <=1/4, <=1/2, (1/2,2), >=2, >=4
inline const char* const size_bucket_names[size_bucket_count] = {"tiny (<16 px)", "small (16-32)",
                                                                 "medium (32-96)", "large (>=96)"};
inline const char* const aspect_bucket_names[aspect_bucket_count] = {
    "tall (w/h <= 1/4)", "tallish (1/4-1/2]", "square-ish (1/2-2)", "wide [2-4)",
    "very wide (>= 4)"};

struct coverage_report {
  std::array<coverage_bucket, size_bucket_count> by_size{};
  std::array<coverage_bucket, aspect_bucket_count> by_aspect{};
  std::vector<coverage_bucket> by_class;
  coverage_bucket total{};
  std::uint64_t images_without_size = 0;
};

/// torchvision's resize of an image of (w, h): new (w, h) and the padded size (multiple of 32).
struct resized_image {
  int w = 0, h = 0, padded_w = 0, padded_h = 0;
};
resized_image torchvision_resize(int width, int height, int min_size = 800, int max_size = 1333);

/// A box (XYXY_ABS of an image of width x height) in resized pixels (torchvision resize_boxes).
struct resized_box {
  float xyxy[4];
};
resized_box resize_box(const detkit::label_box& b, int width, int height, const resized_image& r);

/// Best IoU of `box` (XYXY in resized pixels) over all default RetinaNet anchors of an image of
/// padded size (padded_h, padded_w).
double best_anchor_iou(const float box[4], int padded_h, int padded_w);

/// The report over every sized image of `labels`.
coverage_report anchor_coverage(const detkit::label_set& labels);

/// The report as a TSV table (bucket, boxes, covered, share, mean best IoU).
std::string coverage_table(const coverage_report& r, const detkit::label_set& labels);

}  // namespace detkit_subset

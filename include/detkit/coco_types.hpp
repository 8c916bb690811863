// detkit/coco_types.hpp — what the COCO evaluator reads, is told and returns: ground truth and
// detections (XYWH_ABS boxes in double, as pycocotools reads JSON), coco_eval_params with
// pycocotools' defaults, the matching (coco_matches), and the accumulated arrays and summary.
// The readers (coco_json.hpp) and the state files (coco_eval_state.hpp) need only these types;
// the evaluator itself is coco_eval.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "detkit/config.hpp"
#include "detkit/detail/numpy_math.hpp"

DETKIT_BEGIN_NAMESPACE

/// Which numpy's np.mean the summary reproduces. Both sum pairwise (numpy_pairwise_sum); they differ
/// in how the reduction is cut up, which changes the last bits once a mean runs over more than 8192
/// values (APs/APm of a COCO-val-size case):
///   numpy_2: the whole contiguous array in one pairwise sum (numpy 2.x; pycocotools 2.0.11 on
///            numpy 2.4.6 is what the tests compare with). The default.
///   numpy_1: 8192-element buffers (np.getbufsize()), each summed pairwise, added in order (numpy
///            1.x, whose reductions always went through the buffered iterator).
enum class numpy_summation : std::uint8_t { numpy_2, numpy_1 };

// ---- Inputs ---------------------------------------------------------------------------------------

/// A COCO box [x, y, w, h] in pixels (XYWH_ABS), kept in double as pycocotools reads JSON numbers.
struct coco_bbox {
  double x = 0, y = 0, w = 0, h = 0;
};

struct coco_image {
  std::int64_t id = 0;
  std::int32_t width = 0;   // px, 0 = not given
  std::int32_t height = 0;  // px, 0 = not given
  std::string file_name;
};

struct coco_category {
  std::int64_t id = 0;
  std::string name;
};

/// One ground-truth annotation (instances file `annotations[]`).
struct coco_annotation {
  std::int64_t id = 0;
  std::int64_t image_id = 0;
  std::int64_t category_id = 0;
  coco_bbox bbox;
  double area = 0;       // the `area` field (mask area in COCO); area ranges use it, not w*h
  bool iscrowd = false;  // also pycocotools' `ignore` (any `ignore` field is overwritten)
};

struct coco_ground_truth {
  std::vector<coco_image> images;
  std::vector<coco_category> categories;
  std::vector<coco_annotation> annotations;
};

/// One detection (results file entry). Its area is w*h (loadRes overwrites any `area`).
struct coco_detection {
  std::int64_t image_id = 0;
  std::int64_t category_id = 0;
  coco_bbox bbox;
  double score = 0;
};

// ---- Parameters -----------------------------------------------------------------------------------

struct coco_area_range {
  std::string label;  // summarize() looks for "all", "small", "medium", "large"
  double lo = 0;      // px², inclusive
  double hi = 0;      // px², inclusive
};

/// pycocotools Params.useCats.
enum class category_mode : std::uint8_t { per_category, class_agnostic };
/// What to do with a GT annotation whose id is 0 (pycocotools can never count it as matched).
enum class gt_id_zero_policy : std::uint8_t { reproduce_pycocotools, fix };
/// What to do with a detection whose image_id is not a GT image (pycocotools asserts).
enum class unknown_image_policy : std::uint8_t { error, drop };
/// pycocotools: every quirk reproduced (the default). fixed: the defects users keep patching are
/// corrected; each difference is listed at the top of this file and pinned by a test.
enum class eval_mode : std::uint8_t { pycocotools, fixed };

/// Evaluation parameters: a plain aggregate whose defaults are pycocotools' Params(iouType='bbox').
struct coco_eval_params {
  std::vector<double> iou_thresholds = detail::linspace(0.5, 0.95, 10);     // iouThrs (≤ 32)
  std::vector<double> recall_thresholds = detail::linspace(0.0, 1.0, 101);  // recThrs
  std::vector<std::uint32_t> max_dets = {1, 10, 100};                       // maxDets
  std::vector<coco_area_range> area_ranges = {{"all", 0.0, 1e10},
                                              {"small", 0.0, 1024.0},
                                              {"medium", 1024.0, 9216.0},
                                              {"large", 9216.0, 1e10}};  // areaRng, areaRngLbl
  category_mode categories = category_mode::per_category;                // useCats
  eval_mode mode = eval_mode::pycocotools;
  gt_id_zero_policy gt_id_zero = gt_id_zero_policy::reproduce_pycocotools;
  unknown_image_policy unknown_images = unknown_image_policy::error;
  double score_cutoff =
      -std::numeric_limits<double>::infinity();          // try_evaluate keeps score >= this
  numpy_summation summation = numpy_summation::numpy_2;  // summarize's means (numpy 2.x or 1.x)
  unsigned threads = 0;                                  // 0 = std::thread::hardware_concurrency()
};

/// What the evaluator did with the inputs (nothing is dropped without being counted here).
struct coco_input_report {
  std::size_t detections_read = 0;
  std::size_t detections_unknown_category = 0;  // category not declared in the GT: ignored
  std::size_t detections_unknown_image = 0;     // dropped (only with unknown_image_policy::drop)
  std::size_t detections_over_max_dets = 0;     // beyond max_dets.back() in their image+category
};

// ---- Results --------------------------------------------------------------------------------------

/// A true positive in a category's ranked list: how many false positives rank above it, and its
/// position in that list (for cutoffs).
struct coco_tp_event {
  std::uint32_t fp_before = 0;
  std::uint32_t position = 0;
};

/// coco_category_matches::gt_index of a detection that matched nothing (never a valid index).
inline constexpr std::uint32_t no_match = 0xffffffffu;

/// The matching of one category (pycocotools' evalImgs for this category, already merged in
/// accumulate's order: score descending, then image, then rank inside the image).
struct coco_category_matches {
  std::int64_t category_id = 0;  // -1 in class-agnostic mode
  std::vector<double> score;
  std::vector<std::uint32_t> image_index;      // into coco_matches::image_ids
  std::vector<std::uint32_t> detection_index;  // into the input detections
  std::vector<std::uint32_t> rank;             // 0-based rank in its image (and category)
  std::vector<std::uint32_t>
      tp_mask;  // [i * A + a]: bit t set = true positive at iou_thresholds[t]
  std::vector<std::uint32_t> ignore_mask;  // [i * A + a]: bit t set = ignored
  std::vector<std::uint32_t>
      gt_index;  // [i]: input annotation matched at area 0 / iou_thresholds[0], or no_match
  std::vector<std::uint32_t> num_gt;     // [a]: non-ignored GT (pycocotools' npig)
  std::vector<std::size_t> event_begin;  // [(a * M + m) * T + t] .. +1 into events
  std::vector<coco_tp_event> events;
};

/// Per GT annotation, at area range 0 and iou_thresholds[0] (for error reports and drawings).
struct coco_gt_status {
  std::uint32_t image_index = 0;
  bool ignored = false;  // crowd, or outside area range 0
  bool matched = false;  // by some detection (of any score)
  double match_score = -std::numeric_limits<double>::infinity();  // score of that detection

  /// Matched by a detection that survives the cutoff `score >= c`.
  bool matched_at(double c) const { return matched && match_score >= c; }
};

/// Output of try_evaluate_images: everything that does not depend on the score cutoff.
struct coco_matches {
  coco_eval_params params;
  std::vector<std::int64_t> image_ids;            // ascending (pycocotools p.imgIds)
  std::vector<coco_category_matches> categories;  // ascending category id ({-1} if agnostic)
  std::vector<coco_gt_status> gt;                 // per input annotation
  coco_input_report report;
};

/// pycocotools' eval['precision'] / ['recall'] / ['scores'] for one score cutoff.
struct coco_accumulation {
  std::size_t num_iou = 0, num_recall = 0, num_categories = 0, num_areas = 0, num_max_dets = 0;
  std::vector<double> precision;  // [T][R][K][A][M], -1 = no GT
  std::vector<double> recall;     // [T][K][A][M], -1 = no GT
  std::vector<double> scores;     // [T][R][K][A][M]: score where each recall is reached, -1 = no GT
  double score_cutoff = -std::numeric_limits<double>::infinity();

  double precision_at(std::size_t t, std::size_t r, std::size_t k, std::size_t a,
                      std::size_t m) const {
    return precision[(((t * num_recall + r) * num_categories + k) * num_areas + a) * num_max_dets +
                     m];
  }
  double recall_at(std::size_t t, std::size_t k, std::size_t a, std::size_t m) const {
    return recall[((t * num_categories + k) * num_areas + a) * num_max_dets + m];
  }
};

/// Detectron2's per-category table (as fractions, -1 instead of NaN): area "all", last maxDets.
struct coco_category_summary {
  std::int64_t category_id = 0;
  double ap = -1;     // mean of precision[:, :, k, 0, -1] entries > -1
  double ap50 = -1;   // the same at the IoU threshold equal to 0.5
  double ap75 = -1;   // the same at the IoU threshold equal to 0.75
  double ar100 = -1;  // mean of recall[:, k, 0, -1] entries > -1
};

/// COCOeval.stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl) and the table.
struct coco_summary {
  double score_cutoff = -std::numeric_limits<double>::infinity();
  std::array<double, 12> stats{};
  std::vector<coco_category_summary> per_category;
};

DETKIT_END_NAMESPACE

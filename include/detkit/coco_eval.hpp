// detkit/coco_eval.hpp — COCO bbox evaluation with pycocotools' exact numbers, at any score cutoff.
//
// A C++ port of pycocotools 2.0.11 cocoeval.py (evaluate → evaluateImg, accumulate, summarize) for
// iouType='bbox', bit for bit: numpy.linspace thresholds, stable score sorts, maxDets per image *and*
// category, crowd IoU over the detection area, `ignore := iscrowd`, inclusive area ranges on the GT
// `area` field, equal IoU goes to the later GT, `+ np.spacing(1)` in precision, 101-point
// interpolation over the precision envelope, -1 for "no GT", and numpy's pairwise summation in the
// final means. tests/fixtures/coco holds pycocotools' numbers for every quirk.
//
// Decisions where pycocotools crashes or is defective (each pinned by a test):
//   * empty results (loadRes([]) raises IndexError): the empty-set values (0 where GT exists, else -1);
//   * a detection whose image_id is not a GT image (loadRes asserts): errc::eval_unknown_image,
//     unless params.unknown_images == unknown_image_policy::drop (counted in coco_input_report);
//   * a detection of an undeclared category: ignored, as pycocotools does (counted in the report);
//   * a GT annotation naming an unknown image or category (pycocotools silently skips it): error;
//   * duplicate image / category / annotation ids (pycocotools keeps the last one): error;
//   * a GT with annotation id 0 never counts as matched (pycocotools stores matches as ids and 0
//     means "unmatched"): reproduced by default, gt_id_zero_policy::fix matches it normally.
//
// Two modes (coco_eval_params::mode). eval_mode::pycocotools (default) is everything above.
// eval_mode::fixed differs in exactly these lines (tests/test_coco_eval_reports.cpp shows both
// modes' numbers for each):
//   F1 stats[0] (AP) uses max_dets.back() instead of a hard-coded 100: with maxDets {1,10,1000}
//      pycocotools prints AP = -1 (100 is not in the list), fixed gives AP@1000;
//   F2 the summary's all/small/medium/large rows are area_ranges[0..3] by position, labelled with
//      the ranges' own labels (pycocotools looks up the four default labels: custom ranges read -1);
//   F3 a GT with annotation id 0 is matched like any other (as gt_id_zero_policy::fix);
//   F5 class-agnostic mode evaluates detections of undeclared categories (e.g. category_id -1,
//      as class-agnostic detectors write them); pycocotools drops them (cocoapi#515: AP 0);
//   F4 (coco_json.hpp, coco_read_options) a GT annotation without `area` gets bbox w*h and a
//      located warning through a callback (pycocotools: KeyError; pycocotools mode: an error);
//   (empty results score 0 where GT exists in both modes; unknown images are an error in both.)
//
// Score cutoffs: keeping `score >= c` keeps a prefix of every image's score-sorted detections, and
// pycocotools' greedy matching decides each detection from the ones before it only, so the matching
// of the filtered set is the prefix of the full matching. Matching therefore runs once
// (try_evaluate_images) and any number of cutoffs are accumulated from it (accumulate, sweep).
//
// Usage (the readers are in coco_json.hpp):
//     auto gt = detkit::read_coco_ground_truth("instances_val2017.json");
//     auto dt = detkit::read_coco_results("detections.json");
//     detkit::coco_eval_result r = detkit::evaluate(gt, dt);  // params default to pycocotools'
//     std::fputs(detkit::format_summary(r.summary).c_str(), stdout);  // the 12 familiar lines
//     auto at_half = detkit::summarize(detkit::accumulate(r.matches, 0.5), r.matches);
//     auto sweep = detkit::sweep_score_cutoffs(r.matches, detkit::default_score_cutoffs());
//
// Bit-exactness needs IEEE doubles without FMA contraction: build with -ffp-contract=off (detkit's
// own targets do) or for a target without FMA.
//
// The entry points are `template <class = void>` only so that a file including this header
// instantiates their bodies when it calls them, not before (bench/compile_time.sh measures it).
#pragma once

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "detkit/coco_match.hpp"
#include "detkit/coco_summarize.hpp"
#include "detkit/coco_types.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// Everything try_evaluate computes.
struct coco_eval_result {
  coco_matches matches;
  coco_accumulation accumulation;
  coco_summary summary;
};

/// evaluate() + accumulate() + summarize() at params.score_cutoff.
template <class = void>
[[nodiscard]] result<coco_eval_result> try_evaluate(const coco_ground_truth& gt,
                                                    const std::vector<coco_detection>& dts,
                                                    const coco_eval_params& params = {}) {
  auto mt = try_evaluate_images(gt, dts, params);
  if (!mt) return std::move(mt).error();
  coco_eval_result r;
  r.matches = std::move(*mt);
  r.accumulation = accumulate(r.matches, params.score_cutoff);
  r.summary = summarize(r.accumulation, r.matches);
  return r;
}
template <class = void>
coco_eval_result evaluate(const coco_ground_truth& gt, const std::vector<coco_detection>& dts,
                          const coco_eval_params& params = {}) {
  return try_evaluate(gt, dts, params).value();
}

/// Per image, at area range 0 and iou_thresholds[0], for detections with score >= cutoff.
struct coco_image_errors {
  std::uint32_t image_index = 0;  // into coco_matches::image_ids
  std::uint32_t true_positives = 0;
  std::uint32_t false_positives = 0;
  std::uint32_t missed = 0;  // non-ignored GT without a match
};

/// Counts per image (all images, in image_ids order); sort them to find the worst.
template <class = void>
std::vector<coco_image_errors> image_errors(
    const coco_matches& mt, double score_cutoff = -std::numeric_limits<double>::infinity()) {
  const std::size_t A = mt.params.area_ranges.size();
  std::vector<coco_image_errors> out(mt.image_ids.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i].image_index = static_cast<std::uint32_t>(i);
  for (const auto& c : mt.categories) {
    const std::size_t limit = detail::prefix_at_cutoff(c.score, score_cutoff);
    for (std::size_t i = 0; i < limit; ++i) {
      coco_image_errors& e = out[c.image_index[i]];
      if (c.tp_mask[i * A] & 1u)
        ++e.true_positives;
      else if (!(c.ignore_mask[i * A] & 1u))
        ++e.false_positives;
    }
  }
  for (const auto& g : mt.gt)
    if (!g.ignored && !g.matched_at(score_cutoff)) ++out[g.image_index].missed;
  return out;
}

/// Per input detection, at area range 0 and iou_thresholds[0]: 1 true positive, 0 false
/// positive, 2 ignored, -1 not evaluated (unknown category or image, beyond max_dets).
template <class = void>
std::vector<std::int8_t> detection_status(const coco_matches& mt, std::size_t num_detections) {
  const std::size_t A = mt.params.area_ranges.size();
  std::vector<std::int8_t> out(num_detections, -1);
  for (const auto& c : mt.categories) {
    for (std::size_t i = 0; i < c.score.size(); ++i) {
      const std::uint32_t d = c.detection_index[i];
      if (d >= num_detections) continue;
      out[d] = (c.tp_mask[i * A] & 1u) ? 1 : (c.ignore_mask[i * A] & 1u) ? 2 : 0;
    }
  }
  return out;
}

DETKIT_END_NAMESPACE

// detkit/coco_eval.hpp — COCO bbox evaluation with pycocotools' exact numbers, at any score cutoff.
//
// A C++ port of pycocotools 2.0.11 cocoeval.py (evaluate → evaluateImg, accumulate, summarize) for
// iouType='bbox', bit for bit: numpy.linspace thresholds, stable score sorts, maxDets per image *and*
// category, crowd IoU over the detection area, `ignore := iscrowd`, inclusive area ranges on the GT
// `area` field, equal IoU goes to the later GT, `+ np.spacing(1)` in precision, 101-point
// interpolation over the precision envelope, -1 for "no GT", and numpy's pairwise summation in the
// final means. Every quirk is listed in shared reference coco-eval.md §5; tests/fixtures/coco holds
// pycocotools' numbers for each of them.
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
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

namespace detail {
/// numpy.linspace(start, stop, num): `i*step + start` (two roundings), the last element forced to
/// `stop`. Gives pycocotools' exact thresholds (iouThrs[8] = 0.8999999999999999).
inline std::vector<double> linspace(double start, double stop, std::size_t num) {
  std::vector<double> y(num);
  if (num == 0) return y;
  if (num == 1) {
    y[0] = start;
    return y;
  }
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (std::size_t i = 0; i < num; ++i) {
    const double scaled = static_cast<double>(i) * step;
    y[i] = scaled + start;
  }
  y[num - 1] = stop;
  return y;
}

/// numpy's pairwise summation (np.add.reduce on a contiguous float64 array): 8 accumulators inside
/// blocks of up to 128, recursive halving at multiples of 8 above that.
inline double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

}  // namespace detail

/// Which numpy's np.mean the summary reproduces. Both sum pairwise (numpy_pairwise_sum); they differ
/// in how the reduction is cut up, which changes the last bits once a mean runs over more than 8192
/// values (APs/APm of a COCO-val-size case):
///   numpy_2: the whole contiguous array in one pairwise sum (numpy 2.x; pycocotools 2.0.11 on
///            numpy 2.4.6 is what the tests compare with). The default.
///   numpy_1: 8192-element buffers (np.getbufsize()), each summed pairwise, added in order (numpy
///            1.x, whose reductions always went through the buffered iterator: numpy issue 17649).
enum class numpy_summation : std::uint8_t { numpy_2, numpy_1 };

namespace detail {
/// np.mean of a 1-D contiguous float64 array as the chosen numpy computes it. n = 0 gives NaN.
inline double numpy_mean(const double* a, std::size_t n,
                         numpy_summation how = numpy_summation::numpy_2) {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  if (how == numpy_summation::numpy_2) return numpy_pairwise_sum(a, n) / static_cast<double>(n);
  double sum = 0.;
  for (std::size_t i = 0; i < n; i += 8192)
    sum += numpy_pairwise_sum(a + i, std::min<std::size_t>(8192, n - i));
  return sum / static_cast<double>(n);
}

/// `threads` as given, or all cores for 0.
inline unsigned resolve_threads(unsigned threads) {
  return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

/// Runs fn(i) for i in [0, n) on `threads` threads (dynamic scheduling); rethrows the first
/// exception on the calling thread.
template <class Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads <= 1 || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto worker = [&]() {
    try {
      for (std::size_t i = next++; i < n && !failed.load(); i = next++) fn(i);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  const std::size_t extra = std::min<std::size_t>(threads, n) - 1;
  pool.reserve(extra);
  for (std::size_t t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}

/// id → dense index: a table when the ids are compact, else a sorted vector and binary search.
class id_index {
 public:
  static constexpr std::uint32_t npos = 0xffffffffu;
  // `sorted_ids` ascending and unique.
  explicit id_index(const std::vector<std::int64_t>& sorted_ids) {
    if (sorted_ids.empty()) return;
    min_ = sorted_ids.front();
    const std::int64_t max = sorted_ids.back();
    const std::uint64_t range = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min_);
    if (range < 8 * sorted_ids.size() + 4096) {
      table_.assign(static_cast<std::size_t>(range) + 1, npos);
      for (std::size_t i = 0; i < sorted_ids.size(); ++i) {
        table_[static_cast<std::size_t>(static_cast<std::uint64_t>(sorted_ids[i]) -
                                        static_cast<std::uint64_t>(min_))] =
            static_cast<std::uint32_t>(i);
      }
    } else {
      sorted_ = &sorted_ids;
    }
  }
  std::uint32_t find(std::int64_t id) const {
    if (!table_.empty()) {
      if (id < min_) return npos;
      const std::uint64_t off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
      return off < table_.size() ? table_[static_cast<std::size_t>(off)] : npos;
    }
    if (!sorted_) return npos;
    auto it = std::lower_bound(sorted_->begin(), sorted_->end(), id);
    if (it == sorted_->end() || *it != id) return npos;
    return static_cast<std::uint32_t>(it - sorted_->begin());
  }

 private:
  std::int64_t min_ = 0;
  std::vector<std::uint32_t> table_;
  const std::vector<std::int64_t>* sorted_ = nullptr;
};
}  // namespace detail

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

// ---- evaluate_image ------------------------------------------------------------------------------

/// Reusable buffers for evaluate_image (one per thread).
struct coco_image_scratch {
  std::vector<double> iou;       // [d * G + g], g in input order
  std::vector<double> row_max;   // [d]: max over g of iou
  std::vector<double> det_area;  // [d]: w*h
  std::vector<std::uint32_t> order;
  std::vector<std::uint8_t> gt_ignore, matched;
  std::vector<std::uint8_t> gt_ignored_in;  // [a * G + g]: GT g ignored in area range a
  std::vector<std::int32_t> match;          // [(a * T + t) * D + d]: matched GT g, or -1
};

/// C bbIou for one pair: doubles, crowd IoU over the detection area `da` (= w*h), 0 when the boxes
/// do not overlap.
inline double coco_iou(const coco_bbox& db, double da, const coco_bbox& gb, bool crowd) {
  const double w = std::fmin(db.w + db.x, gb.w + gb.x) - std::fmax(db.x, gb.x);
  if (w <= 0) return 0;
  const double h = std::fmin(db.h + db.y, gb.h + gb.y) - std::fmax(db.y, gb.y);
  if (h <= 0) return 0;
  const double i = w * h;
  const double ga = gb.w * gb.h;
  const double u = crowd ? da : da + ga - i;
  return i / u;
}

namespace detail {
// pycocotools' greedy matching for one area range and IoU threshold: match[d] = the GT (input
// index) detection d takes, or -1. `order` lists the GTs non-ignored first; gt_ignore is by
// position in `order`.
inline void match_greedy(const coco_annotation* const* gts, std::size_t G, std::size_t D,
                         double start, coco_image_scratch& s, std::int32_t* match) {
  std::fill(s.matched.begin(), s.matched.end(), std::uint8_t{0});
  for (std::size_t d = 0; d < D; ++d) {
    double best = start;
    std::ptrdiff_t m = -1;
    const double* row = s.iou.data() + d * G;
    // No GT reaches the start value: the walk below would match nothing.
    const std::size_t walk = s.row_max[d] < start ? 0 : G;
    for (std::size_t j = 0; j < walk; ++j) {
      const std::uint32_t g = s.order[j];
      if (s.matched[j] && !gts[g]->iscrowd) continue;
      if (m > -1 && !s.gt_ignore[static_cast<std::size_t>(m)] && s.gt_ignore[j]) break;
      if (row[g] < best) continue;
      best = row[g];
      m = static_cast<std::ptrdiff_t>(j);
    }
    if (m == -1) {
      match[d] = -1;
      continue;
    }
    s.matched[static_cast<std::size_t>(m)] = 1;
    match[d] = static_cast<std::int32_t>(s.order[static_cast<std::size_t>(m)]);
  }
}
}  // namespace detail

/// pycocotools evaluateImg for one image and category, all area ranges and IoU thresholds at once.
/// `dts` must already be in score order (stable) and cut to max_dets.back(). Writes, per detection
/// d and area range a, tp_mask[d*A+a] / ignore_mask[d*A+a] (bit t per IoU threshold), adds the
/// non-ignored GT count per area range to num_gt[a], and for area 0 / threshold 0 stores in
/// gt_match[g] the index of the detection matched to GT g (-1 none; a crowd GT keeps the last)
/// and, when dt_match is given, dt_match[d] the GT matched by detection d (-1 none).
inline void evaluate_image(const coco_annotation* const* gts, std::size_t G,
                           const coco_detection* const* dts, std::size_t D,
                           const coco_eval_params& p, coco_image_scratch& s, std::uint32_t* tp_mask,
                           std::uint32_t* ignore_mask, std::uint32_t* num_gt,
                           std::int32_t* gt_match, std::int32_t* dt_match = nullptr) {
  const std::size_t A = p.area_ranges.size();
  const std::size_t T = p.iou_thresholds.size();
  for (std::size_t g = 0; g < G; ++g) gt_match[g] = -1;
  if (dt_match)
    for (std::size_t d = 0; d < D; ++d) dt_match[d] = -1;
  // C bbIou: doubles, crowd IoU over the detection area.
  s.iou.resize(D * G);
  s.row_max.resize(D);
  s.det_area.resize(D);
  double max_iou = 0;
  for (std::size_t d = 0; d < D; ++d) {
    const coco_bbox& db = dts[d]->bbox;
    const double da = db.w * db.h;
    s.det_area[d] = da;
    double row_max = 0;
    for (std::size_t g = 0; g < G; ++g) {
      const double o = coco_iou(db, da, gts[g]->bbox, gts[g]->iscrowd);
      s.iou[d * G + g] = o;
      row_max = std::max(row_max, o);
    }
    s.row_max[d] = row_max;
    max_iou = std::max(max_iou, row_max);
  }
  s.order.resize(G);
  s.gt_ignore.resize(G);
  s.matched.resize(G);
  s.gt_ignored_in.resize(A * G);
  s.match.resize(A * T * D);
  const bool id_zero_quirk =
      p.gt_id_zero == gt_id_zero_policy::reproduce_pycocotools && p.mode == eval_mode::pycocotools;
  const double match_cap = 1 - 1e-10;
  for (std::size_t a = 0; a < A; ++a) {
    const double lo = p.area_ranges[a].lo, hi = p.area_ranges[a].hi;
    std::uint8_t* ignored = s.gt_ignored_in.data() + a * G;
    std::size_t n = 0;
    for (std::size_t g = 0; g < G; ++g) {
      ignored[g] = gts[g]->iscrowd || gts[g]->area < lo || gts[g]->area > hi;
      n += !ignored[g];
    }
    num_gt[a] += static_cast<std::uint32_t>(n);
    // The matching depends on the area range only through which GTs it ignores: a range that
    // ignores the same ones as an earlier range (usually most of them: "all" and the one a
    // lone GT's size falls in; the others) reuses that range's matches.
    std::size_t same = a;
    for (std::size_t b = 0; b < a && same == a; ++b)
      if (std::equal(ignored, ignored + G, s.gt_ignored_in.data() + b * G)) same = b;
    std::int32_t* match = s.match.data() + a * T * D;
    if (same != a) {
      std::copy_n(s.match.data() + same * T * D, T * D, match);
    } else {
      // GTs stable-sorted with non-ignored first.
      for (std::size_t g = 0, i = 0, j = n; g < G; ++g)
        s.order[ignored[g] ? j++ : i++] = static_cast<std::uint32_t>(g);
      for (std::size_t j = 0; j < G; ++j) s.gt_ignore[j] = j >= n;
      for (std::size_t t = 0; t < T; ++t) {
        const double start = std::min(p.iou_thresholds[t], match_cap);
        if (max_iou < start)  // no detection reaches this threshold (usual at the high ones)
          std::fill_n(match + t * D, D, -1);
        else
          detail::match_greedy(gts, G, D, start, s, match + t * D);
      }
      if (a == 0)
        for (std::size_t d = 0; d < D; ++d)
          if (match[d] >= 0) {
            gt_match[match[d]] = static_cast<std::int32_t>(d);
            if (dt_match) dt_match[d] = match[d];
          }
    }
    for (std::size_t d = 0; d < D; ++d) {
      const double darea = s.det_area[d];  // loadRes: area = w*h
      const bool out_of_range = darea < lo || darea > hi;
      std::uint32_t tp = 0, ig = 0;
      for (std::size_t t = 0; t < T; ++t) {
        const std::uint32_t bit = 1u << t;
        const std::int32_t g = match[t * D + d];
        if (g < 0) {
          if (out_of_range) ig |= bit;
        } else if (id_zero_quirk && gts[g]->id == 0) {
          // dtMatches holds the GT id, and 0 reads as "unmatched": an FP unless ignored.
          if (ignored[g] || out_of_range) ig |= bit;
        } else if (ignored[g]) {
          ig |= bit;
        } else {
          tp |= bit;
        }
      }
      tp_mask[d * A + a] = tp;
      ignore_mask[d * A + a] = ig;
    }
  }
}

// ---- The pipeline ---------------------------------------------------------------------------------

namespace detail {
inline error eval_error(errc code, std::string message) {
  return make_error(code, std::move(message));
}

inline result<void> validate_params(const coco_eval_params& p) {
  if (p.iou_thresholds.empty() || p.iou_thresholds.size() > 32)
    return eval_error(errc::eval_bad_params, "iou_thresholds must have 1 to 32 entries");
  if (p.recall_thresholds.empty())
    return eval_error(errc::eval_bad_params, "recall_thresholds must not be empty");
  if (p.max_dets.empty()) return eval_error(errc::eval_bad_params, "max_dets must not be empty");
  for (auto m : p.max_dets)
    if (m == 0) return eval_error(errc::eval_bad_params, "max_dets entries must be > 0");
  if (p.area_ranges.empty())
    return eval_error(errc::eval_bad_params, "area_ranges must not be empty");
  for (double v : p.iou_thresholds)
    if (!std::isfinite(v)) return eval_error(errc::eval_bad_params, "iou_thresholds: not finite");
  for (double v : p.recall_thresholds)
    if (!std::isfinite(v))
      return eval_error(errc::eval_bad_params, "recall_thresholds: not finite");
  if (std::isnan(p.score_cutoff)) return eval_error(errc::eval_bad_params, "score_cutoff is NaN");
  return {};
}

template <class T, class Key>
result<std::vector<std::int64_t>> sorted_unique_ids(const std::vector<T>& items, Key key,
                                                    const char* what) {
  std::vector<std::int64_t> ids;
  ids.reserve(items.size());
  for (const auto& it : items) ids.push_back(key(it));
  std::sort(ids.begin(), ids.end());
  auto dup = std::adjacent_find(ids.begin(), ids.end());
  if (dup != ids.end())
    return eval_error(errc::eval_duplicate_id,
                      std::string("duplicate ") + what + " id " + std::to_string(*dup));
  return ids;
}

inline bool finite_box(const coco_bbox& b) {
  return std::isfinite(b.x) && std::isfinite(b.y) && std::isfinite(b.w) && std::isfinite(b.h);
}

// Sizes one category's ranked arrays for n detections over A area ranges (evaluation and the
// shard merge fill them in accumulate's order).
inline void resize_ranked(coco_category_matches& c, std::size_t n, std::size_t A) {
  c.score.resize(n);
  c.image_index.resize(n);
  c.detection_index.resize(n);
  c.rank.resize(n);
  c.gt_index.resize(n);
  c.tp_mask.resize(n * A);
  c.ignore_mask.resize(n * A);
}

// The positions of `score` in a stable sort on descending score (numpy's mergesort of -score):
// an LSD radix sort on keys that order like the doubles, 11 bits a pass, skipping the passes
// whose digit every key shares (the sign and most exponent bits for scores in [0, 1]). A
// category's list is ~10k long; this is ~4x std::sort on (score, position) pairs.
inline std::vector<std::uint32_t> stable_order_by_score_desc(const std::vector<double>& score) {
  const std::size_t n = score.size();
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  if (n < 64) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return score[x] > score[y]; });
    return order;
  }
  // Ascending keys for descending scores; -0.0 + 0.0 is +0.0, so the two zeros tie as they compare.
  std::vector<std::uint64_t> key(n), key_tmp(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = score[i] + 0.0;
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    u = (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));  // ascending with v
    key[i] = ~u;
  }
  constexpr unsigned bits = 11, passes = (64 + bits - 1) / bits;
  constexpr std::size_t buckets = std::size_t{1} << bits;
  std::vector<std::uint32_t> count(passes * buckets, 0), order_tmp(n);
  for (std::size_t i = 0; i < n; ++i)
    for (unsigned p = 0; p < passes; ++p)
      ++count[p * buckets + ((key[i] >> (p * bits)) & (buckets - 1))];
  for (unsigned p = 0; p < passes; ++p) {
    std::uint32_t* c = count.data() + p * buckets;
    const unsigned shift = p * bits;
    if (c[(key[0] >> shift) & (buckets - 1)] == n) continue;  // every key has this digit
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::uint32_t k = c[b];
      c[b] = sum;
      sum += k;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t at = c[(key[i] >> shift) & (buckets - 1)]++;
      key_tmp[at] = key[i];
      order_tmp[at] = order[i];
    }
    key.swap(key_tmp);
    order.swap(order_tmp);
  }
  return order;
}

// Fills events of one category from its ranked detections (see coco_tp_event).
inline void build_events(coco_category_matches& c, const coco_eval_params& p) {
  const std::size_t A = p.area_ranges.size(), M = p.max_dets.size(), T = p.iou_thresholds.size();
  const std::size_t n = c.score.size();
  const std::uint32_t full = T >= 32 ? 0xffffffffu : ((1u << T) - 1u);
  std::vector<std::vector<coco_tp_event>> ev(A * M * T);
  std::vector<std::uint32_t> seen(M), ig_before(M * T), tp_before(M * T);
  for (std::size_t a = 0; a < A; ++a) {
    std::fill(seen.begin(), seen.end(), 0u);
    std::fill(ig_before.begin(), ig_before.end(), 0u);
    std::fill(tp_before.begin(), tp_before.end(), 0u);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t ig = c.ignore_mask[i * A + a];
      if (ig == full) continue;  // zero increments at every threshold (pycocotools keeps it inert)
      const std::uint32_t tp = c.tp_mask[i * A + a];
      for (std::size_t m = 0; m < M; ++m) {
        if (c.rank[i] >= p.max_dets[m]) continue;
        for (std::uint32_t bits = tp; bits; bits &= bits - 1) {
          const std::size_t t = static_cast<std::size_t>(__builtin_ctz(bits));
          const std::size_t mt = m * T + t;
          ev[(a * M + m) * T + t].push_back(
              {seen[m] - ig_before[mt] - tp_before[mt], static_cast<std::uint32_t>(i)});
          ++tp_before[mt];
        }
        for (std::uint32_t bits = ig; bits; bits &= bits - 1)
          ++ig_before[m * T + static_cast<std::size_t>(__builtin_ctz(bits))];
        ++seen[m];
      }
    }
  }
  c.event_begin.assign(A * M * T + 1, 0);
  std::size_t total = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    c.event_begin[i] = total;
    total += ev[i].size();
  }
  c.event_begin[ev.size()] = total;
  c.events.clear();
  c.events.reserve(total);
  for (auto& v : ev) c.events.insert(c.events.end(), v.begin(), v.end());
}
}  // namespace detail

namespace detail {
// try_evaluate_images for both overloads; `owned` (the caller's vector, given up) is freed as
// soon as the detections are copied into per-category lists.
inline result<coco_matches> evaluate_images_impl(const coco_ground_truth& gt,
                                                 const std::vector<coco_detection>& dts,
                                                 std::vector<coco_detection>* owned,
                                                 const coco_eval_params& params) {
  using detail::eval_error;
  if (auto ok = detail::validate_params(params); !ok) return ok.error();
  coco_matches out;
  out.params = params;
  const coco_eval_params& p = out.params;
  const std::size_t A = p.area_ranges.size();
  const std::uint32_t max_det_eval = p.max_dets.back();

  auto img_ids = detail::sorted_unique_ids(
      gt.images, [](const coco_image& i) { return i.id; }, "image");
  if (!img_ids) return std::move(img_ids).error();
  out.image_ids = std::move(*img_ids);
  auto cat_ids = detail::sorted_unique_ids(
      gt.categories, [](const coco_category& c) { return c.id; }, "category");
  if (!cat_ids) return std::move(cat_ids).error();
  auto ann_ids = detail::sorted_unique_ids(
      gt.annotations, [](const coco_annotation& a) { return a.id; }, "annotation");
  if (!ann_ids) return std::move(ann_ids).error();
  const detail::id_index img_index(out.image_ids);
  const detail::id_index cat_index(*cat_ids);
  const bool agnostic = p.categories == category_mode::class_agnostic;
  const std::size_t K = agnostic ? 1 : cat_ids->size();
  if (out.image_ids.size() >= 0xffffffffu || dts.size() >= 0xffffffffu ||
      gt.annotations.size() >= 0x7fffffffu)
    return eval_error(errc::eval_bad_params, "too many images, annotations or detections");

  // GT: (bucket, image, category, file position) order.
  struct ref {
    std::uint32_t bucket, image, category, index;
  };
  // Detections carry a copy of themselves so the matching reads them sequentially (the input
  // order is random with respect to (category, image): a pointer chase cost ~30% of the time).
  // One list per category, each freed once its category is matched.
  struct dt_ref {
    coco_detection det;
    std::uint32_t image, index;
  };
  std::vector<ref> gref;
  gref.reserve(gt.annotations.size());
  out.gt.resize(gt.annotations.size());
  for (std::size_t i = 0; i < gt.annotations.size(); ++i) {
    const coco_annotation& an = gt.annotations[i];
    const std::uint32_t im = img_index.find(an.image_id);
    if (im == detail::id_index::npos)
      return eval_error(errc::eval_unknown_image,
                        "annotation id " + std::to_string(an.id) + " names image_id " +
                            std::to_string(an.image_id) + ", which is not in images");
    const std::uint32_t ca = cat_index.find(an.category_id);
    if (ca == detail::id_index::npos)
      return eval_error(errc::eval_unknown_category,
                        "annotation id " + std::to_string(an.id) + " names category_id " +
                            std::to_string(an.category_id) + ", which is not in categories");
    if (!detail::finite_box(an.bbox) || !std::isfinite(an.area))
      return eval_error(errc::eval_bad_value,
                        "annotation id " + std::to_string(an.id) + ": bbox or area is not finite");
    gref.push_back({agnostic ? 0u : ca, im, ca, static_cast<std::uint32_t>(i)});
    out.gt[i].image_index = im;
  }
  std::sort(gref.begin(), gref.end(), [](const ref& x, const ref& y) {
    if (x.bucket != y.bucket) return x.bucket < y.bucket;
    if (x.image != y.image) return x.image < y.image;
    if (x.category != y.category) return x.category < y.category;
    return x.index < y.index;
  });
  // Bucket by category (counting sort keeps file order), then sort each bucket in parallel.
  auto bucket_split = [K](std::vector<ref>& v) {
    std::vector<std::size_t> begin(K + 1, 0);
    for (const ref& r : v) ++begin[r.bucket + 1];
    for (std::size_t k = 0; k < K; ++k) begin[k + 1] += begin[k];
    std::vector<ref> sorted(v.size());
    std::vector<std::size_t> pos(begin.begin(), begin.end() - 1);
    for (const ref& r : v) sorted[pos[r.bucket]++] = r;
    v.swap(sorted);
    return begin;
  };
  const std::vector<std::size_t> gbegin = bucket_split(gref);  // gref already sorted: stays so

  // Detections: pass 1 resolves ids (4 bytes each: bucket, or a skip mark) and counts per bucket;
  // pass 2 places them, so the large copies are made once.
  constexpr std::uint32_t skip = 0xffffffffu;
  std::vector<std::uint32_t> dbucket(dts.size());
  std::vector<std::uint32_t> dimage(dts.size());
  out.report.detections_read = dts.size();
  // Detection i's bucket and image, or skip (counted in the report), or an error.
  enum class dt_check : std::uint8_t { ok, unknown_category, unknown_image, bad_value, foreign };
  auto check = [&](std::size_t i) -> dt_check {
    const coco_detection& d = dts[i];
    if (!detail::finite_box(d.bbox) || std::isnan(d.score)) return dt_check::bad_value;
    const std::uint32_t ca = cat_index.find(d.category_id);
    // pycocotools drops them even when class-agnostic (cocoapi#515: results labelled -1 never
    // match); fixed mode evaluates them there, since the category plays no part.
    if (ca == detail::id_index::npos && !(agnostic && p.mode == eval_mode::fixed))
      return dt_check::unknown_category;
    const std::uint32_t im = img_index.find(d.image_id);
    if (im == detail::id_index::npos)
      return p.unknown_images == unknown_image_policy::drop ? dt_check::unknown_image
                                                            : dt_check::foreign;
    dbucket[i] = agnostic ? 0u : ca;
    dimage[i] = im;
    return dt_check::ok;
  };
  // Both passes run on contiguous ranges in parallel; each range's detections land after the
  // previous range's in every category list, so the lists keep input order.
  const std::size_t parts = std::max<std::size_t>(
      1, std::min<std::size_t>(resolve_threads(p.threads), dts.size() / 65536));
  std::vector<std::vector<std::size_t>> count(parts, std::vector<std::size_t>(K, 0));
  std::vector<std::size_t> first_error(parts, dts.size()), dropped_category(parts, 0),
      dropped_image(parts, 0);
  auto range = [&](std::size_t t) {
    return std::make_pair(dts.size() * t / parts, dts.size() * (t + 1) / parts);
  };
  detail::parallel_for(parts, p.threads, [&](std::size_t t) {
    const auto [from, to] = range(t);
    for (std::size_t i = from; i < to; ++i) {
      dbucket[i] = skip;
      switch (check(i)) {
        case dt_check::ok:
          ++count[t][dbucket[i]];
          break;
        case dt_check::unknown_category:
          ++dropped_category[t];
          break;
        case dt_check::unknown_image:
          ++dropped_image[t];
          break;
        default:
          first_error[t] = i;
          return;
      }
    }
  });
  for (std::size_t t = 0; t < parts; ++t) {
    const std::size_t i = first_error[t];
    if (i < dts.size()) {
      if (check(i) == dt_check::bad_value)
        return eval_error(errc::eval_bad_value,
                          "detection " + std::to_string(i) + ": bbox or score is not finite");
      return eval_error(errc::eval_unknown_image,
                        "detection " + std::to_string(i) + " names image_id " +
                            std::to_string(dts[i].image_id) +
                            ", which is not a ground-truth image (pycocotools: \"Results do not "
                            "correspond to current coco set\"); drop such detections on purpose "
                            "with unknown_image_policy::drop");
    }
    out.report.detections_unknown_category += dropped_category[t];
    out.report.detections_unknown_image += dropped_image[t];
  }
  std::vector<std::vector<dt_ref>> dref(K);
  detail::parallel_for(K, p.threads, [&](std::size_t k) {
    std::size_t total = 0;
    for (std::size_t t = 0; t < parts; ++t) {
      const std::size_t c = count[t][k];
      count[t][k] = total;  // now: where range t's detections of category k start
      total += c;
    }
    dref[k].resize(total);
  });
  detail::parallel_for(parts, p.threads, [&](std::size_t t) {
    std::vector<std::size_t>& at = count[t];
    const auto [from, to] = range(t);
    for (std::size_t i = from; i < to; ++i)
      if (dbucket[i] != skip)
        dref[dbucket[i]][at[dbucket[i]]++] = {dts[i], dimage[i], static_cast<std::uint32_t>(i)};
  });
  std::vector<std::uint32_t>().swap(dbucket);
  std::vector<std::uint32_t>().swap(dimage);
  if (owned) std::vector<coco_detection>().swap(*owned);  // `dts` is not read below

  out.categories.resize(K);
  std::vector<std::size_t> over_max(K, 0);
  detail::parallel_for(K, p.threads, [&](std::size_t k) {
    std::vector<dt_ref>& dk = dref[k];
    // (The category id orders like its index: ids are sorted. It differs only class-agnostic.)
    auto before = [](const dt_ref& x, const dt_ref& y) {
      if (x.image != y.image) return x.image < y.image;
      if (x.det.score != y.det.score) return x.det.score > y.det.score;
      if (x.det.category_id != y.det.category_id) return x.det.category_id < y.det.category_id;
      return x.index < y.index;
    };
    // Results files usually list detections image by image: then only each image's few
    // detections need sorting (the list is in input order, so `index` already ascends).
    if (std::is_sorted(dk.begin(), dk.end(),
                       [](const dt_ref& x, const dt_ref& y) { return x.image < y.image; })) {
      for (auto g = dk.begin(); g != dk.end();) {
        auto e = g + 1;
        while (e != dk.end() && e->image == g->image) ++e;
        if (e - g > 1) std::sort(g, e, before);
        g = e;
      }
    } else {
      std::sort(dk.begin(), dk.end(), before);
    }
    coco_category_matches& c = out.categories[k];
    c.category_id = agnostic ? -1 : (*cat_ids)[k];
    c.num_gt.assign(A, 0);
    coco_image_scratch scratch;
    std::vector<const coco_annotation*> g_ptr;
    std::vector<const coco_detection*> d_ptr;
    std::vector<std::int32_t> g_match, d_match;
    std::size_t gi = gbegin[k], di = 0;
    const std::size_t gend = gbegin[k + 1], dend = dk.size();
    // Unranked storage in (image, rank) order.
    std::vector<double> score;
    std::vector<std::uint32_t> image, det, rank, tpm, igm, gix;
    while (gi < gend || di < dend) {
      const std::uint32_t im = std::min(gi < gend ? gref[gi].image : 0xffffffffu,
                                        di < dend ? dk[di].image : 0xffffffffu);
      g_ptr.clear();
      d_ptr.clear();
      const std::size_t g0 = gi;
      for (; gi < gend && gref[gi].image == im; ++gi)
        g_ptr.push_back(&gt.annotations[gref[gi].index]);
      const std::size_t d0 = di;
      for (; di < dend && dk[di].image == im; ++di)
        if (di - d0 < max_det_eval) d_ptr.push_back(&dk[di].det);
      over_max[k] += (di - d0) - d_ptr.size();
      const std::size_t G = g_ptr.size(), D = d_ptr.size();
      const std::size_t base = score.size();
      tpm.resize((base + D) * A);
      igm.resize((base + D) * A);
      g_match.resize(G);
      d_match.resize(D);
      evaluate_image(g_ptr.data(), G, d_ptr.data(), D, p, scratch, tpm.data() + base * A,
                     igm.data() + base * A, c.num_gt.data(), g_match.data(), d_match.data());
      for (std::size_t d = 0; d < D; ++d) {
        score.push_back(d_ptr[d]->score);
        image.push_back(im);
        det.push_back(dk[d0 + d].index);
        rank.push_back(static_cast<std::uint32_t>(d));
        gix.push_back(d_match[d] < 0 ? no_match
                                     : gref[g0 + static_cast<std::size_t>(d_match[d])].index);
      }
      const double lo = p.area_ranges[0].lo, hi = p.area_ranges[0].hi;
      for (std::size_t g = 0; g < G; ++g) {
        coco_gt_status& st = out.gt[gref[g0 + g].index];
        st.ignored = g_ptr[g]->iscrowd || g_ptr[g]->area < lo || g_ptr[g]->area > hi;
        if (g_match[g] >= 0) {
          st.matched = true;
          st.match_score = d_ptr[static_cast<std::size_t>(g_match[g])]->score;
        }
      }
    }
    std::vector<dt_ref>().swap(dk);
    // accumulate's order: stable sort on descending score of the image-ordered concatenation.
    const std::vector<std::uint32_t> perm = detail::stable_order_by_score_desc(score);
    const std::size_t n = perm.size();
    detail::resize_ranked(c, n, A);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t s = perm[i];
      c.gt_index[i] = gix[s];
      c.score[i] = score[s];
      c.image_index[i] = image[s];
      c.detection_index[i] = det[s];
      c.rank[i] = rank[s];
      for (std::size_t a = 0; a < A; ++a) {
        c.tp_mask[i * A + a] = tpm[s * A + a];
        c.ignore_mask[i * A + a] = igm[s * A + a];
      }
    }
    detail::build_events(c, p);
  });
  for (std::size_t v : over_max) out.report.detections_over_max_dets += v;
  return out;
}
}  // namespace detail

/// pycocotools COCOeval.evaluate() (+ the cutoff-independent half of accumulate): validates the
/// inputs, matches every image and category in parallel, and ranks each category's detections.
[[nodiscard]] inline result<coco_matches> try_evaluate_images(
    const coco_ground_truth& gt, const std::vector<coco_detection>& dts,
    const coco_eval_params& params) {
  return detail::evaluate_images_impl(gt, dts, nullptr, params);
}
/// The same, giving up the detections: they are freed once copied into per-category lists, so
/// the peak memory holds one copy of them (a COCO results file of 4M detections: ~220 MB less).
[[nodiscard]] inline result<coco_matches> try_evaluate_images(const coco_ground_truth& gt,
                                                              std::vector<coco_detection>&& dts,
                                                              const coco_eval_params& params) {
  return detail::evaluate_images_impl(gt, dts, &dts, params);
}

inline coco_matches evaluate_images(const coco_ground_truth& gt,
                                    const std::vector<coco_detection>& dts,
                                    const coco_eval_params& params = {}) {
  return try_evaluate_images(gt, dts, params).value();
}

namespace detail {
// Number of detections in a category's ranked list with score >= cutoff (a prefix).
inline std::size_t prefix_at_cutoff(const std::vector<double>& score, double cutoff) {
  return static_cast<std::size_t>(
      std::partition_point(score.begin(), score.end(), [cutoff](double s) { return s >= cutoff; }) -
      score.begin());
}
}  // namespace detail

/// pycocotools COCOeval.accumulate() for the detections with score >= score_cutoff.
inline coco_accumulation accumulate(
    const coco_matches& mt, double score_cutoff = -std::numeric_limits<double>::infinity()) {
  const coco_eval_params& p = mt.params;
  coco_accumulation acc;
  const std::size_t T = p.iou_thresholds.size(), R = p.recall_thresholds.size(),
                    K = mt.categories.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  acc.num_iou = T;
  acc.num_recall = R;
  acc.num_categories = K;
  acc.num_areas = A;
  acc.num_max_dets = M;
  acc.score_cutoff = score_cutoff;
  acc.precision.assign(T * R * K * A * M, -1.0);
  acc.recall.assign(T * K * A * M, -1.0);
  acc.scores.assign(T * R * K * A * M, -1.0);
  const double eps = 2.220446049250313e-16;  // np.spacing(1)
  detail::parallel_for(K, p.threads, [&](std::size_t k) {
    const coco_category_matches& c = mt.categories[k];
    const std::size_t limit = detail::prefix_at_cutoff(c.score, score_cutoff);
    std::vector<std::size_t> n_min(R);
    std::vector<double> pr;
    for (std::size_t a = 0; a < A; ++a) {
      const std::uint32_t npig = c.num_gt[a];
      if (npig == 0) continue;  // precision and recall stay -1
      const double npig_d = static_cast<double>(npig);
      // Smallest TP count n >= 1 whose recall n/npig reaches each recall threshold; searchsorted
      // lands on that TP's row, and the envelope there is the max precision of TPs n.. onwards.
      for (std::size_t r = 0; r < R; ++r) {
        const double thr = p.recall_thresholds[r];
        std::size_t n = 1;
        if (thr > 0) {
          const double guess = std::floor(thr * npig_d);
          // Past npig + 1 every n means "unreachable" (n > N below); clamping keeps a huge
          // threshold (a corrupt state file, a typo) from overflowing the conversion.
          const double cap = npig_d + 1.0;
          n = guess > 1 ? static_cast<std::size_t>(guess < cap ? guess : cap) : 1;
          while (n > 1 && static_cast<double>(n - 1) / npig_d >= thr) --n;
          while (n <= npig && static_cast<double>(n) / npig_d < thr) ++n;
        }
        n_min[r] = n;
      }
      for (std::size_t m = 0; m < M; ++m) {
        // Row 0 of pycocotools' score-sorted list for this maxDets (ignored detections included):
        // where searchsorted puts a recall threshold <= 0.
        std::size_t first_row = 0;
        while (first_row < limit && c.rank[first_row] >= p.max_dets[m]) ++first_row;
        const bool has_rows = first_row < limit;
        for (std::size_t t = 0; t < T; ++t) {
          const std::size_t e = (a * M + m) * T + t;
          const coco_tp_event* ev = c.events.data() + c.event_begin[e];
          const std::size_t total = c.event_begin[e + 1] - c.event_begin[e];
          const std::size_t N = static_cast<std::size_t>(
              std::partition_point(ev, ev + total,
                                   [limit](const coco_tp_event& x) { return x.position < limit; }) -
              ev);
          acc.recall[((t * K + k) * A + a) * M + m] = static_cast<double>(N) / npig_d;
          pr.resize(N + 1);
          for (std::size_t i = 0; i < N; ++i) {
            const double tp = static_cast<double>(i + 1);
            const double fp = static_cast<double>(ev[i].fp_before);
            pr[i + 1] = tp / (fp + tp + eps);
          }
          for (std::size_t i = N; i > 1; --i)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          for (std::size_t r = 0; r < R; ++r) {
            const std::size_t idx = (((t * R + r) * K + k) * A + a) * M + m;
            if (has_rows && p.recall_thresholds[r] <= 0) {
              // Row 0: the envelope there is the best precision of any true positive (0 without
              // one), its score the list's highest.
              acc.precision[idx] = N > 0 ? pr[1] : 0.0;
              acc.scores[idx] = c.score[first_row];
              continue;
            }
            if (n_min[r] > N) {
              // searchsorted ran past the end: pycocotools' try/except leaves this and every later
              // recall point at 0.
              for (std::size_t r2 = r; r2 < R; ++r2) {
                const std::size_t idx2 = (((t * R + r2) * K + k) * A + a) * M + m;
                acc.precision[idx2] = 0.0;
                acc.scores[idx2] = 0.0;
              }
              break;
            }
            acc.precision[idx] = pr[n_min[r]];
            // dtScoresSorted[searchsorted index]: the row of the n-th true positive.
            acc.scores[idx] = c.score[ev[n_min[r] - 1].position];
          }
        }
      }
    }
  });
  return acc;
}

namespace detail {
// fixed mode: the summary's "all/small/medium/large" are area_ranges[0..3] by position, whatever
// their labels (pycocotools looks the labels up and prints -1 for custom ones).
inline std::ptrdiff_t fixed_area_slot(const coco_eval_params& p, const char* label) {
  static const char* const slots[] = {"all", "small", "medium", "large"};
  for (std::size_t i = 0; i < 4; ++i)
    if (std::string(label) == slots[i])
      return i < p.area_ranges.size() ? static_cast<std::ptrdiff_t>(i) : -1;
  return -1;
}
inline double mean_over_valid(std::vector<double>& buf,
                              numpy_summation how = numpy_summation::numpy_2) {
  std::size_t n = 0;
  for (double v : buf)
    if (v > -1) buf[n++] = v;
  if (n == 0) return -1.0;
  return numpy_mean(buf.data(), n, how);
}
inline std::ptrdiff_t find_index(const std::vector<double>& v, double x) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == x) return static_cast<std::ptrdiff_t>(i);
  return -1;
}
}  // namespace detail

/// pycocotools COCOeval.summarize() (stats only; see format_summary for the printed lines) and the
/// per-category table.
inline coco_summary summarize(const coco_accumulation& acc, const coco_eval_params& p,
                              const std::vector<std::int64_t>& category_ids) {
  coco_summary out;
  out.score_cutoff = acc.score_cutoff;
  const std::size_t T = acc.num_iou, R = acc.num_recall, K = acc.num_categories, A = acc.num_areas,
                    M = acc.num_max_dets;
  auto area_index = [&](const char* label) -> std::ptrdiff_t {
    for (std::size_t a = 0; a < p.area_ranges.size(); ++a)
      if (p.area_ranges[a].label == label) return static_cast<std::ptrdiff_t>(a);
    return -1;
  };
  auto maxdet_index = [&](std::uint32_t v) -> std::ptrdiff_t {
    for (std::size_t m = 0; m < p.max_dets.size(); ++m)
      if (p.max_dets[m] == v) return static_cast<std::ptrdiff_t>(m);
    return -1;
  };
  auto nth_maxdet = [&](std::size_t i) -> std::uint32_t {
    return p.max_dets[std::min(i, p.max_dets.size() - 1)];
  };
  const bool fixed = p.mode == eval_mode::fixed;
  std::vector<double> buf;
  // One _summarize call: iou_thr < 0 means all thresholds.
  auto stat = [&](bool ap, double iou_thr, const char* area, std::uint32_t max_dets) -> double {
    std::ptrdiff_t ai = area_index(area);
    const std::ptrdiff_t mi = maxdet_index(max_dets);
    if (fixed) ai = detail::fixed_area_slot(p, area);
    if (ai < 0 || mi < 0) return -1.0;
    const std::size_t a = static_cast<std::size_t>(ai), m = static_cast<std::size_t>(mi);
    buf.clear();
    for (std::size_t t = 0; t < T; ++t) {
      if (iou_thr >= 0 && !(p.iou_thresholds[t] == iou_thr)) continue;
      if (ap) {
        for (std::size_t r = 0; r < R; ++r)
          for (std::size_t k = 0; k < K; ++k)
            buf.push_back(acc.precision[(((t * R + r) * K + k) * A + a) * M + m]);
      } else {
        for (std::size_t k = 0; k < K; ++k)
          buf.push_back(acc.recall[((t * K + k) * A + a) * M + m]);
      }
    }
    return detail::mean_over_valid(buf, p.summation);
  };
  // pycocotools hard-codes maxDets=100 for AP (so -1 when 100 is not in maxDets); fixed: the last.
  out.stats[0] = stat(true, -1, "all", fixed ? p.max_dets.back() : 100u);
  out.stats[1] = stat(true, .5, "all", nth_maxdet(2));
  out.stats[2] = stat(true, .75, "all", nth_maxdet(2));
  out.stats[3] = stat(true, -1, "small", nth_maxdet(2));
  out.stats[4] = stat(true, -1, "medium", nth_maxdet(2));
  out.stats[5] = stat(true, -1, "large", nth_maxdet(2));
  out.stats[6] = stat(false, -1, "all", nth_maxdet(0));
  out.stats[7] = stat(false, -1, "all", nth_maxdet(1));
  out.stats[8] = stat(false, -1, "all", nth_maxdet(2));
  out.stats[9] = stat(false, -1, "small", nth_maxdet(2));
  out.stats[10] = stat(false, -1, "medium", nth_maxdet(2));
  out.stats[11] = stat(false, -1, "large", nth_maxdet(2));

  const std::ptrdiff_t t50 = detail::find_index(p.iou_thresholds, 0.5);
  const std::ptrdiff_t t75 = detail::find_index(p.iou_thresholds, 0.75);
  const std::size_t m = M - 1;
  out.per_category.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    coco_category_summary& cs = out.per_category[k];
    cs.category_id = k < category_ids.size() ? category_ids[k] : -1;
    buf.clear();
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t r = 0; r < R; ++r) buf.push_back(acc.precision_at(t, r, k, 0, m));
    cs.ap = detail::mean_over_valid(buf, p.summation);
    for (std::ptrdiff_t ts : {t50, t75}) {
      double v = -1;
      if (ts >= 0) {
        buf.clear();
        for (std::size_t r = 0; r < R; ++r)
          buf.push_back(acc.precision_at(static_cast<std::size_t>(ts), r, k, 0, m));
        v = detail::mean_over_valid(buf, p.summation);
      }
      (ts == t50 ? cs.ap50 : cs.ap75) = v;
    }
    buf.clear();
    for (std::size_t t = 0; t < T; ++t) buf.push_back(acc.recall_at(t, k, 0, m));
    cs.ar100 = detail::mean_over_valid(buf, p.summation);
  }
  return out;
}

/// The category ids of a matching, in accumulate's K order.
inline std::vector<std::int64_t> category_ids(const coco_matches& mt) {
  std::vector<std::int64_t> ids;
  ids.reserve(mt.categories.size());
  for (const auto& c : mt.categories) ids.push_back(c.category_id);
  return ids;
}

inline coco_summary summarize(const coco_accumulation& acc, const coco_matches& mt) {
  return summarize(acc, mt.params, category_ids(mt));
}

/// Stats for many score cutoffs from one matching (far cheaper than re-running per cutoff).
inline std::vector<coco_summary> sweep_score_cutoffs(const coco_matches& mt,
                                                     const std::vector<double>& cutoffs) {
  std::vector<coco_summary> out;
  out.reserve(cutoffs.size());
  for (double c : cutoffs) out.push_back(summarize(accumulate(mt, c), mt));
  return out;
}

/// The 20 cutoffs 0.00, 0.05, ... 0.95, each the double nearest to its decimal (i*5/100 in exact
/// integer arithmetic, so [10] == 0.5 exactly, as a user would type it; linspace would give
/// 0.49999999999999994 there).
inline std::vector<double> default_score_cutoffs() {
  std::vector<double> c(20);
  for (int i = 0; i < 20; ++i) c[static_cast<std::size_t>(i)] = static_cast<double>(i * 5) / 100.0;
  return c;
}

/// Everything try_evaluate computes.
struct coco_eval_result {
  coco_matches matches;
  coco_accumulation accumulation;
  coco_summary summary;
};

/// evaluate() + accumulate() + summarize() at params.score_cutoff.
[[nodiscard]] inline result<coco_eval_result> try_evaluate(const coco_ground_truth& gt,
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
inline coco_eval_result evaluate(const coco_ground_truth& gt,
                                 const std::vector<coco_detection>& dts,
                                 const coco_eval_params& params = {}) {
  return try_evaluate(gt, dts, params).value();
}

/// pycocotools' 12 printed lines, byte for byte:
/// ` {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}` + '\n' each.
inline std::string format_summary(const coco_summary& s, const coco_eval_params& p = {}) {
  auto nth_maxdet = [&](std::size_t i) -> unsigned {
    return p.max_dets.empty() ? 0u : p.max_dets[std::min(i, p.max_dets.size() - 1)];
  };
  char all_iou[32] = "";
  if (!p.iou_thresholds.empty())
    std::snprintf(all_iou, sizeof all_iou, "%0.2f:%0.2f", p.iou_thresholds.front(),
                  p.iou_thresholds.back());
  struct line {
    bool ap;
    const char* iou;
    const char* area;
    unsigned max_dets;
  };
  const bool fixed = p.mode == eval_mode::fixed;
  // fixed: the AP line names the maxDets it used and the area lines the ranges' own labels.
  auto area_label = [&](std::size_t slot, const char* def) -> const char* {
    return fixed && slot < p.area_ranges.size() ? p.area_ranges[slot].label.c_str() : def;
  };
  const line lines[12] = {{true, all_iou, area_label(0, "all"), fixed ? nth_maxdet(99) : 100},
                          {true, "0.50", area_label(0, "all"), nth_maxdet(2)},
                          {true, "0.75", area_label(0, "all"), nth_maxdet(2)},
                          {true, all_iou, area_label(1, "small"), nth_maxdet(2)},
                          {true, all_iou, area_label(2, "medium"), nth_maxdet(2)},
                          {true, all_iou, area_label(3, "large"), nth_maxdet(2)},
                          {false, all_iou, area_label(0, "all"), nth_maxdet(0)},
                          {false, all_iou, area_label(0, "all"), nth_maxdet(1)},
                          {false, all_iou, area_label(0, "all"), nth_maxdet(2)},
                          {false, all_iou, area_label(1, "small"), nth_maxdet(2)},
                          {false, all_iou, area_label(2, "medium"), nth_maxdet(2)},
                          {false, all_iou, area_label(3, "large"), nth_maxdet(2)}};
  std::string out;
  char buf[160];
  for (std::size_t i = 0; i < 12; ++i) {
    const line& l = lines[i];
    std::snprintf(buf, sizeof buf, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3u ] = %0.3f\n",
                  l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", l.iou,
                  l.area, l.max_dets, s.stats[i]);
    out += buf;
  }
  return out;
}

/// Per image, at area range 0 and iou_thresholds[0], for detections with score >= cutoff.
struct coco_image_errors {
  std::uint32_t image_index = 0;  // into coco_matches::image_ids
  std::uint32_t true_positives = 0;
  std::uint32_t false_positives = 0;
  std::uint32_t missed = 0;  // non-ignored GT without a match
};

/// Counts per image (all images, in image_ids order); sort them to find the worst.
inline std::vector<coco_image_errors> image_errors(
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
inline std::vector<std::int8_t> detection_status(const coco_matches& mt,
                                                 std::size_t num_detections) {
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

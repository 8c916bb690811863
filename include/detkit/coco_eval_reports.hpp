// detkit/coco_eval_reports.hpp — the reports users keep patching into pycocotools, from one
// matching (coco_eval.hpp): a per-detection match log with reasons, the per-class table of all 12
// stats, TP/FP/FN / precision / recall / F1 at any confidence, the F1-optimal confidence, PR curves
// with the score at each point, and a confusion matrix built with COCO's matching rule.
//
// Conventions (all reports): one IoU threshold, one maxDets and one area range at a time, exactly
// as pycocotools' accumulate reads evalImgs at that (t, a, m): a detection counts when its score is
// >= the confidence and its rank in its image+category is < maxDets; ignored detections (matched to
// a crowd / out-of-range GT, or unmatched and out of range themselves) are neither TP nor FP; a GT
// counts (for recall / FN) unless it is crowd or out of the area range.
//
// Match ids are never confusable with "no match": every reference carries an explicit has_* flag
// (pycocotools stores matched GT ids in dtMatches with 0 meaning "none", so GT id 0 is ambiguous).
//
// Usage:
//     auto log = detkit::match_log(gt, dts, params, {0.5, 100});   // per detection and per GT
//     auto mt = detkit::evaluate_images(gt, dts, params);
//     auto per_class = detkit::per_category_stats(detkit::accumulate(mt), mt);  // 12 each
//     auto counts = detkit::counts_at(mt, {0.5, 100}, /*confidence*/ 0.5);
//     auto best = detkit::f1_optimal(mt, {0.5, 100});
//     auto cm = detkit::confusion_matrix(gt, dts, log);
//
// The entry points are `template <class = void>` only so that a file including this header
// instantiates their bodies when it calls them, not before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "detkit/coco_eval.hpp"

DETKIT_BEGIN_NAMESPACE

/// Which slice of the evaluation a report reads.
struct coco_report_point {
  double iou_threshold = 0.5;  // must be one of params.iou_thresholds (reports on a matching)
  std::uint32_t max_dets = 100;
  std::size_t area_range = 0;                                      // index into params.area_ranges
  double score_cutoff = -std::numeric_limits<double>::infinity();  // match log only
};

// ---- Match log ------------------------------------------------------------------------------

enum class match_status : std::uint8_t { true_positive, false_positive, ignored, not_counted };

enum class match_reason : std::uint8_t {
  none,                // true positives, matched GTs
  duplicate,           // FP: IoU >= threshold with a same-class GT already taken by a higher score
  low_iou,             // FP: the best same-class GT overlaps less than the threshold (or none)
  wrong_class,         // FP: IoU >= threshold with a GT of another class only
  gt_id_zero,          // FP (pycocotools mode): matched a GT whose id is 0, which reads as "none"
  crowd,               // ignored: matched a crowd GT; for GTs: iscrowd
  gt_outside_area,     // ignored: matched a GT outside the area range; for GTs: itself outside
  dt_outside_area,     // ignored: unmatched and itself outside the area range
  beyond_max_dets,     // not counted: rank >= maxDets in its image+category
  below_score_cutoff,  // not counted: score < the cutoff
  unknown_category,    // not counted: category not declared in the GT (pycocotools ignores it)
  unknown_image,       // not counted: image not in the GT (dropped on request)
  missed,              // GT: no counted detection matched it
};

inline const char* match_status_name(match_status s) {
  switch (s) {
    case match_status::true_positive:
      return "tp";
    case match_status::false_positive:
      return "fp";
    case match_status::ignored:
      return "ignored";
    case match_status::not_counted:
      return "not_counted";
  }
  return "?";
}

inline const char* match_reason_name(match_reason r) {
  switch (r) {
    case match_reason::none:
      return "";
    case match_reason::duplicate:
      return "duplicate";
    case match_reason::low_iou:
      return "low_iou";
    case match_reason::wrong_class:
      return "wrong_class";
    case match_reason::gt_id_zero:
      return "gt_id_zero";
    case match_reason::crowd:
      return "crowd";
    case match_reason::gt_outside_area:
      return "gt_outside_area";
    case match_reason::dt_outside_area:
      return "dt_outside_area";
    case match_reason::beyond_max_dets:
      return "beyond_max_dets";
    case match_reason::below_score_cutoff:
      return "below_score_cutoff";
    case match_reason::unknown_category:
      return "unknown_category";
    case match_reason::unknown_image:
      return "unknown_image";
    case match_reason::missed:
      return "missed";
  }
  return "?";
}

/// One detection (input order; pycocotools' dt id is detection_index + 1).
struct coco_detection_match {
  std::uint32_t detection_index = 0;
  std::int64_t image_id = 0;
  std::int64_t category_id = 0;
  double score = 0;
  bool has_rank = false;  // false: not evaluated at all (unknown ids, beyond max_dets)
  std::uint32_t rank = 0;
  match_status status = match_status::not_counted;
  match_reason reason = match_reason::none;
  // The GT it matched (tp, ignored, gt_id_zero, and not-counted detections that matched) or the
  // nearest one that explains the FP (duplicate, wrong_class, low_iou). has_gt = false: none.
  bool has_gt = false;
  std::uint32_t gt_index = 0;  // into the input annotations
  std::int64_t gt_id = 0;
  std::int64_t gt_category_id = 0;
  double iou = 0;
};

enum class gt_status : std::uint8_t { matched, missed, ignored };

inline const char* gt_status_name(gt_status s) {
  return s == gt_status::matched ? "matched" : s == gt_status::missed ? "missed" : "ignored";
}

/// One GT annotation (input order).
struct coco_gt_match {
  std::int64_t id = 0, image_id = 0, category_id = 0;
  gt_status status = gt_status::missed;
  match_reason reason = match_reason::none;  // crowd / gt_outside_area / missed / gt_id_zero
  bool has_detection = false;                // the counted detection that matched it
  std::uint32_t detection_index = 0;
  double score = 0;
};

struct coco_match_log {
  coco_report_point point;
  std::vector<coco_detection_match> detections;
  std::vector<coco_gt_match> gt;
  std::size_t true_positives = 0, false_positives = 0, ignored = 0, not_counted = 0;
  std::size_t gt_matched = 0, gt_missed = 0, gt_ignored = 0;
};

namespace detail {
// Input annotation indices grouped by image index (counting sort, input order kept).
struct gt_by_image {
  std::vector<std::size_t> begin;
  std::vector<std::uint32_t> index;
};
template <class = void>
gt_by_image group_gt_by_image(const coco_matches& mt) {
  gt_by_image g;
  g.begin.assign(mt.image_ids.size() + 1, 0);
  for (const auto& s : mt.gt) ++g.begin[s.image_index + 1];
  for (std::size_t i = 0; i < mt.image_ids.size(); ++i) g.begin[i + 1] += g.begin[i];
  g.index.resize(mt.gt.size());
  std::vector<std::size_t> pos(g.begin.begin(), g.begin.end() - 1);
  for (std::size_t i = 0; i < mt.gt.size(); ++i)
    g.index[pos[mt.gt[i].image_index]++] = static_cast<std::uint32_t>(i);
  return g;
}
}  // namespace detail

namespace detail {
inline void count_log(coco_match_log& log) {
  log.true_positives = log.false_positives = log.ignored = log.not_counted = 0;
  log.gt_matched = log.gt_missed = log.gt_ignored = 0;
  for (const auto& m : log.detections) {
    log.true_positives += m.status == match_status::true_positive;
    log.false_positives += m.status == match_status::false_positive;
    log.ignored += m.status == match_status::ignored;
    log.not_counted += m.status == match_status::not_counted;
  }
  for (const auto& g : log.gt) {
    log.gt_matched += g.status == gt_status::matched;
    log.gt_missed += g.status == gt_status::missed;
    log.gt_ignored += g.status == gt_status::ignored;
  }
}

// The log from a matching of (gt, dts) whose iou_thresholds[0] and area_ranges[0] are the point's
// and whose maxDets cut (max_dets.back()) is at least the point's.
template <class = void>
coco_match_log match_log_from(const coco_matches& mt, const coco_ground_truth& gt,
                              const std::vector<coco_detection>& dts,
                              const coco_report_point& point) {
  const coco_eval_params& p = mt.params;
  const std::size_t A = p.area_ranges.size();
  const bool agnostic = p.categories == category_mode::class_agnostic;
  const bool id_zero_quirk =
      p.mode == eval_mode::pycocotools && p.gt_id_zero == gt_id_zero_policy::reproduce_pycocotools;
  const double thr = std::min(point.iou_threshold, 1 - 1e-10);
  const double lo = p.area_ranges[0].lo, hi = p.area_ranges[0].hi;

  coco_match_log log;
  log.point = point;
  log.detections.resize(dts.size());
  for (std::size_t i = 0; i < dts.size(); ++i) {
    coco_detection_match& m = log.detections[i];
    m.detection_index = static_cast<std::uint32_t>(i);
    m.image_id = dts[i].image_id;
    m.category_id = dts[i].category_id;
    m.score = dts[i].score;
    m.status = match_status::not_counted;
    m.reason = match_reason::beyond_max_dets;  // refined below for unknown ids
  }
  {
    std::vector<std::int64_t> cats, imgs;
    for (const auto& c : gt.categories) cats.push_back(c.id);
    std::sort(cats.begin(), cats.end());
    const detail::id_index cat_index(cats), img_index(mt.image_ids);
    for (auto& m : log.detections) {
      if (cat_index.find(m.category_id) == detail::id_index::npos)
        m.reason = match_reason::unknown_category;
      else if (img_index.find(m.image_id) == detail::id_index::npos)
        m.reason = match_reason::unknown_image;
    }
  }
  log.gt.resize(gt.annotations.size());
  for (std::size_t i = 0; i < gt.annotations.size(); ++i) {
    const coco_annotation& a = gt.annotations[i];
    coco_gt_match& g = log.gt[i];
    g.id = a.id;
    g.image_id = a.image_id;
    g.category_id = a.category_id;
    if (a.iscrowd) {
      g.status = gt_status::ignored;
      g.reason = match_reason::crowd;
    } else if (a.area < lo || a.area > hi) {
      g.status = gt_status::ignored;
      g.reason = match_reason::gt_outside_area;
    } else {
      g.status = gt_status::missed;
      g.reason = match_reason::missed;
    }
  }
  const detail::gt_by_image by_image = detail::group_gt_by_image(mt);
  // Categories in parallel: a detection and the GTs it can match belong to one category (one
  // bucket when class-agnostic), so the writes never overlap.
  detail::parallel_for(mt.categories.size(), p.threads, [&](std::size_t k) {
    const coco_category_matches& c = mt.categories[k];
    constexpr std::size_t ahead = 16;  // the detections are in random input order: prefetch
    for (std::size_t i = 0; i < c.score.size(); ++i) {
      if (i + ahead < c.score.size()) {
        __builtin_prefetch(&log.detections[c.detection_index[i + ahead]], 1);
        __builtin_prefetch(&dts[c.detection_index[i + ahead]], 0);
      }
      coco_detection_match& m = log.detections[c.detection_index[i]];
      if (c.rank[i] >= point.max_dets) continue;  // stays not_counted / beyond_max_dets
      const coco_detection& d = dts[m.detection_index];
      m.has_rank = true;
      m.rank = c.rank[i];
      const std::uint32_t gi = c.gt_index[i];
      if (gi != no_match) {
        m.has_gt = true;
        m.gt_index = gi;
        m.gt_id = gt.annotations[gi].id;
        m.gt_category_id = gt.annotations[gi].category_id;
        m.iou = coco_iou(d.bbox, d.bbox.w * d.bbox.h, gt.annotations[gi].bbox,
                         gt.annotations[gi].iscrowd);
      }
      if (d.score < point.score_cutoff) {
        m.status = match_status::not_counted;
        m.reason = match_reason::below_score_cutoff;
        continue;
      }
      if (c.tp_mask[i * A] & 1u) {
        m.status = match_status::true_positive;
        m.reason = match_reason::none;
        coco_gt_match& g = log.gt[gi];
        g.status = gt_status::matched;
        g.reason = match_reason::none;
        g.has_detection = true;
        g.detection_index = m.detection_index;
        g.score = d.score;
        continue;
      }
      if (c.ignore_mask[i * A] & 1u) {
        m.status = match_status::ignored;
        m.reason = gi == no_match               ? match_reason::dt_outside_area
                   : gt.annotations[gi].iscrowd ? match_reason::crowd
                                                : match_reason::gt_outside_area;
        if (gi != no_match && !gt.annotations[gi].iscrowd) {
          log.gt[gi].has_detection = true;
          log.gt[gi].detection_index = m.detection_index;
          log.gt[gi].score = d.score;
        }
        continue;
      }
      m.status = match_status::false_positive;
      if (gi != no_match && id_zero_quirk) {
        m.reason = match_reason::gt_id_zero;
        coco_gt_match& g = log.gt[gi];
        g.reason = match_reason::gt_id_zero;  // stays missed: pycocotools never counts it
        g.has_detection = true;
        g.detection_index = m.detection_index;
        g.score = d.score;
        continue;
      }
      // Unmatched: the nearest same-class GT (any GT when class-agnostic), else another class.
      const double da = d.bbox.w * d.bbox.h;
      double best_same = -1, best_other = -1;
      std::uint32_t g_same = no_match, g_other = no_match;
      const std::uint32_t im = c.image_index[i];
      for (std::size_t j = by_image.begin[im]; j < by_image.begin[im + 1]; ++j) {
        const std::uint32_t g = by_image.index[j];
        const coco_annotation& a = gt.annotations[g];
        if (a.iscrowd) continue;
        const double o = coco_iou(d.bbox, da, a.bbox, false);
        if (agnostic || a.category_id == d.category_id) {
          if (o > best_same) best_same = o, g_same = g;
        } else if (o > best_other) {
          best_other = o, g_other = g;
        }
      }
      std::uint32_t g = no_match;
      if (g_same != no_match && best_same >= thr) {
        m.reason = match_reason::duplicate;
        g = g_same;
      } else if (g_other != no_match && best_other >= thr) {
        m.reason = match_reason::wrong_class;
        g = g_other;
      } else {
        m.reason = match_reason::low_iou;
        g = g_same != no_match && best_same > 0 ? g_same : g_other;
        if (g != no_match && (g == g_other ? best_other : best_same) <= 0) g = no_match;
      }
      if (g != no_match) {
        m.has_gt = true;
        m.gt_index = g;
        m.gt_id = gt.annotations[g].id;
        m.gt_category_id = gt.annotations[g].category_id;
        m.iou = coco_iou(d.bbox, da, gt.annotations[g].bbox, false);
      }
    }
  });
  count_log(log);
  return log;
}
}  // namespace detail

/// The match log at one (IoU threshold, maxDets, area range, score cutoff) of `mt`, a matching
/// of exactly (gt, dts). Reads it straight from `mt` when the point is its first IoU threshold and
/// area range (the default 0.5 / all); else runs the matching for that single threshold and range
/// (the same evaluate_image as the metric, so it is the metric's matching). Then explains every
/// false positive from the IoUs with its image's GTs.
template <class = void>
[[nodiscard]] result<coco_match_log> try_match_log(const coco_matches& mt,
                                                   const coco_ground_truth& gt,
                                                   const std::vector<coco_detection>& dts,
                                                   const coco_report_point& point) {
  const coco_eval_params& params = mt.params;
  if (point.area_range >= params.area_ranges.size())
    return make_error(errc::eval_bad_params, "match log: area range index out of range");
  if (point.max_dets == 0) return make_error(errc::eval_bad_params, "match log: maxDets is 0");
  if (point.area_range == 0 && params.iou_thresholds[0] == point.iou_threshold &&
      point.max_dets <= params.max_dets.back())
    return detail::match_log_from(mt, gt, dts, point);
  coco_eval_params p = params;
  p.iou_thresholds = {point.iou_threshold};
  p.area_ranges = {params.area_ranges[point.area_range]};
  // Greedy matching decides each detection from the higher-ranked ones only, so cutting at the
  // log's maxDets gives the same matches as pycocotools' cut at maxDets[-1] for ranks below it.
  p.max_dets = {point.max_dets};
  auto one = try_evaluate_images(gt, dts, p);
  if (!one) return std::move(one).error();
  return detail::match_log_from(*one, gt, dts, point);
}

/// The same from the inputs alone.
template <class = void>
[[nodiscard]] result<coco_match_log> try_match_log(const coco_ground_truth& gt,
                                                   const std::vector<coco_detection>& dts,
                                                   const coco_eval_params& params,
                                                   const coco_report_point& point) {
  coco_eval_params p = params;
  if (point.area_range >= p.area_ranges.size())
    return make_error(errc::eval_bad_params, "match log: area range index out of range");
  p.iou_thresholds = {point.iou_threshold};
  p.area_ranges = {params.area_ranges[point.area_range]};
  p.max_dets = {std::max<std::uint32_t>(point.max_dets, 1)};
  auto one = try_evaluate_images(gt, dts, p);
  if (!one) return std::move(one).error();
  coco_report_point pt = point;
  pt.area_range = 0;
  auto log = try_match_log(*one, gt, dts, pt);
  if (log) log->point.area_range = point.area_range;
  return log;
}

/// The log at a higher score cutoff, from one at a lower cutoff (matching is prefix-consistent in
/// score order, so nothing else changes): detections below it become not counted, GTs matched
/// only by them become missed.
template <class = void>
coco_match_log match_log_at_cutoff(const coco_match_log& in, double cutoff) {
  coco_match_log log = in;
  log.point.score_cutoff = std::max(in.point.score_cutoff, cutoff);
  for (auto& m : log.detections)
    if (m.score < log.point.score_cutoff && m.status != match_status::not_counted) {
      m.status = match_status::not_counted;
      m.reason = match_reason::below_score_cutoff;
    }
  for (auto& g : log.gt)
    if (g.has_detection && g.score < log.point.score_cutoff) {
      g.has_detection = false;
      if (g.status == gt_status::matched || g.reason == match_reason::gt_id_zero) {
        g.status = gt_status::missed;
        g.reason = match_reason::missed;
      }
    }
  detail::count_log(log);
  return log;
}

template <class = void>
coco_match_log match_log(const coco_ground_truth& gt, const std::vector<coco_detection>& dts,
                         const coco_eval_params& params, const coco_report_point& point) {
  return try_match_log(gt, dts, params, point).value();
}

// ---- Confusion matrix -----------------------------------------------------------------------

/// Rows: GT class (K = background: false positives), columns: predicted class (K = background:
/// missed GTs). Built from a match log (so with COCO's matching rule): true positives land on
/// (their GT's class, their class); then, per image in score order, each false positive takes the
/// highest-IoU still-missed GT of another class with IoU >= the threshold (cell (GT class, its
/// class)); the remaining false positives go to the background row and the remaining missed GTs to
/// the background column. Ignored and not-counted detections and ignored GTs are left out.
struct coco_confusion_matrix {
  std::vector<std::int64_t> category_ids;  // ascending; index K is the background
  std::vector<std::uint64_t> cells;        // [(K+1) * row + col]
  std::uint64_t at(std::size_t row, std::size_t col) const {
    return cells[row * (category_ids.size() + 1) + col];
  }
};

/// `confidence`: only detections with score >= it count (as match_log_at_cutoff, without a copy).
template <class = void>
coco_confusion_matrix confusion_matrix(
    const coco_ground_truth& gt, const std::vector<coco_detection>& dts, const coco_match_log& log,
    double confidence = -std::numeric_limits<double>::infinity()) {
  coco_confusion_matrix cm;
  for (const auto& c : gt.categories) cm.category_ids.push_back(c.id);
  std::sort(cm.category_ids.begin(), cm.category_ids.end());
  const std::size_t K = cm.category_ids.size(), N = K + 1;
  cm.cells.assign(N * N, 0);
  const detail::id_index cat_index(cm.category_ids);
  auto cls = [&](std::int64_t id) -> std::size_t {
    const std::uint32_t k = cat_index.find(id);
    return k == detail::id_index::npos ? K : k;
  };
  // FPs in (image, score desc, input) order; missed GTs by image.
  std::vector<std::uint32_t> fps;
  for (const auto& m : log.detections)
    if (m.score < confidence)
      continue;
    else if (m.status == match_status::true_positive)
      ++cm.cells[cls(m.gt_category_id) * N + cls(m.category_id)];
    else if (m.status == match_status::false_positive)
      fps.push_back(m.detection_index);
  {
    // Compact keys: sorting indices through dts would miss the cache on every comparison.
    struct key {
      std::int64_t image;
      double score;
      std::uint32_t index;
    };
    std::vector<key> keys(fps.size());
    for (std::size_t i = 0; i < fps.size(); ++i)
      keys[i] = {dts[fps[i]].image_id, dts[fps[i]].score, fps[i]};
    std::sort(keys.begin(), keys.end(), [](const key& a, const key& b) {
      if (a.image != b.image) return a.image < b.image;
      if (a.score != b.score) return a.score > b.score;
      return a.index < b.index;
    });
    for (std::size_t i = 0; i < fps.size(); ++i) fps[i] = keys[i].index;
  }
  std::vector<std::uint32_t> missed;
  for (std::size_t i = 0; i < log.gt.size(); ++i) {
    const coco_gt_match& g = log.gt[i];
    if (g.status == gt_status::missed ||
        (g.status == gt_status::matched && g.has_detection && g.score < confidence))
      missed.push_back(static_cast<std::uint32_t>(i));
  }
  std::stable_sort(missed.begin(), missed.end(), [&](std::uint32_t a, std::uint32_t b) {
    return gt.annotations[a].image_id < gt.annotations[b].image_id;
  });
  std::vector<std::uint8_t> used(missed.size(), 0);
  const double thr = std::min(log.point.iou_threshold, 1 - 1e-10);
  std::size_t mg = 0;
  for (std::size_t f = 0; f < fps.size();) {
    const std::int64_t im = dts[fps[f]].image_id;
    std::size_t f_end = f;
    while (f_end < fps.size() && dts[fps[f_end]].image_id == im) ++f_end;
    while (mg < missed.size() && gt.annotations[missed[mg]].image_id < im) ++mg;
    std::size_t g_end = mg;
    while (g_end < missed.size() && gt.annotations[missed[g_end]].image_id == im) ++g_end;
    for (; f < f_end; ++f) {
      const coco_detection& d = dts[fps[f]];
      const double da = d.bbox.w * d.bbox.h;
      double best = thr;
      std::size_t hit = g_end;
      for (std::size_t j = mg; j < g_end; ++j) {
        const coco_annotation& a = gt.annotations[missed[j]];
        if (used[j] || a.category_id == d.category_id) continue;
        const double o = coco_iou(d.bbox, da, a.bbox, false);
        if (o >= best) best = o, hit = j;  // ties: the later GT, as COCO's matching
      }
      if (hit < g_end) {
        used[hit] = 1;
        ++cm.cells[cls(gt.annotations[missed[hit]].category_id) * N + cls(d.category_id)];
      } else {
        ++cm.cells[K * N + cls(d.category_id)];
      }
    }
  }
  for (std::size_t j = 0; j < missed.size(); ++j)
    if (!used[j]) ++cm.cells[cls(gt.annotations[missed[j]].category_id) * N + K];
  return cm;
}

// ---- Reports on a matching --------------------------------------------------------------------

/// All 12 summary stats for each category alone (pycocotools' summarize on precision[..., k, ...]).
template <class = void>
std::vector<std::array<double, 12>> per_category_stats(const coco_accumulation& acc,
                                                       const coco_matches& mt) {
  std::vector<std::array<double, 12>> out(acc.num_categories);
  coco_accumulation one;
  one.num_iou = acc.num_iou;
  one.num_recall = acc.num_recall;
  one.num_categories = 1;
  one.num_areas = acc.num_areas;
  one.num_max_dets = acc.num_max_dets;
  one.score_cutoff = acc.score_cutoff;
  const std::size_t T = acc.num_iou, R = acc.num_recall, A = acc.num_areas, M = acc.num_max_dets;
  one.precision.resize(T * R * A * M);
  one.recall.resize(T * A * M);
  for (std::size_t k = 0; k < acc.num_categories; ++k) {
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t a = 0; a < A; ++a)
        for (std::size_t m = 0; m < M; ++m) {
          one.recall[(t * A + a) * M + m] = acc.recall_at(t, k, a, m);
          for (std::size_t r = 0; r < R; ++r)
            one.precision[((t * R + r) * A + a) * M + m] = acc.precision_at(t, r, k, a, m);
        }
    out[k] = summarize(one, mt.params, {mt.categories[k].category_id}).stats;
  }
  return out;
}

/// TP / FP / FN and what follows from them.
struct coco_counts {
  std::int64_t category_id = -1;  // -1: all categories together
  double confidence = 0;
  std::uint64_t tp = 0, fp = 0, fn = 0;
  double precision = 0, recall = 0, f1 = 0;  // 0 when undefined (no detections / no GT)
};

namespace detail {
inline void finish_counts(coco_counts& c) {
  const double tp = static_cast<double>(c.tp), fp = static_cast<double>(c.fp),
               fn = static_cast<double>(c.fn);
  c.precision = c.tp + c.fp ? tp / (tp + fp) : 0;
  c.recall = c.tp + c.fn ? tp / (tp + fn) : 0;
  c.f1 = c.tp ? 2 * tp / (2 * tp + fp + fn) : 0;
}
template <class = void>
result<std::pair<std::size_t, std::size_t>> report_slice(const coco_matches& mt,
                                                         const coco_report_point& pt) {
  const std::ptrdiff_t t = find_index(mt.params.iou_thresholds, pt.iou_threshold);
  if (t < 0)
    return make_error(errc::eval_bad_params, "report IoU threshold is not one of iou_thresholds");
  if (pt.area_range >= mt.params.area_ranges.size())
    return make_error(errc::eval_bad_params, "report area range index out of range");
  return std::make_pair(static_cast<std::size_t>(t), pt.area_range);
}
// Counted detections of one category in score order: +1 TP, 0 FP (ignored ones dropped).
template <class = void>
void counted_detections(const coco_matches& mt, const coco_category_matches& c, std::size_t t,
                        std::size_t a, std::uint32_t max_dets,
                        std::vector<std::pair<double, std::uint8_t>>& out) {
  const std::size_t A = mt.params.area_ranges.size();
  const std::uint32_t bit = 1u << t;
  for (std::size_t i = 0; i < c.score.size(); ++i) {
    if (c.rank[i] >= max_dets) continue;
    if (c.tp_mask[i * A + a] & bit)
      out.emplace_back(c.score[i], std::uint8_t{1});
    else if (!(c.ignore_mask[i * A + a] & bit))
      out.emplace_back(c.score[i], std::uint8_t{0});
  }
}
}  // namespace detail

/// Per category (then one row for all together, category_id -1) at score >= confidence.
template <class = void>
[[nodiscard]] result<std::vector<coco_counts>> try_counts_at(const coco_matches& mt,
                                                             const coco_report_point& pt,
                                                             double confidence) {
  auto sl = detail::report_slice(mt, pt);
  if (!sl) return std::move(sl).error();
  std::vector<coco_counts> out;
  coco_counts all;
  all.confidence = confidence;
  std::vector<std::pair<double, std::uint8_t>> dets;
  for (const auto& c : mt.categories) {
    coco_counts k;
    k.category_id = c.category_id;
    k.confidence = confidence;
    dets.clear();
    detail::counted_detections(mt, c, sl->first, sl->second, pt.max_dets, dets);
    for (const auto& d : dets) {
      if (d.first < confidence) break;
      (d.second ? k.tp : k.fp) += 1;
    }
    k.fn = c.num_gt[sl->second] - k.tp;
    detail::finish_counts(k);
    all.tp += k.tp, all.fp += k.fp, all.fn += k.fn;
    out.push_back(k);
  }
  detail::finish_counts(all);
  out.push_back(all);
  return out;
}

/// The confidence that maximises F1 (ties: the higher confidence), per category then overall.
template <class = void>
[[nodiscard]] result<std::vector<coco_counts>> try_f1_optimal(const coco_matches& mt,
                                                              const coco_report_point& pt) {
  auto sl = detail::report_slice(mt, pt);
  if (!sl) return std::move(sl).error();
  std::vector<coco_counts> out;
  std::vector<std::pair<double, std::uint8_t>> dets, all;
  std::uint64_t all_gt = 0;
  auto best_of = [](const std::vector<std::pair<double, std::uint8_t>>& v, std::uint64_t num_gt,
                    coco_counts& best) {
    coco_counts cur = best;
    cur.tp = cur.fp = 0;
    cur.fn = num_gt;
    best.fn = num_gt;
    best.confidence = v.empty() ? 1.0 : std::nextafter(v.front().first, 2.0);
    detail::finish_counts(best);
    for (std::size_t i = 0; i < v.size(); ++i) {
      (v[i].second ? cur.tp : cur.fp) += 1;
      if (v[i].second) --cur.fn;
      if (i + 1 < v.size() && v[i + 1].first == v[i].first) continue;  // same score: kept together
      cur.confidence = v[i].first;
      detail::finish_counts(cur);
      if (cur.f1 > best.f1) best = cur;
    }
  };
  for (const auto& c : mt.categories) {
    dets.clear();
    detail::counted_detections(mt, c, sl->first, sl->second, pt.max_dets, dets);
    coco_counts b;
    b.category_id = c.category_id;
    best_of(dets, c.num_gt[sl->second], b);
    out.push_back(b);
    all.insert(all.end(), dets.begin(), dets.end());
    all_gt += c.num_gt[sl->second];
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  coco_counts b;
  best_of(all, all_gt, b);
  out.push_back(b);
  return out;
}

/// TP / FP / FN, P, R and F1 against confidence in one pass: [i][k] at confidences[i] (any
/// order), k over the categories then one row for all of them (the curve behind f1_optimal).
template <class = void>
[[nodiscard]] result<std::vector<std::vector<coco_counts>>> try_f1_curves(
    const coco_matches& mt, const coco_report_point& pt, const std::vector<double>& confidences) {
  auto sl = detail::report_slice(mt, pt);
  if (!sl) return std::move(sl).error();
  const std::size_t K = mt.categories.size(), n = confidences.size();
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return confidences[a] > confidences[b]; });
  std::vector<std::vector<coco_counts>> out(n, std::vector<coco_counts>(K + 1));
  std::vector<std::pair<double, std::uint8_t>> dets;
  for (std::size_t k = 0; k < K; ++k) {
    const coco_category_matches& c = mt.categories[k];
    dets.clear();
    detail::counted_detections(mt, c, sl->first, sl->second, pt.max_dets, dets);
    std::size_t j = 0;
    std::uint64_t tp = 0, fp = 0;
    for (std::size_t i : order) {
      for (; j < dets.size() && dets[j].first >= confidences[i]; ++j) (dets[j].second ? tp : fp)++;
      coco_counts& x = out[i][k];
      x.category_id = c.category_id;
      x.confidence = confidences[i];
      x.tp = tp;
      x.fp = fp;
      x.fn = c.num_gt[sl->second] - tp;
      detail::finish_counts(x);
      coco_counts& all = out[i][K];
      all.confidence = confidences[i];
      all.tp += x.tp, all.fp += x.fp, all.fn += x.fn;
    }
  }
  for (auto& row : out) detail::finish_counts(row[K]);
  return out;
}

/// One point of pycocotools' interpolated PR curve and the score that reaches it.
struct coco_pr_point {
  double recall = 0;     // the recall threshold
  double precision = 0;  // accumulate's interpolated precision there (-1 no GT)
  bool has_score = false;
  double score = 0;  // score of the detection whose TP first reaches this recall
};

/// PR curve of category k at (IoU, area, maxDets) for detections with score >= score_cutoff.
template <class = void>
[[nodiscard]] result<std::vector<coco_pr_point>> try_pr_curve(const coco_matches& mt,
                                                              const coco_accumulation& acc,
                                                              std::size_t k,
                                                              const coco_report_point& pt) {
  auto sl = detail::report_slice(mt, pt);
  if (!sl) return std::move(sl).error();
  const std::ptrdiff_t mi = [&]() -> std::ptrdiff_t {
    for (std::size_t m = 0; m < mt.params.max_dets.size(); ++m)
      if (mt.params.max_dets[m] == pt.max_dets) return static_cast<std::ptrdiff_t>(m);
    return -1;
  }();
  if (mi < 0 || k >= mt.categories.size())
    return make_error(errc::eval_bad_params, "PR curve: maxDets or category not evaluated");
  const std::size_t t = sl->first, a = sl->second, m = static_cast<std::size_t>(mi);
  const coco_category_matches& c = mt.categories[k];
  const std::size_t M = mt.params.max_dets.size(), T = mt.params.iou_thresholds.size();
  const std::size_t e = (a * M + m) * T + t;
  const coco_tp_event* ev = c.events.data() + c.event_begin[e];
  const std::size_t total = c.event_begin[e + 1] - c.event_begin[e];
  const std::size_t limit = detail::prefix_at_cutoff(c.score, acc.score_cutoff);
  std::size_t N = 0;
  while (N < total && ev[N].position < limit) ++N;
  const double npig = static_cast<double>(c.num_gt[a]);
  std::vector<coco_pr_point> out;
  std::size_t n = 1;
  for (std::size_t r = 0; r < mt.params.recall_thresholds.size(); ++r) {
    coco_pr_point p;
    p.recall = mt.params.recall_thresholds[r];
    p.precision = acc.precision_at(t, r, k, a, m);
    while (n <= N && static_cast<double>(n) / npig < p.recall) ++n;
    if (npig > 0 && n <= N) {
      p.has_score = true;
      p.score = c.score[ev[n - 1].position];
    }
    out.push_back(p);
  }
  return out;
}

DETKIT_END_NAMESPACE

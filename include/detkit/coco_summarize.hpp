// detkit/coco_summarize.hpp — pycocotools' COCOeval.accumulate() and summarize() over a matching,
// at any score cutoff (a cutoff keeps a prefix of each category's ranked list, so the matching is
// reused), the 20-cutoff sweep, and the 12 printed lines. Part of coco_eval.hpp.
//
// The entry points are `template <class = void>` only so that a file including this header
// instantiates their bodies when it calls them, not before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "detkit/coco_types.hpp"
#include "detkit/detail/numpy_math.hpp"
#include "detkit/detail/parallel_for.hpp"

DETKIT_BEGIN_NAMESPACE

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
}  // namespace detail

namespace detail {
// Number of detections in a category's ranked list with score >= cutoff (a prefix).
inline std::size_t prefix_at_cutoff(const std::vector<double>& score, double cutoff) {
  return static_cast<std::size_t>(
      std::partition_point(score.begin(), score.end(), [cutoff](double s) { return s >= cutoff; }) -
      score.begin());
}
}  // namespace detail

/// pycocotools COCOeval.accumulate() for the detections with score >= score_cutoff.
template <class = void>
coco_accumulation accumulate(const coco_matches& mt,
                             double score_cutoff = -std::numeric_limits<double>::infinity()) {
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
template <class = void>
coco_summary summarize(const coco_accumulation& acc, const coco_eval_params& p,
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

template <class = void>
coco_summary summarize(const coco_accumulation& acc, const coco_matches& mt) {
  return summarize(acc, mt.params, category_ids(mt));
}

/// Stats for many score cutoffs from one matching (far cheaper than re-running per cutoff).
template <class = void>
std::vector<coco_summary> sweep_score_cutoffs(const coco_matches& mt,
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

/// pycocotools' 12 printed lines, byte for byte:
/// ` {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}` + '\n' each.
template <class = void>
std::string format_summary(const coco_summary& s, const coco_eval_params& p = {}) {
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

DETKIT_END_NAMESPACE

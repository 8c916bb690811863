// detkit/coco_match.hpp — pycocotools' COCOeval.evaluate() for bbox: evaluate_image (evaluateImg
// for one image and category, every area range and IoU threshold at once) and the pipeline that
// checks the inputs, matches every image and category on several threads, and ranks each
// category's detections in accumulate's order (try_evaluate_images). Part of coco_eval.hpp.
//
// The entry points are `template <class = void>` only so that a file including this header
// instantiates their bodies when it calls them, not before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "detkit/coco_types.hpp"
#include "detkit/detail/id_index.hpp"
#include "detkit/detail/parallel_for.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

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
  if (G == 0) {
    // Nothing to match (a category predicted where it is absent, the commonest pair): every
    // detection is a false positive, ignored at every threshold where its area is out of range.
    const std::uint32_t all = T >= 32 ? 0xffffffffu : ((1u << T) - 1u);
    for (std::size_t d = 0; d < D; ++d)
      for (std::size_t a = 0; a < A; ++a) {
        const double darea = s.det_area[d];
        tp_mask[d * A + a] = 0;
        ignore_mask[d * A + a] =
            darea < p.area_ranges[a].lo || darea > p.area_ranges[a].hi ? all : 0u;
      }
    return;
  }
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
template <class = void>
result<coco_matches> evaluate_images_impl(const coco_ground_truth& gt,
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
template <class = void>
[[nodiscard]] result<coco_matches> try_evaluate_images(const coco_ground_truth& gt,
                                                       const std::vector<coco_detection>& dts,
                                                       const coco_eval_params& params) {
  return detail::evaluate_images_impl(gt, dts, nullptr, params);
}
/// The same, giving up the detections: they are freed once copied into per-category lists, so
/// the peak memory holds one copy of them (a COCO results file of 4M detections: ~220 MB less).
template <class = void>
[[nodiscard]] result<coco_matches> try_evaluate_images(const coco_ground_truth& gt,
                                                       std::vector<coco_detection>&& dts,
                                                       const coco_eval_params& params) {
  return detail::evaluate_images_impl(gt, dts, &dts, params);
}

template <class = void>
coco_matches evaluate_images(const coco_ground_truth& gt, const std::vector<coco_detection>& dts,
                             const coco_eval_params& params = {}) {
  return try_evaluate_images(gt, dts, params).value();
}

DETKIT_END_NAMESPACE

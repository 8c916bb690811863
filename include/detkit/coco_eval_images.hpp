// detkit/coco_eval_images.hpp — pycocotools' per-image evaluation records (COCOeval.evalImgs and
// COCOeval.ious) for one image and category, for callers that need them as pycocotools lays them
// out (the Python package's evalImgs / ious, code that merges evalImgs across processes).
//
// coco_eval.hpp's evaluate_image computes the same matching for the metric, but keeps only what
// accumulate needs (a TP and an ignore bit per threshold); pycocotools' records also name the
// matched ids, so this is a second port of cocoeval.py evaluateImg that writes them. It is only
// run when a caller asks for the records; the Python tests compare both against pycocotools.
//
// Layout of one record (pycocotools evaluateImg's dict, for one area range):
//   GTs are stable-sorted with non-ignored first (gt_order); detections are the caller's, already
//   stable-sorted by descending score and cut to maxDets[-1].
//   dt_matches[t * D + d]: id of the GT matched by detection d at iou_thresholds[t], 0 = none;
//   gt_matches[t * G + j]: id of the detection matched to the j-th GT in gt_order, 0 = none;
//   dt_ignore[t * D + d]: matched to an ignored GT, or unmatched (match id 0) and outside the
//   area range by w*h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "detkit/coco_eval.hpp"

DETKIT_BEGIN_NAMESPACE

/// pycocotools computeIoU for one image and category: iou[d * G + g], g in the given order (C
/// bbIou: doubles, crowd IoU over the detection area).
inline void coco_iou_matrix(const coco_annotation* const* gts, std::size_t G,
                            const coco_detection* const* dts, std::size_t D,
                            std::vector<double>& iou) {
  iou.resize(D * G);
  for (std::size_t d = 0; d < D; ++d) {
    const coco_bbox& db = dts[d]->bbox;
    const double da = db.w * db.h;
    for (std::size_t g = 0; g < G; ++g)
      iou[d * G + g] = coco_iou(db, da, gts[g]->bbox, gts[g]->iscrowd);
  }
}

/// One evalImgs record (see the layout at the top of this file).
struct coco_image_eval {
  std::vector<std::uint32_t> gt_order;  // [G]: positions in the caller's GT list
  std::vector<std::uint8_t> gt_ignore;  // [G], in gt_order
  std::vector<double> dt_matches;       // [T][D]
  std::vector<double> gt_matches;       // [T][G]
  std::vector<std::uint8_t> dt_ignore;  // [T][D]
};

/// pycocotools evaluateImg for one image, category and area range `area`. `iou` is
/// coco_iou_matrix of the same lists; dt_ids are the detections' ids (loadRes numbers them from 1:
/// pycocotools tests "already matched" as `gtMatches > 0`, so an id <= 0 never blocks a GT).
inline void evaluate_image_record(const coco_annotation* const* gts, std::size_t G,
                                  const coco_detection* const* dts, const std::int64_t* dt_ids,
                                  std::size_t D, const std::vector<double>& iou,
                                  const coco_eval_params& p, std::size_t area,
                                  coco_image_eval& out) {
  const std::size_t T = p.iou_thresholds.size();
  const double lo = p.area_ranges[area].lo, hi = p.area_ranges[area].hi;
  out.gt_order.clear();
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t g = 0; g < G; ++g) {
      const bool ig = gts[g]->iscrowd || gts[g]->area < lo || gts[g]->area > hi;
      if (ig == (pass == 1)) out.gt_order.push_back(static_cast<std::uint32_t>(g));
    }
  out.gt_ignore.resize(G);
  for (std::size_t j = 0; j < G; ++j) {
    const coco_annotation& g = *gts[out.gt_order[j]];
    out.gt_ignore[j] = g.iscrowd || g.area < lo || g.area > hi;
  }
  out.dt_matches.assign(T * D, 0.0);
  out.gt_matches.assign(T * G, 0.0);
  out.dt_ignore.assign(T * D, 0);
  if (G != 0 && D != 0) {
    for (std::size_t t = 0; t < T; ++t) {
      double* gtm = out.gt_matches.data() + t * G;
      for (std::size_t d = 0; d < D; ++d) {
        double best = std::min(p.iou_thresholds[t], 1 - 1e-10);
        std::ptrdiff_t m = -1;
        for (std::size_t j = 0; j < G; ++j) {
          const coco_annotation& g = *gts[out.gt_order[j]];
          if (gtm[j] > 0 && !g.iscrowd) continue;
          if (m > -1 && !out.gt_ignore[static_cast<std::size_t>(m)] && out.gt_ignore[j]) break;
          const double v = iou[d * G + out.gt_order[j]];
          if (v < best) continue;
          best = v;
          m = static_cast<std::ptrdiff_t>(j);
        }
        if (m == -1) continue;
        const std::size_t mj = static_cast<std::size_t>(m);
        out.dt_ignore[t * D + d] = out.gt_ignore[mj];
        out.dt_matches[t * D + d] = static_cast<double>(gts[out.gt_order[mj]]->id);
        gtm[mj] = static_cast<double>(dt_ids[d]);
      }
    }
  }
  // Unmatched (match id 0, so also a match to GT id 0) and outside the range by w*h: ignored.
  for (std::size_t d = 0; d < D; ++d) {
    const double da = dts[d]->bbox.w * dts[d]->bbox.h;
    if (!(da < lo || da > hi)) continue;
    for (std::size_t t = 0; t < T; ++t)
      if (out.dt_matches[t * D + d] == 0) out.dt_ignore[t * D + d] = 1;
  }
}

DETKIT_END_NAMESPACE

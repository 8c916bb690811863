// detkit/open_images_eval.hpp — the Open Images detection metric (OID challenge, TF OD API).
//
// Mirrors tensorflow/models research/object_detection: oid_hierarchical_labels_expansion.py (GT
// expansion), OpenImagesDetectionChallengeEvaluator (evaluatable classes per image),
// per_image_evaluation.py (non-group-of matching by IoU, then group-of matching by IoA) and
// metrics.py (VOC all-point AP); written down in shared reference openimages.md §4:
//   * GT boxes are copied to every ancestor class; a positive image-level label expands to its
//     ancestors, a negative (verified absent) one to its descendants. Detections are not expanded.
//   * Per image, only classes with a verified image-level label (positive or negative) or a GT box
//     are evaluated; detections of other classes are dropped (labels are not exhaustive), and an
//     image with no GT entry at all has all its detections dropped. A detection of a class
//     verified absent has nothing to match: a false positive.
//   * Per image and class, in score order: the non-group-of GT with the highest IoU (first on
//     ties) is matched when IoU >= 0.5 and still free, else the detection is a false positive
//     candidate; candidates with IoA = |det ∩ gt| / |det| >= 0.5 against a group-of box are removed
//     and each such group-of box contributes one true positive (weight group_of_weight) scored with
//     its best detection (entries of score 0 are dropped, as the TF code does).
//   * numGT = non-group-of boxes + group_of_weight × group-of boxes; AP = VOC all-point area under
//     the precision envelope; mAP = mean over classes with numGT > 0.
//   * Equal scores are ordered as TF's np.argsort(scores)[::-1] orders them with a stable argsort
//     (numpy's default is not stable, so TF's own tie order changes with numpy version and CPU):
//     per image and class the later detection first; each class's list is then the images in
//     ImageID order, each image's detections followed by its group-of entries, and in the final
//     ranking equal scores take the later entry first.
// Checked against the TF code itself (tests/oi_differential.py, object-detection 0.0.3; every
// class AP and the mAP within 1e-12) on random class trees, on tied scores (TF with a stable
// argsort) and on the real 600-class hierarchy. Differences: sums are sequential (agreement to
// rounding, not bit for bit), and a box expands to each ancestor once. The 2019 TF tool repeats a
// class that the JSON lists under two parents for every class below it (Chopsticks gets Kitchen
// utensil twice, as do the classes below Shellfish, Hat and Helmet), counting such boxes twice.
// Invalid detections (x_max <= x_min or y_max <= y_min) are dropped and counted, as TF drops them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detkit/box.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// One ground-truth box (relative coordinates, any consistent system works).
struct oi_gt_box {
  std::uint64_t image = 0;  // ImageID as a 64-bit number (or any image key)
  std::uint32_t class_index = 0;
  box_xyxy_rel box{};
  bool group_of = false;
};

/// One verified image-level label: present (Confidence 1) or verified absent (Confidence 0).
struct oi_image_label {
  std::uint64_t image = 0;
  std::uint32_t class_index = 0;
  bool present = true;
};

struct oi_detection {
  std::uint64_t image = 0;
  std::uint32_t class_index = 0;
  double score = 0;
  box_xyxy_rel box{};
};

/// The class graph restricted to the evaluated classes: every (transitive) ancestor and
/// descendant of each class, the hierarchy root excluded.
struct oi_class_relations {
  std::vector<std::vector<std::uint32_t>> ancestors;
  std::vector<std::vector<std::uint32_t>> descendants;
};

/// Builds oi_class_relations from a parent list per class (class indices; transitive closure is
/// taken here, cycles are tolerated).
inline oi_class_relations make_class_relations(
    const std::vector<std::vector<std::uint32_t>>& parents) {
  oi_class_relations r;
  const std::size_t n = parents.size();
  r.ancestors.resize(n);
  r.descendants.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    std::vector<std::uint32_t> todo(parents[c].begin(), parents[c].end());
    std::vector<bool> seen(n, false);
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::uint32_t p = todo[k];
      if (p >= n || p == c || seen[p]) continue;
      seen[p] = true;
      r.ancestors[c].push_back(p);
      todo.insert(todo.end(), parents[p].begin(), parents[p].end());
    }
  }
  for (std::size_t c = 0; c < n; ++c)
    for (std::uint32_t a : r.ancestors[c])
      r.descendants[a].push_back(static_cast<std::uint32_t>(c));
  return r;
}

enum class hierarchy_expansion : std::uint8_t { expand, none };

struct oi_eval_options {
  double iou_threshold = 0.5;    // also the IoA threshold for group-of boxes
  double group_of_weight = 1.0;  // 1 = challenge metric; 0 = V2 metric (group-of matches ignored)
  hierarchy_expansion expansion = hierarchy_expansion::expand;  // needs relations
  // Only detections with score >= score_cutoff are evaluated, exactly as if the input had been
  // filtered first; the others are counted in detections_below_score_cutoff. NaN is an error.
  double score_cutoff = -std::numeric_limits<double>::infinity();
};

struct oi_class_result {
  std::uint32_t class_index = 0;
  double ap = std::numeric_limits<double>::quiet_NaN();  // NaN when num_gt == 0
  double num_gt = 0;                                     // after expansion, group-of weighted
  std::size_t true_positives = 0, false_positives = 0;   // entries in the ranked list
};

struct oi_eval_result {
  double map = std::numeric_limits<double>::quiet_NaN();  // mean AP over classes with GT
  std::vector<oi_class_result> per_class;                 // one per class index
  std::size_t detections_read = 0;                        // all given, below the cutoff included
  std::size_t detections_below_score_cutoff = 0;  // left out by oi_eval_options::score_cutoff
  std::size_t detections_not_evaluatable = 0;     // class neither labelled nor boxed in the image
  std::size_t detections_image_without_gt = 0;
  std::size_t detections_invalid_box = 0;
  std::size_t detections_group_of = 0;  // absorbed by a group-of box
};

namespace detail {
inline double oi_area(const box_xyxy_rel& b) {
  return (static_cast<double>(b.x2) - static_cast<double>(b.x1)) *
         (static_cast<double>(b.y2) - static_cast<double>(b.y1));
}
inline double oi_intersection(const box_xyxy_rel& a, const box_xyxy_rel& b) {
  const auto d = [](float v) { return static_cast<double>(v); };  // clang: -Wdouble-promotion
  const double w = std::min(d(a.x2), d(b.x2)) - std::max(d(a.x1), d(b.x1));
  const double h = std::min(d(a.y2), d(b.y2)) - std::max(d(a.y1), d(b.y1));
  return (w > 0 && h > 0) ? w * h : 0.0;
}

// VOC all-point AP of a ranked list (metrics.compute_precision_recall + compute_average_precision).
// TF ranks with np.argsort(scores)[::-1]; read as a stable argsort, equal scores come out in
// reverse list order, which is what reversing first and then sorting stably gives.
inline double voc_average_precision(std::vector<std::pair<double, double>>& scored_tp,
                                    double num_gt) {
  std::reverse(scored_tp.begin(), scored_tp.end());
  std::stable_sort(scored_tp.begin(), scored_tp.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  const std::size_t n = scored_tp.size();
  std::vector<double> precision(n + 2, 0.0), recall(n + 2, 0.0);
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp += scored_tp[i].second;
    fp += scored_tp[i].second <= 0 ? 1.0 : 0.0;
    precision[i + 1] = tp / (tp + fp);
    recall[i + 1] = tp / num_gt;
  }
  recall[n + 1] = 1.0;
  for (std::size_t i = n + 1; i-- > 0;) precision[i] = std::max(precision[i], precision[i + 1]);
  double ap = 0;
  for (std::size_t i = 1; i < n + 2; ++i)
    if (recall[i] != recall[i - 1]) ap += (recall[i] - recall[i - 1]) * precision[i];
  return ap;
}
}  // namespace detail

/// The metric over `num_classes` classes (class indices must be < num_classes).
[[nodiscard]] inline result<oi_eval_result> try_evaluate_open_images(
    std::vector<oi_gt_box> boxes, std::vector<oi_image_label> labels,
    const std::vector<oi_detection>& detections, std::size_t num_classes,
    const oi_class_relations* relations = nullptr, const oi_eval_options& opt = {}) {
  if (std::isnan(opt.score_cutoff)) return make_error(errc::eval_bad_params, "score_cutoff is NaN");
  for (const auto& b : boxes)
    if (b.class_index >= num_classes)
      return make_error(errc::eval_unknown_category, "GT box class index out of range");
  for (const auto& l : labels)
    if (l.class_index >= num_classes)
      return make_error(errc::eval_unknown_category, "image label class index out of range");
  for (const auto& d : detections) {
    if (d.class_index >= num_classes)
      return make_error(errc::eval_unknown_category, "detection class index out of range");
    // The ranking needs a total order on scores (the file readers already refuse these).
    if (!std::isfinite(d.score))
      return make_error(errc::eval_bad_value, "detection score is not finite");
  }
  if (opt.expansion == hierarchy_expansion::expand) {
    if (!relations || relations->ancestors.size() != num_classes)
      return make_error(errc::eval_bad_params,
                        "hierarchy expansion needs class relations for every class");
    // Each box is followed by its copies, as the TF tool writes the expanded CSV: within an
    // (image, class) the boxes then keep the source rows' order, which decides argmax ties.
    std::vector<oi_gt_box> expanded;
    expanded.reserve(boxes.size() * 2);
    for (const oi_gt_box& b : boxes) {
      expanded.push_back(b);
      for (std::uint32_t a : relations->ancestors[b.class_index]) {
        expanded.push_back(b);
        expanded.back().class_index = a;
      }
    }
    boxes.swap(expanded);
    const std::size_t nl = labels.size();
    for (std::size_t i = 0; i < nl; ++i) {
      const auto& rel = labels[i].present ? relations->ancestors : relations->descendants;
      for (std::uint32_t a : rel[labels[i].class_index]) {
        oi_image_label copy = labels[i];
        copy.class_index = a;
        labels.push_back(copy);
      }
    }
  }
  oi_eval_result out;
  out.per_class.resize(num_classes);
  for (std::size_t c = 0; c < num_classes; ++c)
    out.per_class[c].class_index = static_cast<std::uint32_t>(c);
  out.detections_read = detections.size();

  // Group everything by image.
  std::unordered_map<std::uint64_t, std::uint32_t> image_slot;
  struct image_data {
    std::vector<std::uint32_t> boxes, dets;
    std::vector<std::uint32_t> classes;  // evaluatable
  };
  std::vector<image_data> images;
  std::vector<std::uint64_t> image_ids;  // per slot
  auto slot = [&](std::uint64_t id) -> image_data& {
    auto it = image_slot.find(id);
    if (it == image_slot.end()) {
      it = image_slot.emplace(id, static_cast<std::uint32_t>(images.size())).first;
      images.emplace_back();
      image_ids.push_back(id);
    }
    return images[it->second];
  };
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    image_data& im = slot(boxes[i].image);
    im.boxes.push_back(static_cast<std::uint32_t>(i));
    im.classes.push_back(boxes[i].class_index);
    if (boxes[i].group_of)
      out.per_class[boxes[i].class_index].num_gt += opt.group_of_weight;
    else
      out.per_class[boxes[i].class_index].num_gt += 1;
  }
  for (const auto& l : labels) slot(l.image).classes.push_back(l.class_index);
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const oi_detection& d = detections[i];
    if (d.score < opt.score_cutoff) {
      ++out.detections_below_score_cutoff;
      continue;
    }
    auto it = image_slot.find(d.image);
    if (it == image_slot.end()) {
      ++out.detections_image_without_gt;
      continue;
    }
    images[it->second].dets.push_back(static_cast<std::uint32_t>(i));
  }
  std::vector<std::vector<std::pair<double, double>>> ranked(num_classes);
  std::vector<std::uint32_t> gt_plain, gt_group, dets;
  std::vector<double> group_score;
  std::vector<bool> gt_taken;
  // Ranked lists are filled image by image in ImageID order, as the challenge script adds images
  // (pandas groupby sorts the ID strings; 16 hex digits of one case sort as their numbers do).
  // Only the order of equal scores depends on it.
  std::vector<std::uint32_t> image_order(images.size());
  for (std::size_t i = 0; i < image_order.size(); ++i)
    image_order[i] = static_cast<std::uint32_t>(i);
  std::sort(image_order.begin(), image_order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return image_ids[a] < image_ids[b]; });
  for (std::uint32_t image_index : image_order) {
    image_data& im = images[image_index];
    std::sort(im.classes.begin(), im.classes.end());
    im.classes.erase(std::unique(im.classes.begin(), im.classes.end()), im.classes.end());
    // Detections by class, then score; equal scores put the later detection first, as TF's
    // np.argsort(scores)[::-1] (sort_by_field) does when argsort is stable.
    std::sort(im.dets.begin(), im.dets.end(), [&](std::uint32_t a, std::uint32_t b) {
      if (detections[a].class_index != detections[b].class_index)
        return detections[a].class_index < detections[b].class_index;
      if (detections[a].score != detections[b].score)
        return detections[a].score > detections[b].score;
      return a > b;
    });
    std::size_t di = 0;
    while (di < im.dets.size()) {
      const std::uint32_t c = detections[im.dets[di]].class_index;
      dets.clear();
      for (; di < im.dets.size() && detections[im.dets[di]].class_index == c; ++di) {
        const oi_detection& d = detections[im.dets[di]];
        if (!(d.box.x2 > d.box.x1) || !(d.box.y2 > d.box.y1)) {
          ++out.detections_invalid_box;
          continue;
        }
        dets.push_back(im.dets[di]);
      }
      if (!std::binary_search(im.classes.begin(), im.classes.end(), c)) {
        out.detections_not_evaluatable += dets.size();
        continue;
      }
      gt_plain.clear();
      gt_group.clear();
      for (std::uint32_t b : im.boxes)
        if (boxes[b].class_index == c) (boxes[b].group_of ? gt_group : gt_plain).push_back(b);
      std::vector<bool> is_tp(dets.size(), false), in_group(dets.size(), false);
      // Pass A: non-group-of boxes by IoU, best GT only (first on ties).
      if (!gt_plain.empty()) {
        gt_taken.assign(gt_plain.size(), false);
        for (std::size_t i = 0; i < dets.size(); ++i) {
          const box_xyxy_rel& db = detections[dets[i]].box;
          double best = -1;
          std::size_t best_g = 0;
          for (std::size_t g = 0; g < gt_plain.size(); ++g) {
            const box_xyxy_rel& gb = boxes[gt_plain[g]].box;
            const double inter = detail::oi_intersection(db, gb);
            const double uni = detail::oi_area(db) + detail::oi_area(gb) - inter;
            const double iou = uni > 0 ? inter / uni : 0.0;
            if (iou > best) {
              best = iou;
              best_g = g;
            }
          }
          if (best >= opt.iou_threshold && !gt_taken[best_g]) {
            is_tp[i] = true;
            gt_taken[best_g] = true;
          }
        }
      }
      // Pass B: remaining detections inside a group-of box by IoA.
      if (!gt_group.empty()) {
        group_score.assign(gt_group.size(), 0.0);
        for (std::size_t i = 0; i < dets.size(); ++i) {
          if (is_tp[i]) continue;
          const box_xyxy_rel& db = detections[dets[i]].box;
          const double da = detail::oi_area(db);
          double best = -1;
          std::size_t best_g = 0;
          for (std::size_t g = 0; g < gt_group.size(); ++g) {
            const double ioa =
                da > 0 ? detail::oi_intersection(db, boxes[gt_group[g]].box) / da : 0.0;
            if (ioa > best) {
              best = ioa;
              best_g = g;
            }
          }
          if (best >= opt.iou_threshold) {
            in_group[i] = true;
            ++out.detections_group_of;
            group_score[best_g] = std::max(group_score[best_g], detections[dets[i]].score);
          }
        }
      }
      // The image's detections, then its group-of entries (per_image_evaluation concatenates
      // them in this order; it decides ties in the final ranking).
      for (std::size_t i = 0; i < dets.size(); ++i) {
        if (in_group[i]) continue;
        ranked[c].push_back({detections[dets[i]].score, is_tp[i] ? 1.0 : 0.0});
      }
      if (!gt_group.empty())
        for (double s : group_score)
          if (s > 0 && opt.group_of_weight > 0) ranked[c].push_back({s, opt.group_of_weight});
    }
  }
  double sum = 0;
  std::size_t counted = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    oi_class_result& r = out.per_class[c];
    for (const auto& e : ranked[c]) (e.second > 0 ? r.true_positives : r.false_positives) += 1;
    if (r.num_gt <= 0) continue;
    r.ap = detail::voc_average_precision(ranked[c], r.num_gt);
    sum += r.ap;
    ++counted;
  }
  if (counted) out.map = sum / static_cast<double>(counted);
  return out;
}

DETKIT_END_NAMESPACE

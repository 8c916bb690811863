// examples/eval/open_images_run.cpp — detkit-eval --metric openimages: the ground truth (bbox CSV
// or label cache), image-level labels, the class hierarchy and the detections into
// detkit/open_images_eval.hpp (which applies the score cutoff), then the text table and JSON.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "detkit/detection_files.hpp"
#include "detkit/open_images_boxes.hpp"
#include "detkit/open_images_classes.hpp"
#include "detkit/open_images_eval.hpp"
#include "detkit/open_images_hierarchy.hpp"
#include "detkit/open_images_labels.hpp"
#include "eval/cache_ground_truth.hpp"
#include "eval/options.hpp"
#include "eval/text_output.hpp"

namespace detkit_eval {

int run_open_images(const options& o, const std::string& gt_format, const std::string& dt_format) {
  if (gt_format != "openimages" && gt_format != "cache")
    fail("--metric openimages needs an Open Images bbox CSV or a detkit label cache as --gt");
  detkit::class_table classes;
  std::vector<detkit::oi_gt_box> boxes;
  std::size_t num_images = 0;
  if (gt_format == "cache") {
    // A label cache written by detkit-prepare: its own class list; --classes is not needed.
    num_images = take(detkit_eval::read_cache_ground_truth(o.gt, classes.classes, boxes));
    for (std::size_t k = 0; k < classes.classes.size(); ++k)
      classes.by_mid[classes.classes[k].mid] = k;
  } else {
    if (o.classes.empty()) fail("--metric openimages needs --classes (class descriptions CSV)");
    classes = take(detkit::try_read_class_descriptions(o.classes));
    detkit::label_set labels;
    detkit::join_options jo;
    jo.csv.threads = o.threads == 0 ? 2 : o.threads;
    jo.known_classes = &classes;
    take(detkit::try_join_boxes_file(o.gt, classes.classes, jo, labels));
    num_images = labels.images.size();
    for (const auto& im : labels.images)
      for (const auto& b : im.boxes)
        boxes.push_back({im.image_id_u64, static_cast<std::uint32_t>(b.category_id), b.rel,
                         b.flags.group_of == detkit::tri_flag::yes});
  }
  const std::size_t C = classes.classes.size();
  std::vector<detkit::oi_image_label> image_labels;
  if (!o.labels.empty()) {
    for (const auto& l : take(detkit::try_read_image_labels(o.labels, classes))) {
      // Machine labels are not verified: only human labels with Confidence 0 or 1 count.
      if (l.source == detkit::label_source::machine) continue;
      if (l.confidence != 0.0f && l.confidence != 1.0f) continue;
      image_labels.push_back(
          {l.image_id, static_cast<std::uint32_t>(l.class_index), l.confidence == 1.0f});
    }
  }
  // A class outside the evaluated class list (e.g. a parent class when --gt is a 30-class label
  // cache) has no GT anywhere: such detections are dropped and counted, as the OID challenge
  // script drops labels missing from its label map.
  std::unordered_map<std::string, std::uint32_t> by_name;
  for (std::size_t k = 0; k < C; ++k)
    by_name.emplace(classes.classes[k].name, static_cast<std::uint32_t>(k));
  std::size_t unknown_class = 0;
  std::unordered_map<std::string, std::size_t> unknown_examples;
  auto class_of = [&](const std::string& label, std::uint32_t& out) -> bool {
    const std::ptrdiff_t i = classes.find_mid(label);
    if (i >= 0) {
      out = static_cast<std::uint32_t>(i);
      return true;
    }
    auto it = by_name.find(label);
    if (it != by_name.end()) {
      out = it->second;
      return true;
    }
    ++unknown_class;
    ++unknown_examples[label];
    return false;
  };
  std::vector<detkit::oi_detection> dets;
  std::uint32_t cls = 0;
  if (dt_format == "openimages") {
    for (const auto& p : take(detkit::try_read_oi_predictions(o.dt)))
      if (class_of(p.label, cls)) dets.push_back({p.image_id, cls, p.score, p.box});
  } else if (dt_format == "text") {
    for (const auto& t : take(detkit::try_read_text_detections(o.dt))) {
      std::uint64_t id = 0;
      if (!detkit::detail::parse_hex16(t.image, id))
        fail(t.image +
             ".txt: error: file name is not an Open Images ImageID (16 hex digits) "
             "[detkit.oi.bad_image_id]");
      if (!class_of(t.label, cls)) continue;
      dets.push_back({id,
                      cls,
                      t.score,
                      {static_cast<float>(t.x1), static_cast<float>(t.y1), static_cast<float>(t.x2),
                       static_cast<float>(t.y2)}});
    }
  } else {
    fail("--metric openimages takes an Open Images predictions CSV or text detections");
  }
  if (unknown_class) {
    std::string ex;
    for (const auto& kv : unknown_examples) {
      if (ex.size() > 60) break;
      ex += (ex.empty() ? "" : ", ") + kv.first + " (" + std::to_string(kv.second) + ")";
    }
    std::printf("  %zu detections of classes outside the class list dropped: %s\n", unknown_class,
                ex.c_str());
  }
  detkit::oi_eval_options eo;
  eo.score_cutoff = o.score_thr;  // the library evaluates only detections at or above it
  detkit::oi_class_relations rel;
  if (!o.hierarchy.empty()) {
    const detkit::class_hierarchy h = take(detkit::try_read_class_hierarchy(o.hierarchy));
    std::vector<std::vector<std::uint32_t>> parents(C);
    for (std::size_t c = 0; c < C; ++c) {
      const std::int64_t hi = h.find(classes.classes[c].mid);
      if (hi < 0) continue;
      for (std::uint32_t a : h.ancestors(static_cast<std::uint32_t>(hi))) {
        const std::ptrdiff_t ci = classes.find_mid(h.mids[a]);
        if (ci >= 0) parents[c].push_back(static_cast<std::uint32_t>(ci));
      }
    }
    rel = detkit::make_class_relations(parents);
  } else {
    eo.expansion = detkit::hierarchy_expansion::none;
  }
  const detkit::oi_eval_result r =
      take(detkit::try_evaluate_open_images(std::move(boxes), std::move(image_labels), dets, C,
                                            o.hierarchy.empty() ? nullptr : &rel, eo));
  std::printf("detkit-eval (Open Images metric%s): %zu images with boxes, %zu detections",
              o.hierarchy.empty() ? ", no hierarchy expansion" : ", hierarchy expanded", num_images,
              r.detections_read - r.detections_below_score_cutoff);
  if (o.has_score_thr) std::printf(", score >= %s", num(o.score_thr).c_str());
  std::printf(
      "\n  dropped: %zu of classes not verified in their image, %zu of images without GT, "
      "%zu invalid boxes; %zu inside group-of boxes\n",
      r.detections_not_evaluatable, r.detections_image_without_gt, r.detections_invalid_box,
      r.detections_group_of);
  std::printf("OpenImagesDetectionChallenge/mAP@0.5IOU = %.6f\n", r.map);
  std::vector<const detkit::oi_class_result*> rows;
  for (const auto& c : r.per_class)
    if (c.num_gt > 0 || c.true_positives + c.false_positives > 0) rows.push_back(&c);
  std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    const bool na = std::isnan(a->ap), nb = std::isnan(b->ap);
    if (na != nb) return nb;
    return a->ap < b->ap;
  });
  if (o.per_class) {
    std::printf("\nper class, worst AP first:\n  %-12s %-28s %7s %7s %7s %7s\n", "MID", "name",
                "AP", "GT", "TP", "FP");
    for (auto* c : rows) {
      char ap[16];
      if (std::isnan(c->ap))
        std::snprintf(ap, sizeof ap, "%7s", "-");
      else
        std::snprintf(ap, sizeof ap, "%7.3f", c->ap);
      std::printf("  %-12s %-28s %s %7g %7zu %7zu\n", classes.classes[c->class_index].mid.c_str(),
                  classes.classes[c->class_index].name.c_str(), ap, c->num_gt, c->true_positives,
                  c->false_positives);
    }
  }
  if (!o.json.empty()) {
    std::string j = "{\n\"metric\": \"openimages\",\n\"gt\": " + json_string(o.gt) +
                    ",\n\"dt\": " + json_string(o.dt) + ",\n\"score_cutoff\": " +
                    (o.has_score_thr ? num(o.score_thr) : std::string("null")) +
                    ",\n\"hierarchy_expanded\": " + (o.hierarchy.empty() ? "false" : "true") +
                    ",\n\"map\": " + num(r.map) + ",\n\"per_class\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto* c = rows[i];
      j += "  {\"mid\": " + json_string(classes.classes[c->class_index].mid) +
           ", \"name\": " + json_string(classes.classes[c->class_index].name) +
           ", \"ap\": " + num(c->ap) + ", \"num_gt\": " + num(c->num_gt) +
           ", \"true_positives\": " + std::to_string(c->true_positives) +
           ", \"false_positives\": " + std::to_string(c->false_positives) + "}" +
           (i + 1 < rows.size() ? ",\n" : "\n");
    }
    j += "]\n}\n";
    write_output(o.json, j);
  }
  if (o.sweep || o.worst || !o.pr_curves.empty())
    std::fprintf(stderr, "detkit-eval: --sweep, --worst and --pr-curves apply to --metric coco\n");
  return 0;
}

}  // namespace detkit_eval

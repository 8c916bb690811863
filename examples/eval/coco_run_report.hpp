// examples/eval/coco_run_report.hpp — what one `detkit-eval` COCO run found, as one typed value
// (the summary, per-category counts, the cutoff sweep, the worst images, what the reader did with
// the inputs, the optional issue-7 reports), and its --json renderer.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "eval/coco_reports.hpp"

namespace detkit_eval {

struct worst_image {
  std::int64_t image_id = 0;
  std::size_t missed = 0, false_positives = 0;
};

struct coco_run_report {
  std::string gt, dt, mode;  // the inputs as given, --mode
  bool has_score_cutoff = false;
  double score_cutoff = 0;  // when has_score_cutoff
  detkit::coco_summary summary;
  category_names names;
  std::unordered_map<std::int64_t, std::size_t> num_gt, num_detections;  // per category id
  std::vector<double> sweep_cutoffs;
  std::vector<detkit::coco_summary> sweep;  // one per sweep_cutoffs entry
  std::vector<worst_image> worst;
  detkit::coco_input_report input;
  const coco_reports* reports = nullptr;  // --reports / --f1-curves / --confusion
};

/// The --json document: {"metric": "coco", "gt", "dt", "score_cutoff", "stats_labels", "stats",
/// "per_category", "sweep", "worst_images", "report", "mode"[, "reports"]}.
std::string coco_report_json(const coco_run_report& r);

}  // namespace detkit_eval

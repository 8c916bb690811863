// examples/eval/coco_reports.hpp — detkit-eval's issue-7 outputs: the match log as CSV/JSON, the
// one-pass reports (per-class 12 stats, counts at a confidence, F1-optimal confidences, PR points
// with scores, confusion matrix) as JSON, text and SVG; and the entry of the `detkit-eval diff` subcommand.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"

namespace detkit_eval {

using category_names = std::unordered_map<std::int64_t, std::string>;

/// The name of category `id` ("all" for the -1 of class-agnostic runs, the id when unnamed).
inline std::string name_of(const category_names& names, std::int64_t id) {
  if (id < 0) return "all";
  auto it = names.find(id);
  return it != names.end() ? it->second : std::to_string(id);
}

/// CSV (one row per detection, then one per GT; empty cells where there is no match) or JSON.
std::string match_log_csv(const detkit::coco_match_log& log);
std::string match_log_json(const detkit::coco_match_log& log);

struct coco_reports {
  detkit::coco_report_point point;  // IoU threshold, maxDets, area range
  double confidence = 0.5;          // for counts and the confusion matrix
  std::vector<std::int64_t> category_ids;
  std::vector<std::array<double, 12>> per_category_stats;
  std::vector<detkit::coco_counts> counts;      // per category, then all
  std::vector<detkit::coco_counts> f1_optimal;  // per category, then all
  std::vector<double> curve_confidences;        // 0.00 .. 1.00
  std::vector<std::vector<detkit::coco_counts>> f1_curves;
  std::vector<std::vector<detkit::coco_pr_point>> pr_curves;  // per category
  bool has_confusion = false;
  detkit::coco_confusion_matrix confusion;
};

/// Everything but the confusion matrix (which needs the inputs: set it from a match log).
detkit::result<coco_reports> try_compute_reports(const detkit::coco_matches& mt,
                                                 const detkit::coco_accumulation& acc,
                                                 const detkit::coco_report_point& point,
                                                 double confidence);

std::string reports_json(const coco_reports& r, const category_names& names);
void print_reports(const coco_reports& r, const category_names& names);
std::string f1_svg(const coco_reports& r, const category_names& names);
std::string confusion_svg(const coco_reports& r, const category_names& names);

/// `detkit-eval diff ...` (argv[1] == "diff"; eval/diff.cpp).
int run_diff(int argc, char** argv);

}  // namespace detkit_eval

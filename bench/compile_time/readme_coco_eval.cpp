// The README's COCO evaluation example ("Scoring detections", Library), as a user's program would
// hold it. bench/compile_time.sh times it; the compile_readme_examples test checks that the lines
// between the markers are the README's code block.
#include <cstdio>

#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_json.hpp"

int main() {
  // clang-format off
  // README:begin
  auto gt = detkit::read_coco_ground_truth("instances_val.json");
  auto dt = detkit::read_coco_results("detections.json");
  auto r  = detkit::evaluate(gt, dt);                       // coco_eval_params{} = pycocotools
  std::fputs(detkit::format_summary(r.summary).c_str(), stdout);
  auto half  = detkit::summarize(detkit::accumulate(r.matches, 0.5), r.matches);
  auto sweep = detkit::sweep_score_cutoffs(r.matches, detkit::default_score_cutoffs());
  // README:end
  // clang-format on
  (void)half;
  (void)sweep;
  return 0;
}

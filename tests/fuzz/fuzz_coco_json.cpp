// tests/fuzz/fuzz_coco_json.cpp — fuzz entry for the COCO JSON readers (coco_json.hpp): every input
// is parsed as a GT instances file and as a results list; a GT that parses is then evaluated
// against the results (if they parse) so the evaluator sees arbitrary ids and numbers too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detkit/coco_eval.hpp"
#include "detkit/coco_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto gt = detkit::try_parse_coco_ground_truth(text, "fuzz.json");
  auto dt = detkit::try_parse_coco_results(text, "fuzz.json");
  if (gt) {
    detkit::coco_eval_params p;
    p.threads = 1;
    p.unknown_images = detkit::unknown_image_policy::drop;
    std::vector<detkit::coco_detection> dets;
    if (dt) dets = *dt;
    // Also detections made from the GT boxes, so matching code runs on fuzzed geometry.
    for (const auto& a : gt->annotations) dets.push_back({a.image_id, a.category_id, a.bbox, 0.5});
    auto r = detkit::try_evaluate(*gt, dets, p);
    if (r) (void)detkit::format_summary(r->summary);
  } else {
    (void)gt.error().to_string();
  }
  if (!dt) (void)dt.error().to_string();
  return 0;
}

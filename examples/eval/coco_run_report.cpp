// examples/eval/coco_run_report.cpp — see coco_run_report.hpp.
#include "eval/coco_run_report.hpp"

#include "eval/text_output.hpp"

namespace detkit_eval {

namespace {

std::string stats_json(const std::array<double, 12>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < 12; ++i) out += (i ? ", " : "") + num(s[i]);
  return out + "]";
}

template <class Map>
typename Map::mapped_type value_or_default(const Map& m, std::int64_t key) {
  auto it = m.find(key);
  return it != m.end() ? it->second : typename Map::mapped_type{};
}

}  // namespace

std::string coco_report_json(const coco_run_report& r) {
  std::string j =
      "{\n\"metric\": \"coco\",\n\"gt\": " + json_string(r.gt) + ",\n\"dt\": " + json_string(r.dt) +
      ",\n\"score_cutoff\": " + (r.has_score_cutoff ? num(r.score_cutoff) : std::string("null")) +
      ",\n\"stats_labels\": [\"AP\", \"AP50\", \"AP75\", \"APs\", \"APm\", \"APl\", "
      "\"AR1\", \"AR10\", \"AR100\", \"ARs\", \"ARm\", \"ARl\"],\n\"stats\": " +
      stats_json(r.summary.stats) + ",\n\"per_category\": [\n";
  const auto& per = r.summary.per_category;
  for (std::size_t k = 0; k < per.size(); ++k) {
    const auto& c = per[k];
    j += "  {\"category_id\": " + std::to_string(c.category_id) + ", \"name\": " +
         json_string(c.category_id >= 0 ? value_or_default(r.names, c.category_id) : "all") +
         ", \"ap\": " + num(c.ap) + ", \"ap50\": " + num(c.ap50) + ", \"ap75\": " + num(c.ap75) +
         ", \"ar100\": " + num(c.ar100) +
         ", \"num_gt\": " + std::to_string(value_or_default(r.num_gt, c.category_id)) +
         ", \"num_detections\": " +
         std::to_string(value_or_default(r.num_detections, c.category_id)) + "}" +
         (k + 1 < per.size() ? ",\n" : "\n");
  }
  j += "],\n\"sweep\": [";
  for (std::size_t i = 0; i < r.sweep.size(); ++i)
    j += std::string(i ? ",\n  " : "\n  ") + "{\"score_cutoff\": " + num(r.sweep_cutoffs[i]) +
         ", \"stats\": " + stats_json(r.sweep[i].stats) + "}";
  j += "],\n\"worst_images\": [";
  for (std::size_t i = 0; i < r.worst.size(); ++i)
    j += std::string(i ? ", " : "") + "{\"image_id\": " + std::to_string(r.worst[i].image_id) +
         ", \"missed\": " + std::to_string(r.worst[i].missed) +
         ", \"false_positives\": " + std::to_string(r.worst[i].false_positives) + "}";
  j += "],\n\"report\": {\"detections_read\": " + std::to_string(r.input.detections_read) +
       ", \"detections_unknown_category\": " + std::to_string(r.input.detections_unknown_category) +
       ", \"detections_unknown_image\": " + std::to_string(r.input.detections_unknown_image) +
       ", \"detections_over_max_dets\": " + std::to_string(r.input.detections_over_max_dets) +
       "},\n\"mode\": \"" + r.mode + "\"";
  if (r.reports) j += ",\n\"reports\": " + reports_json(*r.reports, r.names);
  j += "\n}\n";
  return j;
}

}  // namespace detkit_eval

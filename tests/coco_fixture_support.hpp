// tests/coco_fixture_support.hpp — loads tests/fixtures/coco/NAME.expected.json (pycocotools'
// numbers, see tests/fixtures/coco/README.md) for the COCO evaluation tests. Uses simdjson's DOM.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace detkit_test {

struct expected_category {
  std::int64_t category_id = 0;
  double ap = 0, ap50 = 0, ap75 = 0, ar100 = 0;
};
struct expected_values {
  bool present = false;  // false when pycocotools gave no numbers (stats null)
  std::array<double, 12> stats{};
  std::vector<expected_category> per_category;
};
struct expected_case {
  std::string name;
  expected_values main, cutoff, alternative;
  double cutoff_threshold = 0.5;
};

inline expected_values parse_values(simdjson::dom::element obj) {
  expected_values v;
  simdjson::dom::element stats;
  if (obj["stats"].get(stats) || stats.is_null()) return v;
  v.present = true;
  std::size_t i = 0;
  for (auto x : stats.get_array()) v.stats.at(i++) = x.get_double();
  if (i != 12) throw std::runtime_error("expected 12 stats");
  for (auto c : obj["per_category"].get_array()) {
    expected_category e;
    e.category_id = c["category_id"].get_int64();
    e.ap = c["ap"].get_double();
    e.ap50 = c["ap50"].get_double();
    e.ap75 = c["ap75"].get_double();
    e.ar100 = c["ar100"].get_double();
    v.per_category.push_back(e);
  }
  return v;
}

inline expected_case load_expected(const std::string& path) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  expected_case c;
  c.name = std::string(std::string_view(root["name"].get_string()));
  c.main = parse_values(root);
  simdjson::dom::element sc;
  if (!root["score_cutoff"].get(sc)) {
    c.cutoff = parse_values(sc);
    c.cutoff_threshold = sc["threshold"].get_double();
  }
  simdjson::dom::element alt;
  if (!root["alternative"].get(alt)) c.alternative = parse_values(alt);
  return c;
}

inline std::vector<std::string> coco_case_names(const std::string& cases_json) {
  static simdjson::dom::parser parser;
  std::vector<std::string> names;
  for (auto c : parser.load(cases_json).get_array())
    names.emplace_back(std::string_view(c["name"].get_string()));
  return names;
}

}  // namespace detkit_test

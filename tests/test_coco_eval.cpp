// tests/test_coco_eval.cpp — detkit/coco_eval.hpp + coco_json.hpp against pycocotools' numbers in
// tests/fixtures/coco (every case: stats, per-category table, 0.5 score cutoff), the documented
// decisions (empty results, unknown image ids, GT id 0), numpy details (linspace, pairwise sum),
// the printed summary, and the cutoff sweep against full re-evaluation.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include "coco_fixture_support.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/coco_json.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

struct tally {
  std::size_t values = 0, exact = 0;
  double max_diff = 0;
  std::string worst;
};

// Every value bit-identical to pycocotools' (the fixtures were made by
// tests/fixtures/coco/make_expected.py with the pinned pycocotools and numpy).
void compare_values(const std::string& what, const detkit::coco_summary& got,
                    const detkit_test::expected_values& want, tally& t) {
  INFO(what);
  REQUIRE(want.present);
  auto one = [&](const std::string& label, double g, double w) {
    INFO(label << ": got " << g << " want " << w);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g vs %.17g", g, w);
    const double d = std::fabs(g - w);
    CHECK(std::memcmp(&g, &w, sizeof g) == 0);
    ++t.values;
    if (std::memcmp(&g, &w, sizeof g) == 0) {
      ++t.exact;
    } else if (d >= t.max_diff) {
      t.max_diff = d;
      t.worst = what + " " + label + " " + buf;
    }
  };
  for (std::size_t i = 0; i < 12; ++i)
    one("stats[" + std::to_string(i) + "]", got.stats[i], want.stats[i]);
  REQUIRE(got.per_category.size() == want.per_category.size());
  for (std::size_t k = 0; k < want.per_category.size(); ++k) {
    const auto& g = got.per_category[k];
    const auto& w = want.per_category[k];
    const std::string c = "category " + std::to_string(w.category_id);
    CHECK(g.category_id == w.category_id);
    one(c + " ap", g.ap, w.ap);
    one(c + " ap50", g.ap50, w.ap50);
    one(c + " ap75", g.ap75, w.ap75);
    one(c + " ar100", g.ar100, w.ar100);
  }
}

bool same_bits(const detkit::coco_summary& a, const detkit::coco_summary& b) {
  if (std::memcmp(a.stats.data(), b.stats.data(), sizeof(double) * 12) != 0) return false;
  if (a.per_category.size() != b.per_category.size()) return false;
  for (std::size_t k = 0; k < a.per_category.size(); ++k) {
    const auto& x = a.per_category[k];
    const auto& y = b.per_category[k];
    if (x.category_id != y.category_id || std::memcmp(&x.ap, &y.ap, 8) ||
        std::memcmp(&x.ap50, &y.ap50, 8) || std::memcmp(&x.ap75, &y.ap75, 8) ||
        std::memcmp(&x.ar100, &y.ar100, 8))
      return false;
  }
  return true;
}

std::vector<detkit::coco_detection> keep_at_least(const std::vector<detkit::coco_detection>& d,
                                                  double c) {
  std::vector<detkit::coco_detection> out;
  for (const auto& x : d)
    if (x.score >= c) out.push_back(x);
  return out;
}

}  // namespace

TEST_CASE("coco_eval: default params equal pycocotools' numpy.linspace doubles", "[coco_eval]") {
  static simdjson::dom::parser parser;
  auto root = parser.load(fixture("coco/params.json"));
  const detkit::coco_eval_params p;
  std::vector<double> iou, rec;
  for (auto x : root["iouThrs"].get_array()) iou.push_back(x.get_double());
  for (auto x : root["recThrs"].get_array()) rec.push_back(x.get_double());
  REQUIRE(p.iou_thresholds.size() == iou.size());
  REQUIRE(p.recall_thresholds.size() == rec.size());
  for (std::size_t i = 0; i < iou.size(); ++i)
    CHECK(std::memcmp(&p.iou_thresholds[i], &iou[i], 8) == 0);
  for (std::size_t i = 0; i < rec.size(); ++i)
    CHECK(std::memcmp(&p.recall_thresholds[i], &rec[i], 8) == 0);
  CHECK(p.iou_thresholds[8] == 0.8999999999999999);
  CHECK(p.recall_thresholds[35] == 0.35000000000000003);
  CHECK(p.max_dets == std::vector<std::uint32_t>{1, 10, 100});
  REQUIRE(p.area_ranges.size() == 4);
  CHECK(p.area_ranges[2].lo == 1024.0);
  CHECK(p.area_ranges[2].hi == 9216.0);
}

TEST_CASE("coco_eval: the ranking radix sort is numpy's stable sort on -score", "[coco_eval]") {
  // Ties (few distinct values), both zeros, infinities, subnormals and negatives, at lengths on
  // both sides of the small-list path; the reference is std::stable_sort on descending score.
  std::mt19937_64 rng(7);
  const double pool[] = {0.5,
                         0.25,
                         0.0,
                         -0.0,
                         1.0,
                         0.9999999999999999,
                         1e-310,
                         -3.5,
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()};
  for (std::size_t n : {0, 1, 5, 63, 64, 65, 1000, 20000}) {
    for (int variant = 0; variant < 2; ++variant) {
      std::vector<double> score(n);
      std::uniform_real_distribution<double> u(0, 1);
      for (auto& s : score)
        s = variant == 0 ? pool[rng() % std::size(pool)] : std::round(u(rng) * 1000) / 1000;
      std::vector<std::uint32_t> want(n);
      for (std::size_t i = 0; i < n; ++i) want[i] = static_cast<std::uint32_t>(i);
      std::stable_sort(want.begin(), want.end(),
                       [&](std::uint32_t x, std::uint32_t y) { return score[x] > score[y]; });
      CHECK(detkit::detail::stable_order_by_score_desc(score) == want);
    }
  }
}

TEST_CASE("coco_eval: numpy pairwise mean differs from a sequential sum as numpy does",
          "[coco_eval]") {
  // 0.1 * 10: sequential gives 0.9999999999999999, numpy's 8-accumulator block gives 1.0.
  std::vector<double> v(10, 0.1);
  double seq = 0;
  for (double x : v) seq += x;
  CHECK(seq == 0.9999999999999999);
  CHECK(detkit::detail::numpy_pairwise_sum(v.data(), v.size()) == 1.0);
  // Above 128 elements the split is at n/2 rounded down to a multiple of 8.
  std::vector<double> w(300);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (double& x : w) x = u(rng);
  const double left = detkit::detail::numpy_pairwise_sum(w.data(), 144);
  const double right = detkit::detail::numpy_pairwise_sum(w.data() + 144, 156);
  CHECK(detkit::detail::numpy_pairwise_sum(w.data(), 300) == left + right);
}

TEST_CASE("coco_eval: every fixture case reproduces pycocotools bit for bit", "[coco_eval]") {
  const auto names = detkit_test::coco_case_names(fixture("coco/cases.json"));
  REQUIRE(names.size() == 23);
  tally t;
  std::size_t cases_exact = 0;
  for (const auto& name : names) {
    INFO("case " << name);
    const auto want = detkit_test::load_expected(fixture("coco/" + name + ".expected.json"));
    const auto gt = detkit::read_coco_ground_truth(fixture("coco/" + name + ".gt.json"));
    const auto dt = detkit::read_coco_results(fixture("coco/" + name + ".dt.json"));
    detkit::coco_eval_params p;
    const std::size_t before = t.values - t.exact;
    if (name == "dt_unknown_image") {
      // Documented decision: an error by default, the fixture's `alternative` when asked to drop.
      auto r = detkit::try_evaluate(gt, dt, p);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code == detkit::errc::eval_unknown_image);
      CHECK(r.error().message.find("image_id 99") != std::string::npos);
      p.unknown_images = detkit::unknown_image_policy::drop;
      const auto res = detkit::evaluate(gt, dt, p);
      CHECK(res.matches.report.detections_unknown_image == 1);
      compare_values(name + " alternative", res.summary, want.alternative, t);
      compare_values(name + " cutoff",
                     detkit::summarize(detkit::accumulate(res.matches, 0.5), res.matches),
                     want.cutoff, t);
    } else {
      const auto res = detkit::evaluate(gt, dt, p);
      compare_values(name, res.summary, want.main, t);
      REQUIRE(want.cutoff_threshold == 0.5);
      const auto cut = detkit::summarize(detkit::accumulate(res.matches, 0.5), res.matches);
      compare_values(name + " cutoff", cut, want.cutoff, t);
      // The cutoff from the shared matching is bit-identical to re-evaluating filtered input.
      const auto again = detkit::evaluate(gt, keep_at_least(dt, 0.5), p);
      CHECK(same_bits(cut, again.summary));
    }
    if (t.values - t.exact == before) ++cases_exact;
  }
  std::printf(
      "coco fixtures: %zu cases, %zu values; bit-exact: %zu/%zu values, "
      "%zu/%zu cases%s%s\n",
      names.size(), t.values, t.exact, t.values, cases_exact, names.size(),
      t.worst.empty() ? "" : "; largest difference: ", t.worst.c_str());
  std::fflush(stdout);
}

TEST_CASE("coco_eval: empty results give the empty-set values", "[coco_eval]") {
  const auto gt = detkit::read_coco_ground_truth(fixture("coco/no_detections.gt.json"));
  const auto dt = detkit::read_coco_results(fixture("coco/no_detections.dt.json"));
  REQUIRE(dt.empty());
  const auto res = detkit::evaluate(gt, dt);
  for (double s : res.summary.stats) CHECK(s == 0.0);
  // No GT at all: every value is -1.
  detkit::coco_ground_truth empty = gt;
  empty.annotations.clear();
  const auto none = detkit::evaluate(empty, dt);
  for (double s : none.summary.stats) CHECK(s == -1.0);
}

TEST_CASE("coco_eval: GT id 0 quirk is reproduced by default and can be fixed", "[coco_eval]") {
  const auto gt = detkit::read_coco_ground_truth(fixture("coco/quirk_gt_id_zero.gt.json"));
  const auto dt = detkit::read_coco_results(fixture("coco/quirk_gt_id_zero.dt.json"));
  bool has_zero = false;
  for (const auto& a : gt.annotations) has_zero |= a.id == 0;
  REQUIRE(has_zero);
  detkit::coco_eval_params p;
  const auto quirk = detkit::evaluate(gt, dt, p);
  p.gt_id_zero = detkit::gt_id_zero_policy::fix;
  const auto fixed = detkit::evaluate(gt, dt, p);
  // Renumbering the annotations (so no id is 0) must give the fixed numbers.
  auto renumbered = gt;
  for (auto& a : renumbered.annotations) a.id += 1000;
  const auto reference = detkit::evaluate(renumbered, dt);
  CHECK(same_bits(fixed.summary, reference.summary));
  CHECK(fixed.summary.stats[0] > quirk.summary.stats[0]);
}

TEST_CASE("coco_eval: inconsistent inputs are errors, not silently dropped", "[coco_eval]") {
  detkit::coco_ground_truth gt;
  gt.images = {{1, 10, 10, ""}, {2, 10, 10, ""}};
  gt.categories = {{1, "a"}};
  gt.annotations = {{1, 1, 1, {0, 0, 5, 5}, 25, false}};
  std::vector<detkit::coco_detection> dt = {{1, 1, {0, 0, 5, 5}, 0.9}};
  SECTION("duplicate image id") {
    gt.images.push_back({2, 1, 1, ""});
    auto r = detkit::try_evaluate(gt, dt);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::eval_duplicate_id);
    CHECK(r.error().to_string() == "error: duplicate image id 2 [detkit.eval.duplicate_id]");
  }
  SECTION("annotation of an unknown category") {
    gt.annotations.push_back({2, 1, 7, {0, 0, 5, 5}, 25, false});
    auto r = detkit::try_evaluate(gt, dt);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::eval_unknown_category);
  }
  SECTION("NaN score") {
    dt[0].score = std::numeric_limits<double>::quiet_NaN();
    auto r = detkit::try_evaluate(gt, dt);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::eval_bad_value);
  }
  SECTION("detection of an undeclared category is ignored and counted") {
    dt.push_back({1, 5, {0, 0, 5, 5}, 0.99});
    auto r = detkit::evaluate(gt, dt);
    CHECK(r.matches.report.detections_unknown_category == 1);
    // One TP: precision is 1/(1+eps) (pycocotools' np.spacing(1)), not 1.
    CHECK(r.accumulation.precision_at(0, 0, 0, 0, 2) == 1.0 / (1.0 + 2.220446049250313e-16));
    CHECK(r.accumulation.precision_at(0, 0, 0, 0, 2) < 1.0);
  }
}

TEST_CASE("coco_eval: summary lines are pycocotools' format", "[coco_eval]") {
  const auto gt = detkit::read_coco_ground_truth(fixture("coco/crowd.gt.json"));
  const auto dt = detkit::read_coco_results(fixture("coco/crowd.dt.json"));
  const auto res = detkit::evaluate(gt, dt);
  // Approval baseline: pycocotools 2.0.11 COCOeval.summarize() output for the crowd case.
  const char* expected =
      " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.684\n"
      " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.834\n"
      " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.735\n"
      " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000\n"
      " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.756\n"
      " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.567\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.933\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.933\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.933\n"
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000\n";
  CHECK(detkit::format_summary(res.summary) == expected);
}

TEST_CASE("coco_eval: a 20-cutoff sweep equals re-evaluating each filtered set, bit for bit",
          "[coco_eval]") {
  for (const char* name : {"random_a", "random_b", "random_c", "score_ties", "max_dets_truncation",
                           "crowd", "duplicate_detections"}) {
    INFO(name);
    const auto gt =
        detkit::read_coco_ground_truth(fixture(std::string("coco/") + name + ".gt.json"));
    const auto dt = detkit::read_coco_results(fixture(std::string("coco/") + name + ".dt.json"));
    detkit::coco_eval_params p;
    p.threads = 2;
    const auto mt = detkit::try_evaluate_images(gt, dt, p).value();
    const auto cutoffs = detkit::default_score_cutoffs();
    REQUIRE(cutoffs.size() == 20);
    const auto sweep = detkit::sweep_score_cutoffs(mt, cutoffs);
    for (std::size_t i = 0; i < cutoffs.size(); ++i) {
      INFO("cutoff " << cutoffs[i]);
      p.threads = 1;
      const auto full = detkit::evaluate(gt, keep_at_least(dt, cutoffs[i]), p);
      CHECK(same_bits(sweep[i], full.summary));
    }
  }
}

TEST_CASE("coco_eval: class-agnostic mode pools the categories", "[coco_eval]") {
  detkit::coco_ground_truth gt;
  gt.images = {{1, 100, 100, ""}};
  gt.categories = {{1, "a"}, {2, "b"}};
  gt.annotations = {{1, 1, 1, {0, 0, 10, 10}, 100, false}, {2, 1, 2, {50, 50, 10, 10}, 100, false}};
  // Right boxes, swapped labels: AP 0 per category, AP 1/(1+eps) when categories are pooled.
  std::vector<detkit::coco_detection> dt = {{1, 2, {0, 0, 10, 10}, 0.9},
                                            {1, 1, {50, 50, 10, 10}, 0.8}};
  CHECK(detkit::evaluate(gt, dt).summary.stats[1] == 0.0);
  detkit::coco_eval_params p;
  p.categories = detkit::category_mode::class_agnostic;
  const auto r = detkit::evaluate(gt, dt, p);
  // Two TPs: 2/(2+eps) rounds to exactly 1, and the envelope lifts the first one to it.
  CHECK(r.summary.stats[1] == 1.0);
  REQUIRE(r.summary.per_category.size() == 1);
  CHECK(r.summary.per_category[0].category_id == -1);
}

namespace {
// `n` results entries, one a line; `sep` between entries; entry i's score is i / n. Entries in
// [note_from, note_to) carry a string member holding what looks like an entry boundary.
std::string results_text(std::size_t n, const char* sep, std::size_t note_from = 0,
                         std::size_t note_to = 0) {
  std::string s = "[";
  char buf[256];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(
        buf, sizeof buf,
        "%s{\"image_id\": %zu, \"category_id\": %zu, \"bbox\": [%zu.25, 2.5, 30.75, "
        "40.5], \"score\": %.17g%s}",
        i ? sep : "", i / 7 + 1, i % 13 + 1, i % 500,
        static_cast<double>(i) / static_cast<double>(n),
        i >= note_from && i < note_to ? ", \"note\": \"x}, {\\\"image_id\\\": 5}, {y\"" : "");
    s += buf;
  }
  return s + "]";
}
bool same_detections(const std::vector<detkit::coco_detection>& a,
                     const std::vector<detkit::coco_detection>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].image_id != b[i].image_id || a[i].category_id != b[i].category_id ||
        a[i].score != b[i].score || a[i].bbox.x != b[i].bbox.x || a[i].bbox.y != b[i].bbox.y ||
        a[i].bbox.w != b[i].bbox.w || a[i].bbox.h != b[i].bbox.h)
      return false;
  return true;
}
}  // namespace

TEST_CASE("coco_json: large results files parse in chunks exactly as in one piece",
          "[coco_eval][coco_json]") {
  // ~50 MiB: three chunk cuts with ",\n" between entries; none with "," (no room to cut).
  const std::size_t n = 520000;
  const auto compact = detkit::try_parse_coco_results(results_text(n, ","), "dt.json");
  REQUIRE(compact);
  REQUIRE(compact->size() == n);
  const auto lines = detkit::try_parse_coco_results(results_text(n, ",\n"), "dt.json");
  REQUIRE(lines);
  CHECK(same_detections(*compact, *lines));
  SECTION("an error past the first chunk is located in the whole text") {
    std::string text = results_text(n, ",\n");
    const std::size_t at = text.rfind("\"score\": ") + 9;
    text.replace(at, text.find('}', at) - at, "\"high\"");  // the last entry's score
    const auto r = detkit::try_parse_coco_results(text, "dt.json");
    REQUIRE_FALSE(r);
    const std::size_t column = at - text.rfind('\n', at);  // 1-based byte column of the value
    CHECK(r.error().to_string() == "dt.json:520000:" + std::to_string(column) +
                                       ": error: field 'score': expected a number "
                                       "[detkit.json.schema]");
  }
  SECTION("boundary-like text inside strings near a cut is never cut") {
    // Entries around 16 MiB (the first cut) carry "}, {" inside a string.
    const std::size_t per_entry = results_text(1000, ",\n").size() / 1000;
    const std::size_t first_cut_entry = (std::size_t{16} << 20) / per_entry;
    const auto r = detkit::try_parse_coco_results(
        results_text(n, ",\n", first_cut_entry - 2000, first_cut_entry + 2000), "dt.json");
    REQUIRE(r);
    CHECK(same_detections(*compact, *r));
  }
}

TEST_CASE("coco_json: malformed files give located errors", "[coco_eval][coco_json]") {
  SECTION("score of the wrong type") {
    auto r = detkit::try_parse_coco_results(
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1,2,3,4], \"score\": 0.5},\n"
        " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [1,2,3,4], \"score\": \"high\"}]",
        "dt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string() ==
          "dt.json:2:64: error: field 'score': expected a number [detkit.json.schema]");
  }
  SECTION("missing member") {
    auto r = detkit::try_parse_coco_results(
        "[{\"image_id\": 1, \"bbox\": [1,2,3,4], \"score\": 1}]", "dt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "category_id");
    CHECK(r.error().line == 1);
    CHECK(r.error().column == 2);
  }
  SECTION("bbox with 3 numbers") {
    auto r = detkit::try_parse_coco_results(
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1,2,3], \"score\": 1}]", "dt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "bbox");
    CHECK(r.error().message == "expected 4 numbers, got 3");
  }
  SECTION("non-integer id") {
    auto r = detkit::try_parse_coco_results(
        "[{\"image_id\": 1.5, \"category_id\": 1, \"bbox\": [1,2,3,4], \"score\": 1}]", "dt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "image_id");
    CHECK(r.error().code == detkit::errc::json_schema);
  }
  SECTION("truncated file") {
    auto r = detkit::try_parse_coco_results("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1,",
                                            "dt.json");
    REQUIRE_FALSE(r);
    CHECK((r.error().code == detkit::errc::json_syntax ||
           r.error().code == detkit::errc::json_schema));
  }
  SECTION("GT without categories") {
    auto r =
        detkit::try_parse_coco_ground_truth("{\"images\": [], \"annotations\": []}", "gt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "categories");
  }
  SECTION("results file given as GT") {
    auto r = detkit::try_parse_coco_ground_truth("[]", "gt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::json_schema);
  }
  SECTION("missing file") {
    auto r = detkit::try_read_coco_results("/nonexistent/dt.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::io_open);
  }
}

TEST_CASE("coco_eval: per-image errors and detection status at IoU 0.5", "[coco_eval]") {
  detkit::coco_ground_truth gt;
  gt.images = {{1, 100, 100, "a.jpg"}, {2, 100, 100, "b.jpg"}};
  gt.categories = {{1, "a"}};
  gt.annotations = {{1, 1, 1, {0, 0, 10, 10}, 100, false},
                    {2, 1, 1, {50, 50, 10, 10}, 100, false},
                    {3, 2, 1, {0, 0, 10, 10}, 100, false},
                    {4, 2, 1, {0, 0, 90, 90}, 8100, true}};  // crowd: ignored, never "missed"
  std::vector<detkit::coco_detection> dt = {
      {1, 1, {0, 0, 10, 10}, 0.9},    // TP on GT 1
      {1, 1, {0, 0, 10, 10}, 0.8},    // duplicate: FP
      {2, 1, {0, 0, 10, 10}, 0.3},    // TP on GT 3, below a 0.5 cutoff
      {2, 1, {20, 20, 30, 30}, 0.7},  // inside the crowd region: ignored
      {2, 7, {0, 0, 10, 10}, 0.9},    // undeclared category: not evaluated
  };
  const auto r = detkit::evaluate(gt, dt);
  const auto all = detkit::image_errors(r.matches);
  REQUIRE(all.size() == 2);
  CHECK(all[0].true_positives == 1);
  CHECK(all[0].false_positives == 1);
  CHECK(all[0].missed == 1);  // GT 2
  CHECK(all[1].true_positives == 1);
  CHECK(all[1].false_positives == 0);
  CHECK(all[1].missed == 0);
  const auto cut = detkit::image_errors(r.matches, 0.5);
  CHECK(cut[1].true_positives == 0);
  CHECK(cut[1].missed == 1);  // its match scored 0.3
  const auto st = detkit::detection_status(r.matches, dt.size());
  CHECK(st == std::vector<std::int8_t>{1, 0, 1, 2, -1});
}

TEST_CASE("coco_eval: default sweep cutoffs are the decimals 0.00 ... 0.95", "[coco_eval]") {
  const auto c = detkit::default_score_cutoffs();
  REQUIRE(c.size() == 20);
  CHECK(c[0] == 0.0);
  CHECK(c[1] == 0.05);
  CHECK(c[10] == 0.5);
  CHECK(c[19] == 0.95);
}

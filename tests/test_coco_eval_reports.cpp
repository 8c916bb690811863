// tests/test_coco_eval_reports.cpp — issue 7 on top of the exact COCO evaluation: shard-and-merge
// (bit-identical on every fixture case split into 2, 3 and 7 shards; state files validated), the
// `fixed` mode (each difference with both modes' numbers), the reports (match log, counts, F1,
// PR points with scores, per-class 12 stats, confusion matrix) checked against the metric itself
// and hand-computed cases. Per-detection matches against the real pycocotools:
// tests/coco_match_log_differential.py.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "coco_fixture_support.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_eval_state.hpp"
#include "detkit/coco_json.hpp"
#include "test_support.hpp"

namespace {

const std::string coco_dir = std::string(DETKIT_FIXTURES_DIR) + "/coco/";

bool bits_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Images whose position in the GT's image list is in `shard` (of n, round robin or blocks).
detkit::coco_ground_truth gt_shard(const detkit::coco_ground_truth& gt, std::size_t shard,
                                   std::size_t n, bool blocks) {
  detkit::coco_ground_truth out;
  out.categories = gt.categories;
  std::vector<std::int64_t> keep;
  for (std::size_t i = 0; i < gt.images.size(); ++i) {
    const std::size_t s = blocks ? i * n / gt.images.size() : i % n;
    if (s == shard) {
      out.images.push_back(gt.images[i]);
      keep.push_back(gt.images[i].id);
    }
  }
  std::sort(keep.begin(), keep.end());
  for (const auto& a : gt.annotations)
    if (std::binary_search(keep.begin(), keep.end(), a.image_id)) out.annotations.push_back(a);
  return out;
}

std::vector<detkit::coco_detection> dt_shard(const detkit::coco_ground_truth& g,
                                             const std::vector<detkit::coco_detection>& dt) {
  std::vector<std::int64_t> keep;
  for (const auto& im : g.images) keep.push_back(im.id);
  std::sort(keep.begin(), keep.end());
  std::vector<detkit::coco_detection> out;
  for (const auto& d : dt)
    if (std::binary_search(keep.begin(), keep.end(), d.image_id)) out.push_back(d);
  return out;
}

}  // namespace

TEST_CASE("shard and merge: every fixture case split into 2, 3 and 7 shards is bit-identical",
          "[coco][state]") {
  std::size_t compared = 0;
  for (const std::string& name : detkit_test::coco_case_names(coco_dir + "cases.json")) {
    const auto gt = detkit::read_coco_ground_truth(coco_dir + name + ".gt.json");
    const auto dt = detkit::read_coco_results(coco_dir + name + ".dt.json");
    detkit::coco_eval_params p;
    p.threads = 2;
    auto single_r = detkit::try_evaluate_images(gt, dt, p);
    if (!single_r) continue;  // the error cases (unknown image): nothing to shard
    const detkit::coco_matches& single = *single_r;
    for (std::size_t n : {2u, 3u, 7u}) {
      for (bool blocks : {false, true}) {
        std::vector<detkit::coco_matches> shards;
        for (std::size_t s = 0; s < n; ++s) {
          const auto g = gt_shard(gt, s, n, blocks);
          const auto mt = detkit::evaluate_images(g, dt_shard(g, dt), p);
          // Through the file format: what a batch job would write and read back.
          const std::string path = detkit_test::work_dir("coco_state") + "/shard.state";
          detkit::write_eval_state(path, mt);
          shards.push_back(detkit::read_eval_state(path));
        }
        const detkit::coco_matches merged = detkit::merge_eval_states(shards);
        INFO(name << " in " << n << (blocks ? " blocks" : " round-robin shards"));
        REQUIRE(merged.image_ids == single.image_ids);
        for (double cutoff : {-std::numeric_limits<double>::infinity(), 0.5}) {
          const auto a1 = detkit::accumulate(single, cutoff);
          const auto a2 = detkit::accumulate(merged, cutoff);
          CHECK(bits_equal(a1.precision, a2.precision));
          CHECK(bits_equal(a1.recall, a2.recall));
          const auto s1 = detkit::summarize(a1, single), s2 = detkit::summarize(a2, merged);
          CHECK(std::memcmp(s1.stats.data(), s2.stats.data(), sizeof s1.stats) == 0);
          ++compared;
        }
        std::size_t tp_single = 0, tp_merged = 0;
        for (const auto& g : single.gt) tp_single += g.matched;
        for (const auto& g : merged.gt) tp_merged += g.matched;
        CHECK(tp_single == tp_merged);
        CHECK(merged.report.detections_read == single.report.detections_read);
      }
    }
  }
  CHECK(compared >= 20 * 2 * 3 * 2);
}

TEST_CASE("state files: magic, version, checksum and truncation give located errors",
          "[coco][state]") {
  const auto gt = detkit::read_coco_ground_truth(coco_dir + "crowd.gt.json");
  const auto dt = detkit::read_coco_results(coco_dir + "crowd.dt.json");
  const std::string bytes = detkit::serialize_eval_state(detkit::evaluate_images(gt, dt, {}));
  REQUIRE(detkit::try_parse_eval_state(bytes, "a.state"));

  std::string bad = bytes;
  bad[0] = 'X';
  auto r = detkit::try_parse_eval_state(bad, "a.state");
  REQUIRE(!r);
  CHECK(r.error().code == detkit::errc::eval_bad_state);
  CHECK(r.error().field == "magic");

  bad = bytes;
  bad[8] = 9;  // version
  r = detkit::try_parse_eval_state(bad, "a.state");
  REQUIRE(!r);
  CHECK(r.error().field == "version");
  CHECK(r.error().byte_offset == 12);

  bad = bytes;
  bad[bytes.size() / 2] = static_cast<char>(bad[bytes.size() / 2] ^ 0x10);
  r = detkit::try_parse_eval_state(bad, "a.state");
  REQUIRE(!r);
  CHECK(r.error().field == "checksum");
  CHECK(r.error().to_string().find("a.state: byte ") == 0);

  r = detkit::try_parse_eval_state(bytes.substr(0, bytes.size() - 5), "a.state");
  REQUIRE(!r);
  CHECK(r.error().field == "payload_size");

  // Shards evaluated with different parameters or overlapping images refuse to merge.
  detkit::coco_eval_params other;
  other.max_dets = {1, 10, 300};
  const auto m1 = detkit::evaluate_images(gt, dt, {});
  const auto m2 = detkit::evaluate_images(gt, dt, other);
  auto mr = detkit::try_merge_eval_states(std::vector<detkit::coco_matches>{m1, m2},
                                          {"a.state", "b.state"});
  REQUIRE(!mr);
  CHECK(mr.error().file == "b.state");
  mr = detkit::try_merge_eval_states(std::vector<detkit::coco_matches>{m1, m1},
                                     {"a.state", "b.state"});
  REQUIRE(!mr);
  CHECK(mr.error().message.find("disjoint") != std::string::npos);
}

TEST_CASE("fixed mode F1: maxDets > 100 reaches the AP line", "[coco][fixed]") {
  const auto gt = detkit::read_coco_ground_truth(coco_dir + "max_dets_truncation.gt.json");
  const auto dt = detkit::read_coco_results(coco_dir + "max_dets_truncation.dt.json");
  detkit::coco_eval_params p;
  p.max_dets = {1, 10, 1000};
  const auto py = detkit::evaluate(gt, dt, p);
  p.mode = detkit::eval_mode::fixed;
  const auto fx = detkit::evaluate(gt, dt, p);
  // pycocotools: AP at maxDets=100, which is not evaluated: -1. fixed: AP at maxDets=1000.
  CHECK(py.summary.stats[0] == -1.0);
  CHECK(fx.summary.stats[0] > 0);
  detkit::coco_eval_params p1000;
  p1000.max_dets = {1000};
  p1000.area_ranges.resize(1);
  const auto one = detkit::evaluate(gt, dt, p1000);
  std::vector<double> buf(one.accumulation.precision);
  CHECK(fx.summary.stats[0] == detkit::detail::mean_over_valid(buf));
  // Everything else is the same in both modes.
  for (std::size_t i = 1; i < 12; ++i) CHECK(py.summary.stats[i] == fx.summary.stats[i]);
  CHECK(detkit::format_summary(fx.summary, p).find("maxDets=1000 ] = ") != std::string::npos);
  UNSCOPED_INFO("maxDets {1,10,1000}: pycocotools AP " << py.summary.stats[0] << ", fixed AP "
                                                       << fx.summary.stats[0]);
}

TEST_CASE("fixed mode F2: custom area ranges reach the summary", "[coco][fixed]") {
  const auto gt = detkit::read_coco_ground_truth(coco_dir + "random_c.gt.json");
  const auto dt = detkit::read_coco_results(coco_dir + "random_c.dt.json");
  detkit::coco_eval_params p;
  p.area_ranges = {{"all", 0, 1e10}, {"tiny", 0, 256}, {"mid", 256, 4096}, {"big", 4096, 1e10}};
  const auto py = detkit::evaluate(gt, dt, p);
  p.mode = detkit::eval_mode::fixed;
  const auto fx = detkit::evaluate(gt, dt, p);
  for (std::size_t i : {3u, 4u, 5u, 9u, 10u, 11u}) {
    CHECK(py.summary.stats[i] == -1.0);  // pycocotools: labels small/medium/large not found
    CHECK(fx.summary.stats[i] >= 0);
  }
  const auto per = detkit::per_category_stats(fx.accumulation, fx.matches);
  REQUIRE(!per.empty());
  CHECK(detkit::format_summary(fx.summary, p).find("area=  tiny") != std::string::npos);
  for (std::size_t i : {0u, 1u, 2u, 6u, 7u, 8u}) CHECK(py.summary.stats[i] == fx.summary.stats[i]);
}

TEST_CASE("fixed mode F3: a GT with id 0 is matched", "[coco][fixed]") {
  const auto gt = detkit::read_coco_ground_truth(coco_dir + "quirk_gt_id_zero.gt.json");
  const auto dt = detkit::read_coco_results(coco_dir + "quirk_gt_id_zero.dt.json");
  const auto expected = detkit_test::load_expected(coco_dir + "quirk_gt_id_zero.expected.json");
  detkit::coco_eval_params p;
  const auto py = detkit::evaluate(gt, dt, p);
  p.mode = detkit::eval_mode::fixed;
  const auto fx = detkit::evaluate(gt, dt, p);
  CHECK(py.summary.stats == expected.main.stats);  // pycocotools' own numbers
  CHECK(fx.summary.stats[0] > py.summary.stats[0]);
  detkit::coco_eval_params pf;
  pf.gt_id_zero = detkit::gt_id_zero_policy::fix;
  CHECK(detkit::evaluate(gt, dt, pf).summary.stats == fx.summary.stats);
  // The match log names the quirk.
  const auto log_py = detkit::match_log(gt, dt, {}, {0.5, 100});
  const auto log_fx = detkit::match_log(gt, dt, p, {0.5, 100});
  std::size_t quirk = 0;
  for (const auto& m : log_py.detections) quirk += m.reason == detkit::match_reason::gt_id_zero;
  CHECK(quirk >= 1);
  CHECK(log_fx.true_positives == log_py.true_positives + quirk);
}

TEST_CASE("match log agrees with the metric on every fixture case", "[coco][match_log]") {
  for (const std::string& name : detkit_test::coco_case_names(coco_dir + "cases.json")) {
    const auto gt = detkit::read_coco_ground_truth(coco_dir + name + ".gt.json");
    const auto dt = detkit::read_coco_results(coco_dir + name + ".dt.json");
    auto mt_r = detkit::try_evaluate_images(gt, dt, {});
    if (!mt_r) continue;
    INFO(name);
    for (std::size_t t : {0u, 5u, 9u}) {
      const double thr = mt_r->params.iou_thresholds[t];
      for (std::uint32_t md : {1u, 10u, 100u}) {
        const auto log = detkit::match_log(gt, dt, {}, {thr, md});
        const auto counts = detkit::try_counts_at(*mt_r, {thr, md}, -1e300).value();
        // counts_at reads the full matching's masks; the log re-runs the matching for one slice.
        CHECK(log.true_positives == counts.back().tp);
        CHECK(log.false_positives == counts.back().fp);
        CHECK(log.gt_missed == counts.back().fn);
        // Recall from the log = the accumulated recall (area all, that maxDets).
        const auto acc = detkit::accumulate(*mt_r);
        const std::size_t m = md == 1 ? 0 : md == 10 ? 1 : 2;
        for (std::size_t k = 0; k < mt_r->categories.size(); ++k) {
          const double r = acc.recall_at(t, k, 0, m);
          if (r < 0) continue;
          CHECK(counts[k].recall == Approx(r).epsilon(1e-15));
        }
        for (const auto& d : log.detections) {
          if (d.status == detkit::match_status::true_positive) {
            REQUIRE(d.has_gt);
            CHECK(d.iou >= thr - 1e-12);
            CHECK(log.gt[d.gt_index].has_detection);
            CHECK(log.gt[d.gt_index].detection_index == d.detection_index);
          }
          if (d.reason == detkit::match_reason::low_iou && d.has_gt) CHECK(d.iou < thr);
          if (d.reason == detkit::match_reason::duplicate) CHECK(d.iou >= thr);
        }
      }
    }
  }
}

TEST_CASE("reports: hand case with a duplicate, a wrong class, a low IoU and a crowd",
          "[coco][reports]") {
  // Image 1: cat GT (id 10) and dog GT (id 11); crowd cat GT (id 12) far away.
  detkit::coco_ground_truth gt;
  gt.images = {{1, 100, 100, "a.jpg"}};
  gt.categories = {{1, "cat"}, {2, "dog"}};
  gt.annotations = {{10, 1, 1, {0, 0, 10, 10}, 100, false},
                    {11, 1, 2, {50, 50, 10, 10}, 100, false},
                    {12, 1, 1, {80, 0, 20, 20}, 400, true}};
  std::vector<detkit::coco_detection> dt = {
      {1, 1, {0, 0, 10, 10}, 0.9},    // 0: TP on 10
      {1, 1, {0, 0, 10, 9}, 0.8},     // 1: duplicate of 10
      {1, 1, {50, 50, 10, 10}, 0.7},  // 2: cat on the dog: wrong class
      {1, 1, {0, 0, 3, 3}, 0.6},      // 3: low IoU (0.09 with 10)
      {1, 1, {82, 2, 5, 5}, 0.5},     // 4: inside the crowd: ignored
      {1, 2, {30, 30, 5, 5}, 0.4},    // 5: dog on nothing: low IoU, no GT
      {1, 3, {0, 0, 10, 10}, 0.95},   // 6: undeclared category
  };
  const auto log = detkit::match_log(gt, dt, {}, {0.5, 100});
  using R = detkit::match_reason;
  using S = detkit::match_status;
  CHECK(log.detections[0].status == S::true_positive);
  CHECK(log.detections[0].gt_id == 10);
  CHECK(log.detections[1].reason == R::duplicate);
  CHECK(log.detections[1].gt_id == 10);
  CHECK(log.detections[2].reason == R::wrong_class);
  CHECK(log.detections[2].gt_id == 11);
  CHECK(log.detections[3].reason == R::low_iou);
  CHECK(log.detections[3].iou == Approx(0.09));
  CHECK(log.detections[4].status == S::ignored);
  CHECK(log.detections[4].reason == R::crowd);
  CHECK(log.detections[4].gt_id == 12);
  CHECK(log.detections[5].reason == R::low_iou);
  CHECK(!log.detections[5].has_gt);
  CHECK(log.detections[6].reason == R::unknown_category);
  CHECK(log.gt[0].status == detkit::gt_status::matched);
  CHECK(log.gt[1].status == detkit::gt_status::missed);
  CHECK(log.gt[2].status == detkit::gt_status::ignored);
  CHECK(detkit::match_log(gt, dt, {}, {0.5, 1}).detections[1].reason == R::beyond_max_dets);
  CHECK(detkit::match_log(gt, dt, {}, {0.5, 100, 0, 0.85}).detections[1].reason ==
        R::below_score_cutoff);

  // Confusion: cat→cat 1, cat predicted on dog 1 (dog GT used), background→cat 2 (dup, low IoU),
  // background→dog 1; no GT left missed.
  const auto cm = detkit::confusion_matrix(gt, dt, log);
  CHECK(cm.at(0, 0) == 1);
  CHECK(cm.at(1, 0) == 1);
  CHECK(cm.at(2, 0) == 2);
  CHECK(cm.at(2, 1) == 1);
  CHECK(cm.at(1, 2) == 0);
  CHECK(cm.at(0, 2) == 0);

  const auto mt = detkit::evaluate_images(gt, dt, {});
  const auto c = detkit::try_counts_at(mt, {0.5, 100}, 0.0).value();
  CHECK(c[0].tp == 1);
  CHECK(c[0].fp == 3);
  CHECK(c[0].fn == 0);
  CHECK(c[1].tp == 0);
  CHECK(c[1].fp == 1);
  CHECK(c[1].fn == 1);
  CHECK(c[2].f1 == Approx(2.0 / (2 + 4 + 1)));
  const auto best = detkit::try_f1_optimal(mt, {0.5, 100}).value();
  CHECK(best[0].confidence == 0.9);  // cat: one TP, then only FPs
  CHECK(best[0].f1 == 1.0);
  CHECK(best[1].f1 == 0.0);
  const auto acc = detkit::accumulate(mt);
  const auto pr = detkit::try_pr_curve(mt, acc, 0, {0.5, 100}).value();
  REQUIRE(pr.size() == 101);
  CHECK(pr[100].has_score);
  CHECK(pr[100].score == 0.9);
  const auto per = detkit::per_category_stats(acc, mt);
  const auto sum = detkit::summarize(acc, mt);
  CHECK(per[0][0] == sum.per_category[0].ap);
  CHECK(per[1][0] == sum.per_category[1].ap);
}

TEST_CASE("fixed mode F4: a missing area is computed with a located warning", "[coco][fixed]") {
  const std::string text =
      "{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1, \"name\": \"a\"}],\n"
      "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 40, "
      "50]},\n {\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"bbox\": [100, 0, 10, 10], "
      "\"area\": 100}]}";
  // pycocotools mode: refused, as pycocotools raises KeyError('area').
  auto py = detkit::try_parse_coco_ground_truth(text, "gt.json");
  REQUIRE(!py);
  CHECK(py.error().field == "area");
  CHECK(py.error().line == 2);
  detkit::coco_read_options opt;
  opt.mode = detkit::eval_mode::fixed;
  std::vector<detkit::error> warnings;
  opt.on_warning = [&](const detkit::error& e) { warnings.push_back(e); };
  const auto fx = detkit::try_parse_coco_ground_truth(text, "gt.json", opt);
  REQUIRE(fx);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].field == "area");
  CHECK(warnings[0].line == 2);
  CHECK(warnings[0].to_string().find("gt.json:2:") == 0);
  CHECK(fx->annotations[0].area == 2000.0);
  CHECK(fx->annotations[1].area == 100.0);
  // Its numbers: the 2000 px² box is "medium", so APm is defined (1.0 for an exact detection).
  detkit::coco_eval_params p;
  p.mode = detkit::eval_mode::fixed;
  const auto r = detkit::evaluate(*fx, {{1, 1, {0, 0, 40, 50}, 0.9}}, p);
  CHECK(r.summary.stats[4] > 0.99);
  CHECK(r.summary.stats[3] == 0.0);  // the small GT was missed
}

TEST_CASE("fixed mode F5: class-agnostic results labelled -1 are evaluated", "[coco][fixed]") {
  detkit::coco_ground_truth gt;
  gt.images = {{1, 100, 100, "a.jpg"}};
  gt.categories = {{1, "cat"}, {2, "dog"}};
  gt.annotations = {{1, 1, 1, {0, 0, 40, 40}, 1600, false},
                    {2, 1, 2, {50, 50, 40, 40}, 1600, false}};
  const std::vector<detkit::coco_detection> dt = {{1, -1, {0, 0, 40, 40}, 0.9},
                                                  {1, -1, {50, 50, 40, 40}, 0.8}};
  detkit::coco_eval_params p;
  p.categories = detkit::category_mode::class_agnostic;
  const auto py = detkit::evaluate(gt, dt, p);
  p.mode = detkit::eval_mode::fixed;
  const auto fx = detkit::evaluate(gt, dt, p);
  CHECK(py.summary.stats[0] == 0.0);  // pycocotools: the detections are dropped (cocoapi#515)
  CHECK(py.matches.report.detections_unknown_category == 2);
  CHECK(fx.summary.stats[0] > 0.99);  // fixed: both match
  CHECK(fx.matches.report.detections_unknown_category == 0);
  // Declared categories behave the same in both modes.
  std::vector<detkit::coco_detection> declared = dt;
  declared[0].category_id = 2;
  declared[1].category_id = 1;
  p.mode = detkit::eval_mode::pycocotools;
  const double a = detkit::evaluate(gt, declared, p).summary.stats[0];
  p.mode = detkit::eval_mode::fixed;
  CHECK(detkit::evaluate(gt, declared, p).summary.stats[0] == a);
  CHECK(a > 0.99);
}

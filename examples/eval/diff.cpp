// examples/eval/diff.cpp — `detkit-eval diff`: two evaluations compared. Two --json outputs
// (detkit-eval's, or any evaluator's {"stats", "per_category"}): stat by stat and class by class,
// bit for bit. Two COCO result sets on one ground truth: the stats, then per image (TP/FP/missed)
// and per detection (same image, category and box: status or reason changed).
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/options.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_json.hpp"
#include "eval/coco_reports.hpp"
#include "eval/text_output.hpp"

namespace detkit_eval {

namespace {

[[noreturn]] void diff_fail(const std::string& m) {
  std::fprintf(stderr, "detkit-eval diff: %s\n", m.c_str());
  std::exit(2);
}

struct eval_numbers {
  std::vector<double> stats;
  std::map<std::int64_t, std::array<double, 4>> per_category;  // ap, ap50, ap75, ar100
  std::map<std::int64_t, std::string> names;
};

eval_numbers load_numbers(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.load(path).get(root)) diff_fail(path + ": " + simdjson::error_message(e));
  eval_numbers n;
  simdjson::dom::array stats;
  if (root["stats"].get(stats))
    diff_fail(path + ": no \"stats\" array (a detkit-eval --json output?)");
  for (auto v : stats) {
    double d = -1;
    if (v.get(d)) d = std::nan("");
    n.stats.push_back(d);
  }
  simdjson::dom::array per;
  if (!root["per_category"].get(per)) {
    for (auto c : per) {
      std::int64_t id = 0;
      if (c["category_id"].get(id)) continue;
      std::array<double, 4> v{-1, -1, -1, -1};
      const char* keys[4] = {"ap", "ap50", "ap75", "ar100"};
      for (std::size_t i = 0; i < 4; ++i)
        if (c[keys[i]].get(v[i])) v[i] = -1;
      n.per_category[id] = v;
      std::string_view nm;
      if (!c["name"].get(nm)) n.names[id] = std::string(nm);
    }
  }
  return n;
}

int diff_outputs(const std::string& a, const std::string& b) {
  const eval_numbers x = load_numbers(a), y = load_numbers(b);
  static const char* const labels[12] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                         "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  std::printf("A: %s\nB: %s\n\n  %-6s %20s %20s %12s\n", a.c_str(), b.c_str(), "stat", "A", "B",
              "B - A");
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(12, std::min(x.stats.size(), y.stats.size()));
       ++i) {
    const bool eq = x.stats[i] == y.stats[i];
    same += eq;
    std::printf("  %-6s %20s %20s %12.3e%s\n", labels[i], num(x.stats[i]).c_str(),
                num(y.stats[i]).c_str(), y.stats[i] - x.stats[i], eq ? "  (bit-identical)" : "");
  }
  std::printf("%zu/12 stats bit-identical\n", same);
  struct row {
    std::int64_t id;
    double d;
    std::array<double, 4> a, b;
  };
  std::vector<row> rows;
  for (const auto& [id, va] : x.per_category) {
    auto it = y.per_category.find(id);
    if (it == y.per_category.end()) {
      std::printf("  category %lld only in A\n", static_cast<long long>(id));
      continue;
    }
    rows.push_back({id, std::fabs(it->second[0] - va[0]), va, it->second});
  }
  for (const auto& [id, vb] : y.per_category)
    if (!x.per_category.count(id))
      std::printf("  category %lld only in B\n", static_cast<long long>(id));
  std::stable_sort(rows.begin(), rows.end(), [](const row& p, const row& q) { return p.d > q.d; });
  std::size_t differ = 0;
  for (const auto& r : rows) differ += r.a != r.b;
  std::printf("\nper category: %zu of %zu differ (largest |dAP| first)\n", differ, rows.size());
  std::printf("  %8s  %-20s %10s %10s %10s %10s\n", "id", "name", "dAP", "dAP50", "dAP75",
              "dAR100");
  for (const auto& r : rows) {
    if (r.a == r.b) continue;
    auto nm = x.names.count(r.id) ? x.names.at(r.id) : std::string();
    std::printf("  %8lld  %-20s %10.3e %10.3e %10.3e %10.3e\n", static_cast<long long>(r.id),
                nm.substr(0, 20).c_str(), r.b[0] - r.a[0], r.b[1] - r.a[1], r.b[2] - r.a[2],
                r.b[3] - r.a[3]);
  }
  return differ || same < 12 ? 1 : 0;
}

int diff_results(const std::string& gt_path, const std::string& a, const std::string& b, double iou,
                 std::size_t top) {
  auto gt_r = detkit::try_read_coco_ground_truth(gt_path);
  if (!gt_r) diff_fail(gt_r.error().to_string());
  const auto& gt = *gt_r;
  std::vector<detkit::coco_detection> dt[2];
  detkit::coco_eval_result ev[2];
  detkit::coco_match_log log[2];
  const std::string paths[2] = {a, b};
  for (int s = 0; s < 2; ++s) {
    auto d = detkit::try_read_coco_results(paths[s]);
    if (!d) diff_fail(d.error().to_string());
    dt[s] = std::move(*d);
    auto e = detkit::try_evaluate(gt, dt[s]);
    if (!e) diff_fail(paths[s] + ": " + e.error().to_string());
    ev[s] = std::move(*e);
    auto l = detkit::try_match_log(gt, dt[s], {}, {iou, 100});
    if (!l) diff_fail(l.error().to_string());
    log[s] = std::move(*l);
  }
  category_names names;
  for (const auto& c : gt.categories) names[c.id] = c.name;
  std::printf("A: %s (%zu detections)\nB: %s (%zu detections)\n\n", a.c_str(), dt[0].size(),
              b.c_str(), dt[1].size());
  std::printf("summary: AP %s -> %s (B - A = %.3e), AP50 %s -> %s\n",
              num(ev[0].summary.stats[0]).c_str(), num(ev[1].summary.stats[0]).c_str(),
              ev[1].summary.stats[0] - ev[0].summary.stats[0], num(ev[0].summary.stats[1]).c_str(),
              num(ev[1].summary.stats[1]).c_str());
  // Per class: AP change and the counts behind it at the chosen IoU.
  std::map<std::int64_t, std::array<long long, 6>> cls;  // tp, fp, fn for A then B
  for (int s = 0; s < 2; ++s) {
    for (const auto& m : log[s].detections) {
      if (m.status == detkit::match_status::true_positive) ++cls[m.category_id][3 * s];
      if (m.status == detkit::match_status::false_positive) ++cls[m.category_id][3 * s + 1];
    }
    for (const auto& g : log[s].gt)
      if (g.status == detkit::gt_status::missed) ++cls[g.category_id][3 * s + 2];
  }
  std::printf("\nper class (AP; TP/FP/FN at IoU %s, maxDets 100), changed classes only:\n",
              num(iou).c_str());
  std::printf("  %-20s %9s %9s | %13s %13s %13s\n", "name", "AP A", "AP B", "TP A->B", "FP A->B",
              "FN A->B");
  for (std::size_t k = 0; k < ev[0].summary.per_category.size(); ++k) {
    const auto& ca = ev[0].summary.per_category[k];
    const auto& cb = ev[1].summary.per_category[k];
    const auto& c = cls[ca.category_id];
    if (ca.ap == cb.ap && c[0] == c[3] && c[1] == c[4] && c[2] == c[5]) continue;
    std::printf("  %-20s %9.4f %9.4f | %6lld->%-6lld %6lld->%-6lld %6lld->%-6lld\n",
                name_of(names, ca.category_id).substr(0, 20).c_str(), ca.ap, cb.ap, c[0], c[3],
                c[1], c[4], c[2], c[5]);
  }
  // Per image.
  std::map<std::int64_t, std::array<long long, 6>> img;
  for (int s = 0; s < 2; ++s) {
    for (const auto& m : log[s].detections) {
      if (m.status == detkit::match_status::true_positive) ++img[m.image_id][3 * s];
      if (m.status == detkit::match_status::false_positive) ++img[m.image_id][3 * s + 1];
    }
    for (const auto& g : log[s].gt)
      if (g.status == detkit::gt_status::missed) ++img[g.image_id][3 * s + 2];
  }
  std::vector<std::pair<long long, std::int64_t>> changed;
  for (const auto& [id, c] : img) {
    const long long d = std::llabs(c[3] - c[0]) + std::llabs(c[4] - c[1]) + std::llabs(c[5] - c[2]);
    if (d) changed.emplace_back(d, id);
  }
  std::stable_sort(changed.begin(), changed.end(),
                   [](const auto& p, const auto& q) { return p.first > q.first; });
  std::printf("\nper image: %zu images change TP/FP/missed; the %zu largest:\n", changed.size(),
              std::min(top, changed.size()));
  for (std::size_t i = 0; i < std::min(top, changed.size()); ++i) {
    const auto& c = img[changed[i].second];
    std::printf("  image %lld: TP %lld->%lld, FP %lld->%lld, missed %lld->%lld\n",
                static_cast<long long>(changed[i].second), c[0], c[3], c[1], c[4], c[2], c[5]);
  }
  // Per detection: same (image, category, box) in both sets.
  using key = std::tuple<std::int64_t, std::int64_t, double, double, double, double>;
  std::map<key, std::vector<std::uint32_t>> in_a;
  for (std::uint32_t i = 0; i < dt[0].size(); ++i) {
    const auto& d = dt[0][i];
    in_a[{d.image_id, d.category_id, d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h}].push_back(i);
  }
  std::size_t only_b = 0, status_changed = 0, score_changed = 0, shown = 0;
  std::vector<std::uint8_t> used(dt[0].size(), 0);
  std::string lines;
  for (std::uint32_t i = 0; i < dt[1].size(); ++i) {
    const auto& d = dt[1][i];
    auto it = in_a.find({d.image_id, d.category_id, d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h});
    std::uint32_t ai = 0;
    bool found = false;
    if (it != in_a.end())
      for (std::uint32_t c : it->second)
        if (!used[c]) {
          ai = c;
          used[c] = 1;
          found = true;
          break;
        }
    char buf[320];
    if (!found) {
      ++only_b;
      if (shown++ < top) {
        std::snprintf(buf, sizeof buf,
                      "  B#%u only in B (image %lld, category %lld, score %s): %s %s\n", i,
                      static_cast<long long>(d.image_id), static_cast<long long>(d.category_id),
                      num(d.score).c_str(), detkit::match_status_name(log[1].detections[i].status),
                      detkit::match_reason_name(log[1].detections[i].reason));
        lines += buf;
      }
      continue;
    }
    const auto& la = log[0].detections[ai];
    const auto& lb = log[1].detections[i];
    score_changed += dt[0][ai].score != d.score;
    if (la.status != lb.status || la.reason != lb.reason) {
      ++status_changed;
      if (shown++ < top) {
        std::snprintf(
            buf, sizeof buf,
            "  A#%u / B#%u (image %lld, category %lld): %s %s -> %s %s (score %s -> %s)\n", ai, i,
            static_cast<long long>(d.image_id), static_cast<long long>(d.category_id),
            detkit::match_status_name(la.status), detkit::match_reason_name(la.reason),
            detkit::match_status_name(lb.status), detkit::match_reason_name(lb.reason),
            num(dt[0][ai].score).c_str(), num(d.score).c_str());
        lines += buf;
      }
    }
  }
  std::size_t only_a = 0;
  for (std::uint32_t i = 0; i < dt[0].size(); ++i)
    if (!used[i]) {
      ++only_a;
      if (shown++ < top) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "  A#%u only in A (image %lld, category %lld): was %s %s\n",
                      i, static_cast<long long>(dt[0][i].image_id),
                      static_cast<long long>(dt[0][i].category_id),
                      detkit::match_status_name(log[0].detections[i].status),
                      detkit::match_reason_name(log[0].detections[i].reason));
        lines += buf;
      }
    }
  std::printf(
      "\nper detection (same image, category and box): %zu only in A, %zu only in B, %zu change "
      "status or reason, %zu change score\n%s",
      only_a, only_b, status_changed, score_changed, lines.c_str());
  return ev[0].summary.stats == ev[1].summary.stats && !only_a && !only_b && !status_changed ? 0
                                                                                             : 1;
}

}  // namespace

int run_diff(int argc, char** argv) {
  std::string gt;
  std::vector<std::string> files;
  double iou = 0.5;
  std::size_t top = 20;
  detkit_cli::option_table t(
      "detkit-eval diff",
      "usage: detkit-eval diff A.json B.json            two --json outputs (detkit-eval, or any\n"
      "                                                 evaluator writing {\"stats\", "
      "\"per_category\"})\n"
      "       detkit-eval diff --gt GT --dt A --dt B    two COCO result sets on one GT\n\n"
      "options:\n",
      "exit status: 0 identical, 1 different, 2 bad input\n");
  t.text("--gt", "GT", &gt, "COCO ground truth of the two result sets")
      .values("--dt", "A", &files, "a COCO result set (give two)")
      .number("--iou", "T", &iou, 0, 1, "IoU of the per-detection matching (default 0.5)")
      .integer("--top", "N", &top, 0, 1e9, "lines listed (default 20)")
      .positionals(&files);
  t.parse(argc, argv, 2);
  if (files.size() != 2) diff_fail("needs exactly two inputs (see detkit-eval diff --help)");
  if (gt.empty()) return diff_outputs(files[0], files[1]);
  return diff_results(gt, files[0], files[1], iou, top);
}

}  // namespace detkit_eval

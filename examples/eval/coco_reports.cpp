// examples/eval/coco_reports.cpp — see coco_reports.hpp.
#include "eval/coco_reports.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>

#include "detkit/atomic_file.hpp"
#include "detkit/coco_json.hpp"
#include "eval/text_output.hpp"

namespace detkit_eval {

namespace {

std::string name_of(const category_names& names, std::int64_t id) {
  if (id < 0) return "all";
  auto it = names.find(id);
  return it != names.end() ? it->second : std::to_string(id);
}

const char* color(std::size_t i) {
  static const char* const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[i % 10];
}

std::string svg_head(double w, double h, const std::string& title) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"20\" y=\"24\" font-size=\"15\">",
                w, h);
  return buf + svg_escape(title) + "</text>\n";
}

std::string counts_json(const detkit::coco_counts& c, const category_names& names) {
  return "{\"category_id\": " +
         (c.category_id < 0 ? std::string("null") : std::to_string(c.category_id)) +
         ", \"name\": " + json_string(name_of(names, c.category_id)) +
         ", \"confidence\": " + num(c.confidence) + ", \"tp\": " + std::to_string(c.tp) +
         ", \"fp\": " + std::to_string(c.fp) + ", \"fn\": " + std::to_string(c.fn) +
         ", \"precision\": " + num(c.precision) + ", \"recall\": " + num(c.recall) +
         ", \"f1\": " + num(c.f1) + "}";
}

}  // namespace

// ---- Match log ------------------------------------------------------------------------------

std::string match_log_csv(const detkit::coco_match_log& log) {
  std::string out =
      "record,index,id,image_id,category_id,score,rank,status,reason,match,match_index,"
      "match_id,match_category_id,iou\n";
  out.reserve(out.size() + 110 * log.detections.size() + 60 * log.gt.size());
  // Appends, no temporaries: the log of a 500k-detection run is ~35 MB.
  auto put = [&out](long long v) {
    char b[24];
    const auto r = std::to_chars(b, b + sizeof b, v);
    out.append(b, static_cast<std::size_t>(r.ptr - b));
  };
  auto cell = [&out](const char* text) {
    out += text;
    out += ',';
  };
  for (const auto& m : log.detections) {
    out += "dt,";
    put(m.detection_index);
    out += ',';
    put(m.detection_index + 1ll);
    out += ',';
    put(m.image_id);
    out += ',';
    put(m.category_id);
    out += ',';
    append_num(out, m.score);
    out += ',';
    if (m.has_rank) put(m.rank);
    out += ',';
    cell(detkit::match_status_name(m.status));
    cell(detkit::match_reason_name(m.reason));
    if (m.has_gt) {
      out += "gt,";
      put(m.gt_index);
      out += ',';
      put(m.gt_id);
      out += ',';
      put(m.gt_category_id);
      out += ',';
      append_num(out, m.iou);
      out += '\n';
    } else {
      out += ",,,,\n";
    }
  }
  for (std::size_t i = 0; i < log.gt.size(); ++i) {
    const auto& g = log.gt[i];
    out += "gt,";
    put(static_cast<long long>(i));
    out += ',';
    put(g.id);
    out += ',';
    put(g.image_id);
    out += ',';
    put(g.category_id);
    out += ',';
    if (g.has_detection) append_num(out, g.score);
    out += ",,";
    cell(detkit::gt_status_name(g.status));
    cell(detkit::match_reason_name(g.reason));
    if (g.has_detection) {
      out += "dt,";
      put(g.detection_index);
      out += ',';
      put(g.detection_index + 1ll);
      out += ",,\n";
    } else {
      out += ",,,,\n";
    }
  }
  return out;
}

std::string match_log_json(const detkit::coco_match_log& log) {
  std::string out = "{\n\"iou_threshold\": " + num(log.point.iou_threshold) +
                    ",\n\"max_dets\": " + std::to_string(log.point.max_dets) +
                    ",\n\"area_range\": " + std::to_string(log.point.area_range) +
                    ",\n\"score_cutoff\": " + num(log.point.score_cutoff) +
                    ",\n\"counts\": {\"tp\": " + std::to_string(log.true_positives) +
                    ", \"fp\": " + std::to_string(log.false_positives) +
                    ", \"ignored\": " + std::to_string(log.ignored) +
                    ", \"not_counted\": " + std::to_string(log.not_counted) +
                    ", \"gt_matched\": " + std::to_string(log.gt_matched) +
                    ", \"gt_missed\": " + std::to_string(log.gt_missed) +
                    ", \"gt_ignored\": " + std::to_string(log.gt_ignored) + "},\n\"detections\": [";
  for (std::size_t i = 0; i < log.detections.size(); ++i) {
    const auto& m = log.detections[i];
    out += std::string(i ? ",\n  " : "\n  ") + "{\"index\": " + std::to_string(m.detection_index) +
           ", \"dt_id\": " + std::to_string(m.detection_index + 1ull) +
           ", \"image_id\": " + std::to_string(m.image_id) +
           ", \"category_id\": " + std::to_string(m.category_id) + ", \"score\": " + num(m.score) +
           ", \"rank\": " + (m.has_rank ? std::to_string(m.rank) : std::string("null")) +
           ", \"status\": \"" + detkit::match_status_name(m.status) + "\", \"reason\": \"" +
           detkit::match_reason_name(m.reason) + "\", \"gt\": ";
    if (m.has_gt)
      out += "{\"index\": " + std::to_string(m.gt_index) + ", \"id\": " + std::to_string(m.gt_id) +
             ", \"category_id\": " + std::to_string(m.gt_category_id) + ", \"iou\": " + num(m.iou) +
             "}}";
    else
      out += "null}";
  }
  out += "],\n\"gt\": [";
  for (std::size_t i = 0; i < log.gt.size(); ++i) {
    const auto& g = log.gt[i];
    out += std::string(i ? ",\n  " : "\n  ") + "{\"index\": " + std::to_string(i) +
           ", \"id\": " + std::to_string(g.id) + ", \"image_id\": " + std::to_string(g.image_id) +
           ", \"category_id\": " + std::to_string(g.category_id) + ", \"status\": \"" +
           detkit::gt_status_name(g.status) + "\", \"reason\": \"" +
           detkit::match_reason_name(g.reason) + "\", \"detection\": ";
    if (g.has_detection)
      out += "{\"index\": " + std::to_string(g.detection_index) +
             ", \"dt_id\": " + std::to_string(g.detection_index + 1ull) +
             ", \"score\": " + num(g.score) + "}}";
    else
      out += "null}";
  }
  return out + "]\n}\n";
}

// ---- Reports --------------------------------------------------------------------------------

detkit::result<coco_reports> try_compute_reports(const detkit::coco_matches& mt,
                                                 const detkit::coco_accumulation& acc,
                                                 const detkit::coco_report_point& point,
                                                 double confidence) {
  coco_reports r;
  r.point = point;
  r.confidence = confidence;
  r.category_ids = detkit::category_ids(mt);
  r.per_category_stats = detkit::per_category_stats(acc, mt);
  auto counts = detkit::try_counts_at(mt, point, confidence);
  if (!counts) return std::move(counts).error();
  r.counts = std::move(*counts);
  auto best = detkit::try_f1_optimal(mt, point);
  if (!best) return std::move(best).error();
  r.f1_optimal = std::move(*best);
  for (int i = 0; i <= 100; ++i) r.curve_confidences.push_back(static_cast<double>(i) / 100.0);
  auto curves = detkit::try_f1_curves(mt, point, r.curve_confidences);
  if (!curves) return std::move(curves).error();
  r.f1_curves = std::move(*curves);
  for (std::size_t k = 0; k < mt.categories.size(); ++k) {
    auto pr = detkit::try_pr_curve(mt, acc, k, point);
    if (!pr) return std::move(pr).error();
    r.pr_curves.push_back(std::move(*pr));
  }
  return r;
}

std::string reports_json(const coco_reports& r, const category_names& names) {
  static const char* const labels[12] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                         "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  std::string j = "{\"iou_threshold\": " + num(r.point.iou_threshold) +
                  ", \"max_dets\": " + std::to_string(r.point.max_dets) +
                  ", \"area_range\": " + std::to_string(r.point.area_range) +
                  ", \"confidence\": " + num(r.confidence) + ",\n\"per_category_stats\": [";
  for (std::size_t k = 0; k < r.per_category_stats.size(); ++k) {
    j += std::string(k ? ",\n  " : "\n  ") +
         "{\"category_id\": " + std::to_string(r.category_ids[k]) +
         ", \"name\": " + json_string(name_of(names, r.category_ids[k])) + ", \"stats\": {";
    for (std::size_t i = 0; i < 12; ++i)
      j += std::string(i ? ", " : "") + "\"" + labels[i] + "\": " + num(r.per_category_stats[k][i]);
    j += "}}";
  }
  j += "],\n\"counts\": [";
  for (std::size_t k = 0; k < r.counts.size(); ++k)
    j += std::string(k ? ",\n  " : "\n  ") + counts_json(r.counts[k], names);
  j += "],\n\"f1_optimal\": [";
  for (std::size_t k = 0; k < r.f1_optimal.size(); ++k)
    j += std::string(k ? ",\n  " : "\n  ") + counts_json(r.f1_optimal[k], names);
  j += "],\n\"f1_curves\": {\"confidence\": [";
  for (std::size_t i = 0; i < r.curve_confidences.size(); ++i)
    j += (i ? ", " : "") + num(r.curve_confidences[i]);
  j += "], \"f1\": [";
  const std::size_t K1 = r.category_ids.size() + 1;
  for (std::size_t k = 0; k < K1; ++k) {
    j += std::string(k ? ",\n  " : "\n  ") + "{\"category_id\": " +
         (k + 1 < K1 ? std::to_string(r.category_ids[k]) : std::string("null")) + ", \"f1\": [";
    for (std::size_t i = 0; i < r.f1_curves.size(); ++i)
      j += (i ? ", " : "") + num(r.f1_curves[i][k].f1);
    j += "]}";
  }
  j += "]},\n\"pr_curves\": [";
  for (std::size_t k = 0; k < r.pr_curves.size(); ++k) {
    j += std::string(k ? ",\n  " : "\n  ") +
         "{\"category_id\": " + std::to_string(r.category_ids[k]) +
         ", \"points\": [[\"recall\", \"precision\", \"score\"]";
    for (const auto& p : r.pr_curves[k])
      j += ", [" + num(p.recall) + ", " + num(p.precision) + ", " +
           (p.has_score ? num(p.score) : std::string("null")) + "]";
    j += "]}";
  }
  j += "]";
  if (r.has_confusion) {
    const auto& cm = r.confusion;
    const std::size_t N = cm.category_ids.size() + 1;
    j += ",\n\"confusion_matrix\": {\"rows\": \"ground truth\", \"columns\": \"predicted\", "
         "\"labels\": [";
    for (std::size_t k = 0; k < N; ++k)
      j += std::string(k ? ", " : "") +
           json_string(k + 1 < N ? name_of(names, cm.category_ids[k]) : "background");
    j += "], \"category_ids\": [";
    for (std::size_t k = 0; k + 1 < N; ++k)
      j += (k ? ", " : "") + std::to_string(cm.category_ids[k]);
    j += "], \"cells\": [";
    for (std::size_t row = 0; row < N; ++row) {
      j += std::string(row ? ",\n  " : "\n  ") + "[";
      for (std::size_t col = 0; col < N; ++col)
        j += (col ? ", " : "") + std::to_string(cm.at(row, col));
      j += "]";
    }
    j += "]}";
  }
  return j + "}";
}

void print_reports(const coco_reports& r, const category_names& names) {
  std::printf("\nper class, all 12 stats (area ranges as summarize):\n  %-20s", "name");
  static const char* const labels[12] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                         "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  for (const char* l : labels) std::printf(" %6s", l);
  std::printf("\n");
  for (std::size_t k = 0; k < r.per_category_stats.size(); ++k) {
    std::string n = name_of(names, r.category_ids[k]);
    if (n.size() > 20) n = n.substr(0, 19) + "~";
    std::printf("  %-20s", n.c_str());
    for (double v : r.per_category_stats[k]) {
      if (v < 0)
        std::printf(" %6s", "-");
      else
        std::printf(" %6.3f", v);
    }
    std::printf("\n");
  }
  std::printf(
      "\nat IoU %s, maxDets %u: counts at score >= %s | F1-optimal confidence\n"
      "  %-20s %6s %6s %6s %6s %6s %6s | %8s %6s %6s %6s\n",
      num(r.point.iou_threshold).c_str(), r.point.max_dets, num(r.confidence).c_str(), "name", "TP",
      "FP", "FN", "P", "R", "F1", "conf", "P", "R", "F1");
  for (std::size_t k = 0; k < r.counts.size(); ++k) {
    const auto& c = r.counts[k];
    const auto& b = r.f1_optimal[k];
    std::string n = name_of(names, c.category_id);
    if (n.size() > 20) n = n.substr(0, 19) + "~";
    std::printf("  %-20s %6llu %6llu %6llu %6.3f %6.3f %6.3f | %8.4f %6.3f %6.3f %6.3f\n",
                n.c_str(), static_cast<unsigned long long>(c.tp),
                static_cast<unsigned long long>(c.fp), static_cast<unsigned long long>(c.fn),
                c.precision, c.recall, c.f1, b.confidence, b.precision, b.recall, b.f1);
  }
}

std::string f1_svg(const coco_reports& r, const category_names& names) {
  const double W = 880, H = 520, L = 70, R = 350, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  std::string s = svg_head(W, H,
                           "F1 against confidence (IoU " + num(r.point.iou_threshold) +
                               ", maxDets " + std::to_string(r.point.max_dets) + ")");
  char buf[320];
  s += svg_unit_axes(L, T, pw, ph, H, "confidence (score &gt;=)", "F1");
  const std::size_t K1 = r.category_ids.size() + 1;
  std::size_t legend = 0;
  for (std::size_t k = 0; k < K1; ++k) {
    const bool all = k + 1 == K1;
    const std::int64_t id = all ? -1 : r.category_ids[k];
    if (!all && r.counts[k].tp + r.counts[k].fn == 0) continue;  // no GT
    const char* col = all ? "black" : color(k);
    const double width = all ? 3 : 1.2;
    s += std::string("<polyline fill=\"none\" stroke=\"") + col + "\" stroke-width=\"" +
         num(width) + "\" points=\"";
    for (std::size_t i = 0; i < r.f1_curves.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%.2f,%.2f ", L + r.curve_confidences[i] * pw,
                    T + (1 - r.f1_curves[i][k].f1) * ph);
      s += buf;
    }
    s += "\"/>\n";
    const auto& b = r.f1_optimal[k];
    std::snprintf(buf, sizeof buf, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/>\n",
                  L + std::min(1.0, b.confidence) * pw, T + (1 - b.f1) * ph, col);
    s += buf;
    if (legend < 28) {
      const double y = T + 10 + 16 * static_cast<double>(legend++);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
                    "stroke-width=\"%g\"/><text x=\"%g\" y=\"%g\">",
                    L + pw + 12, y, L + pw + 32, y, col, width, L + pw + 38, y + 4);
      s += buf +
           svg_escape(name_of(names, id) + " (best F1 " + num(std::round(b.f1 * 1000) / 1000) +
                      " @ " + num(std::round(b.confidence * 1000) / 1000) + ")") +
           "</text>\n";
    }
  }
  return s + "</svg>\n";
}

std::string confusion_svg(const coco_reports& r, const category_names& names) {
  const auto& cm = r.confusion;
  const std::size_t N = cm.category_ids.size() + 1;
  const double cell = N > 24 ? 18 : 30, L = 170, T = 60;
  const double W = L + cell * static_cast<double>(N) + 40,
               H = T + cell * static_cast<double>(N) + 150;
  std::string s = svg_head(W, H,
                           "Confusion matrix (IoU " + num(r.point.iou_threshold) + ", score >= " +
                               num(r.confidence) + "; rows: ground truth, columns: predicted)");
  char buf[400];
  auto label = [&](std::size_t k) {
    std::string n = k + 1 < N ? name_of(names, cm.category_ids[k]) : "background";
    return n.size() > 22 ? n.substr(0, 21) + "~" : n;
  };
  for (std::size_t row = 0; row < N; ++row) {
    std::uint64_t total = 0;
    for (std::size_t col = 0; col < N; ++col) total += cm.at(row, col);
    const double y = T + cell * static_cast<double>(row);
    std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">", L - 6,
                  y + cell / 2 + 4);
    s += buf + svg_escape(label(row)) + "</text>\n";
    for (std::size_t col = 0; col < N; ++col) {
      const std::uint64_t v = cm.at(row, col);
      // Row-normalised shade: what share of this GT class went where.
      const double f = total ? static_cast<double>(v) / static_cast<double>(total) : 0;
      const int shade = static_cast<int>(std::lround(255 - 200 * f));
      const double x = L + cell * static_cast<double>(col);
      std::snprintf(
          buf, sizeof buf,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%g\" height=\"%g\" fill=\"rgb(%d,%d,255)\" "
          "stroke=\"#ccc\"/>",
          x, y, cell, cell, shade, shade);
      s += buf;
      if (v) {
        std::snprintf(buf, sizeof buf,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%g\" "
                      "fill=\"%s\">%llu</text>",
                      x + cell / 2, y + cell / 2 + 4, cell > 20 ? 11.0 : 8.0,
                      f > 0.6 ? "white" : "black", static_cast<unsigned long long>(v));
        s += buf;
      }
    }
    s += "\n";
  }
  for (std::size_t col = 0; col < N; ++col) {
    const double x = L + cell * static_cast<double>(col) + cell / 2 + 4,
                 y = T + cell * static_cast<double>(N) + 6;
    std::snprintf(buf, sizeof buf,
                  "<text x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-60 %.1f %.1f)\" "
                  "text-anchor=\"end\">",
                  x, y, x, y);
    s += buf + svg_escape(label(col)) + "</text>\n";
  }
  return s + "</svg>\n";
}

// ---- diff -----------------------------------------------------------------------------------

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
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) diff_fail("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--gt")
      gt = value();
    else if (a == "--dt")
      files.push_back(value());
    else if (a == "--iou")
      iou = std::atof(value().c_str());
    else if (a == "--top")
      top = static_cast<std::size_t>(std::atol(value().c_str()));
    else if (a == "--help" || a == "-h") {
      std::puts(
          "usage: detkit-eval diff A.json B.json            two --json outputs (detkit-eval, or "
          "any\n"
          "                                                 evaluator writing {\"stats\", "
          "\"per_category\"})\n"
          "       detkit-eval diff --gt GT --dt A --dt B    two COCO result sets on one GT\n"
          "options: --iou T (per-detection matching, default 0.5)  --top N (lines listed, 20)\n"
          "exit status: 0 identical, 1 different, 2 bad input");
      return 0;
    } else if (!a.empty() && a[0] == '-')
      diff_fail("unknown option '" + a + "'");
    else
      files.push_back(a);
  }
  if (files.size() != 2) diff_fail("needs exactly two inputs (see detkit-eval diff --help)");
  if (gt.empty()) return diff_outputs(files[0], files[1]);
  return diff_results(gt, files[0], files[1], iou, top);
}

}  // namespace detkit_eval

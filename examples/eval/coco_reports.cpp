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

#include "common/palette.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/coco_json.hpp"
#include "eval/text_output.hpp"

namespace detkit_eval {

namespace {

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
    const std::string col = all ? "black" : detkit_cli::palette_hex(k);
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
                  L + std::min(1.0, b.confidence) * pw, T + (1 - b.f1) * ph, col.c_str());
    s += buf;
    if (legend < 28) {
      const double y = T + 10 + 16 * static_cast<double>(legend++);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
                    "stroke-width=\"%g\"/><text x=\"%g\" y=\"%g\">",
                    L + pw + 12, y, L + pw + 32, y, col.c_str(), width, L + pw + 38, y + 4);
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

}  // namespace detkit_eval

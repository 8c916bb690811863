// examples/detkit-eval.cpp — standalone mAP scoring of any detector's output.
//
// COCO metric: pycocotools' exact numbers and its 12 printed lines (detkit/coco_eval.hpp), at any
// score cutoff, a cutoff sweep, a per-class table sorted worst first, JSON, PR curves as SVG and
// the worst images drawn. Open Images metric: the OID challenge metric
// (detkit/open_images_eval.hpp). Exit codes: 0 ok, 2 bad input or usage (message on stderr).
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/draw.hpp"
#include "common/files.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/box.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_eval_state.hpp"
#include "detkit/coco_json.hpp"
#include "detkit/detection_files.hpp"
#include "eval/coco_reports.hpp"
#include "eval/coco_run_report.hpp"
#include "eval/npy.hpp"
#include "eval/options.hpp"
#include "eval/text_output.hpp"
#include "eval/worst_images.hpp"

namespace {

using detkit_eval::box_kind;
using detkit_eval::draw_image;
using detkit_eval::fail;
using detkit_eval::json_string;
using detkit_eval::num;
using detkit_eval::options;
using detkit_eval::svg_escape;
using detkit_eval::take;
using detkit_eval::worst_box;
using detkit_eval::write_output;

bool is_directory(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// First non-blank bytes of a file, for format detection.
std::string sniff(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(path + ": error: cannot open: " + std::strerror(errno) + " [detkit.io.open]");
  char buf[512];
  const std::size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  std::string s(buf, n);
  const std::size_t start = s.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string detect_gt_format(const options& o) {
  if (!o.gt_format.empty()) return o.gt_format;  // one of the table's choices
  const std::string head = sniff(o.gt);
  if (!head.empty() && head[0] == '{') return "coco";
  if (head.rfind("ImageID", 0) == 0) return "openimages";
  if (head.rfind("DETKITLC", 0) == 0) return "cache";
  fail(o.gt +
       ": cannot tell the ground-truth format (not a COCO JSON object, not an Open Images "
       "CSV with an ImageID header, not a detkit label cache); give --gt-format");
}

std::string detect_dt_format(const options& o) {
  if (!o.dt_format.empty()) return o.dt_format;  // one of the table's choices
  if (is_directory(o.dt)) return "text";
  const std::string head = sniff(o.dt);
  if (!head.empty() && head[0] == '[') return "coco";
  if (head.rfind("ImageID", 0) == 0) return "openimages";
  if (o.dt.size() > 4 && o.dt.compare(o.dt.size() - 4, 4, ".txt") == 0) return "text";
  fail(o.dt +
       ": cannot tell the detections format (not a COCO results list, not an Open Images "
       "predictions CSV, not a .txt file or folder); give --dt-format");
}

// pycocotools' eval['precision'], ['recall'], ['scores'] as .npy files in `dir`.
void write_arrays(const std::string& dir, const detkit::coco_accumulation& acc) {
  detkit_cli::make_folder("detkit-eval", dir, 2);
  const std::size_t T = acc.num_iou, R = acc.num_recall, K = acc.num_categories, A = acc.num_areas,
                    M = acc.num_max_dets;
  write_output(dir + "/precision.npy", detkit_eval::npy_float64(acc.precision, {T, R, K, A, M}));
  write_output(dir + "/recall.npy", detkit_eval::npy_float64(acc.recall, {T, K, A, M}));
  write_output(dir + "/scores.npy", detkit_eval::npy_float64(acc.scores, {T, R, K, A, M}));
}

// ---- SVG -------------------------------------------------------------------------------------

struct curve {
  std::string label;
  std::vector<double> recall, precision;
  std::string color;
  double width;
};

std::string pr_svg(const std::string& title, const std::vector<curve>& curves) {
  const double W = 760, H = 520, L = 70, R = 230, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  char buf[256];
  std::string s;
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n",
                W, H);
  s += buf;
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"24\" font-size=\"15\">", L);
  s += buf + svg_escape(title) + "</text>\n";
  s += detkit_eval::svg_unit_axes(L, T, pw, ph, H, "recall", "precision");
  std::size_t legend = 0;
  for (const curve& c : curves) {
    s += "<polyline fill=\"none\" stroke=\"";
    s += c.color;
    std::snprintf(buf, sizeof buf, "\" stroke-width=\"%g\" points=\"", c.width);
    s += buf;
    for (std::size_t i = 0; i < c.recall.size(); ++i) {
      if (c.precision[i] < 0) continue;
      std::snprintf(buf, sizeof buf, "%.2f,%.2f ", L + c.recall[i] * pw,
                    T + (1 - c.precision[i]) * ph);
      s += buf;
    }
    s += "\"/>\n";
    if (!c.label.empty() && legend < 30) {
      const double y = T + 10 + 16 * static_cast<double>(legend++);
      std::snprintf(
          buf, sizeof buf,
          "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"%g\"/>"
          "<text x=\"%g\" y=\"%g\">",
          L + pw + 12, y, L + pw + 32, y, c.color.c_str(), c.width, L + pw + 38, y + 4);
      s += buf + svg_escape(c.label) + "</text>\n";
    }
  }
  s += "</svg>\n";
  return s;
}

// ---- COCO ---------------------------------------------------------------------------------------

std::vector<detkit::coco_detection> text_to_coco(const std::vector<detkit::text_detection>& td,
                                                 const detkit::coco_ground_truth& gt) {
  std::unordered_map<std::string, std::int64_t> image_by_stem, cat_by_name;
  for (const auto& im : gt.images) {
    image_by_stem[detkit::detail::file_stem(im.file_name)] = im.id;
  }
  for (const auto& c : gt.categories) cat_by_name[c.name] = c.id;
  std::vector<detkit::coco_detection> out;
  out.reserve(td.size());
  for (const auto& t : td) {
    detkit::coco_detection d;
    auto im = image_by_stem.find(t.image);
    if (im != image_by_stem.end()) {
      d.image_id = im->second;
    } else if (detkit::detail::parse_int(t.image, d.image_id) != detkit::errc::ok) {
      fail(t.image +
           ".txt: error: no GT image has this file name, and it is not a numeric image id "
           "[detkit.eval.unknown_image]");
    }
    auto c = cat_by_name.find(t.label);
    if (c != cat_by_name.end()) {
      d.category_id = c->second;
    } else if (detkit::detail::parse_int(t.label, d.category_id) != detkit::errc::ok) {
      fail(t.image + ".txt: error: class '" + t.label +
           "' is neither a category name nor a numeric id [detkit.eval.unknown_category]");
    }
    d.bbox = {t.x1, t.y1, t.x2 - t.x1, t.y2 - t.y1};
    d.score = t.score;
    out.push_back(d);
  }
  return out;
}

int run_coco(const options& o, const std::string& dt_format) {
  const bool merging = !o.merge.empty();
  std::size_t warnings = 0;
  detkit::coco_read_options read_opt;
  read_opt.mode = o.mode == "fixed" ? detkit::eval_mode::fixed : detkit::eval_mode::pycocotools;
  read_opt.on_warning = [&warnings](const detkit::error& e) {
    if (++warnings <= 5) std::fprintf(stderr, "detkit-eval: warning: %s\n", e.to_string().c_str());
  };
  // A COCO results file is read while the ground truth is (the GT reader is serial); the GT's
  // errors are reported first, as if read first.
  detkit::result<std::vector<detkit::coco_detection>> dt_read =
      std::vector<detkit::coco_detection>{};
  std::thread dt_reader;
  if (!merging && dt_format == "coco")
    dt_reader = std::thread([&] { dt_read = detkit::try_read_coco_results(o.dt, o.threads); });
  auto gt_read = merging ? detkit::result<detkit::coco_ground_truth>(detkit::coco_ground_truth{})
                         : detkit::try_read_coco_ground_truth(o.gt, read_opt);
  if (dt_reader.joinable()) dt_reader.join();
  const detkit::coco_ground_truth gt = take(std::move(gt_read));
  if (warnings > 5)
    std::fprintf(stderr, "detkit-eval: warning: %zu more inputs repaired (--mode fixed)\n",
                 warnings - 5);
  std::vector<detkit::coco_detection> dt;
  if (merging) {
  } else if (dt_format == "coco") {
    dt = take(std::move(dt_read));
  } else if (dt_format == "text") {
    dt = text_to_coco(take(detkit::try_read_text_detections(o.dt)), gt);
  } else {
    fail("--metric coco takes COCO results JSON or text detections, not an Open Images CSV");
  }
  detkit::coco_eval_params p;
  p.threads = o.threads;
  if (o.drop_unknown) p.unknown_images = detkit::unknown_image_policy::drop;
  if (o.fix_id_zero) p.gt_id_zero = detkit::gt_id_zero_policy::fix;
  if (o.mode == "fixed") p.mode = detkit::eval_mode::fixed;
  if (o.class_agnostic) p.categories = detkit::category_mode::class_agnostic;
  if (!o.max_dets.empty()) p.max_dets = o.max_dets;
  if (!o.area_ranges.empty()) p.area_ranges = o.area_ranges;
  p.summation = o.summation;
  p.score_cutoff = o.score_thr;  // validated by the library; read back from mt.params below
  std::unordered_map<std::int64_t, std::size_t> num_dt;  // detections >= the cutoff per category
  detkit::result<detkit::coco_matches> mt_r = detkit::coco_matches{};
  if (merging) {
    std::vector<detkit::coco_matches> shards;
    for (const auto& f : o.merge) shards.push_back(take(detkit::try_read_eval_state(f)));
    mt_r = detkit::try_merge_eval_states(shards, o.merge);
    if (!mt_r) fail(mt_r.error());
    mt_r->params.threads = o.threads;
    mt_r->params.summation = o.summation;
    mt_r->params.score_cutoff = o.score_thr;
  } else {
    // The detections themselves are read again only by the match log, the confusion matrix
    // and the drawings; otherwise the evaluation may free them early (less peak memory).
    const bool keep_dt = !o.match_log.empty() || o.reports || !o.confusion.empty() || o.worst;
    for (const auto& d : dt)
      if (d.score >= p.score_cutoff) ++num_dt[d.category_id];
    mt_r = keep_dt ? detkit::try_evaluate_images(gt, dt, p)
                   : detkit::try_evaluate_images(gt, std::move(dt), p);
  }
  if (!mt_r) {
    detkit::error e = std::move(mt_r).error();
    if (e.file.empty()) e.file = e.code == detkit::errc::eval_unknown_image ? o.dt : o.gt;
    if (e.code == detkit::errc::eval_unknown_image)
      e.message += "; pass --drop-unknown-images to drop such detections";
    fail(e);
  }
  const detkit::coco_matches mt = std::move(*mt_r);
  // The one score cutoff of this run: every count, report, picture and curve below uses it.
  const double cutoff = mt.params.score_cutoff;
  const detkit::coco_accumulation acc = detkit::accumulate(mt, cutoff);
  const detkit::coco_summary sum = detkit::summarize(acc, mt);
  if (!o.shard_state.empty()) {
    if (auto w = detkit::try_write_eval_state(o.shard_state, mt); !w) fail(w.error());
  }
  if (!o.arrays.empty()) write_arrays(o.arrays, acc);

  const auto& rep = mt.report;
  if (merging)
    std::printf(
        "detkit-eval: %zu shards merged, %zu images, %zu categories, %zu GT boxes, %zu "
        "detections",
        o.merge.size(), mt.image_ids.size(), mt.categories.size(), mt.gt.size(),
        rep.detections_read);
  else
    std::printf("detkit-eval: %zu images, %zu categories, %zu GT boxes, %zu detections",
                gt.images.size(), gt.categories.size(), gt.annotations.size(), rep.detections_read);
  if (o.has_score_thr) std::printf(", score >= %s", num(cutoff).c_str());
  std::printf("\n");
  if (rep.detections_unknown_category)
    std::printf("  %zu detections of undeclared categories ignored (as pycocotools does)\n",
                rep.detections_unknown_category);
  if (rep.detections_unknown_image)
    std::printf("  %zu detections of images not in the GT dropped (--drop-unknown-images)\n",
                rep.detections_unknown_image);
  if (rep.detections_over_max_dets)
    std::printf("  %zu detections beyond the %u best per image and category not evaluated\n",
                rep.detections_over_max_dets, mt.params.max_dets.back());
  std::fputs(detkit::format_summary(sum, mt.params).c_str(), stdout);

  // Per-category counts and names.
  std::unordered_map<std::int64_t, std::string> names;
  for (const auto& c : gt.categories) names[c.id] = c.name;
  std::unordered_map<std::int64_t, std::size_t> num_gt;
  for (const auto& a : gt.annotations)
    if (!a.iscrowd) ++num_gt[a.category_id];
  if (merging) {
    // No inputs: the state's own counts (non-ignored GT of the first area range; detections
    // evaluated, i.e. within the last maxDets).
    for (const auto& c : mt.categories) {
      num_gt[c.category_id] = c.num_gt[0];
      num_dt[c.category_id] = detkit::detail::prefix_at_cutoff(c.score, cutoff);
    }
  }

  // Issue 7: match log and the one-pass reports.
  detkit::coco_report_point point;
  point.iou_threshold = o.report_iou;
  point.max_dets = o.report_max_dets ? o.report_max_dets : mt.params.max_dets.back();
  point.score_cutoff = cutoff;
  const bool want_reports = o.reports || !o.f1_curves.empty() || !o.confusion.empty();
  detkit_eval::coco_reports reports;
  if (!o.match_log.empty() || want_reports) {
    if (detkit::detail::find_index(mt.params.iou_thresholds, o.report_iou) < 0)
      fail("--report-iou " + num(o.report_iou) + " is not one of the evaluated IoU thresholds");
  }
  if (want_reports) {
    auto r = detkit_eval::try_compute_reports(mt, acc, point, o.conf);
    if (!r) fail(r.error());
    reports = std::move(*r);
  }
  const bool want_confusion = (o.reports || !o.confusion.empty()) && !merging;
  if (!o.match_log.empty() || want_confusion) {
    const detkit::coco_match_log log = take(detkit::try_match_log(mt, gt, dt, point));
    if (!o.match_log.empty()) {
      const bool csv =
          o.match_log.size() >= 4 && o.match_log.compare(o.match_log.size() - 4, 4, ".csv") == 0;
      write_output(o.match_log,
                   csv ? detkit_eval::match_log_csv(log) : detkit_eval::match_log_json(log));
      std::printf(
          "match log (IoU %s, maxDets %u): %zu TP, %zu FP, %zu ignored, %zu not counted; "
          "GT %zu matched, %zu missed, %zu ignored -> %s\n",
          num(point.iou_threshold).c_str(), point.max_dets, log.true_positives, log.false_positives,
          log.ignored, log.not_counted, log.gt_matched, log.gt_missed, log.gt_ignored,
          o.match_log.c_str());
    }
    if (want_confusion) {
      // The confusion matrix at --conf: the same log with that cutoff.
      reports.confusion = detkit::confusion_matrix(gt, dt, log, o.conf);
      reports.has_confusion = true;
    }
  }
  if (o.reports) detkit_eval::print_reports(reports, names);
  if (!o.f1_curves.empty()) {
    write_output(o.f1_curves, detkit_eval::f1_svg(reports, names));
    std::printf("F1 curves written to %s\n", o.f1_curves.c_str());
  }
  if (!o.confusion.empty()) {
    if (!reports.has_confusion) fail("--confusion needs the inputs (not available with --merge)");
    write_output(o.confusion, detkit_eval::confusion_svg(reports, names));
    std::printf("confusion matrix written to %s\n", o.confusion.c_str());
  }

  std::vector<detkit::coco_summary> sweep;
  std::vector<double> cutoffs;
  if (o.sweep) {
    cutoffs = detkit::default_score_cutoffs();
    sweep = detkit::sweep_score_cutoffs(mt, cutoffs);
    std::printf(
        "\nscore cutoff sweep (keep score >= c):\n    c       AP     AP50     AP75    AR100\n");
    for (std::size_t i = 0; i < sweep.size(); ++i)
      std::printf(" %5.2f  %7.3f  %7.3f  %7.3f  %7.3f\n", cutoffs[i], sweep[i].stats[0],
                  sweep[i].stats[1], sweep[i].stats[2], sweep[i].stats[8]);
  }
  if (o.per_class) {
    std::vector<const detkit::coco_category_summary*> rows;
    for (const auto& c : sum.per_category) rows.push_back(&c);
    std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
      const bool na = a->ap < 0, nb = b->ap < 0;  // no GT: last
      if (na != nb) return nb;
      return a->ap < b->ap;
    });
    std::printf("\nper class, worst AP first (area all, maxDets %u%s):\n",
                mt.params.max_dets.back(),
                o.has_score_thr ? (", score >= " + num(cutoff)).c_str() : "");
    std::printf("  %8s  %-24s %7s %7s %7s %7s %7s %7s\n", "id", "name", "AP", "AP50", "AP75",
                "AR100", "GT", "dets");
    for (auto* c : rows) {
      std::string name = c->category_id >= 0 ? names[c->category_id] : std::string("(all)");
      if (name.size() > 24) name = name.substr(0, 23) + "~";
      auto cell = [](double v) {
        char b[16];
        if (v < 0)
          std::snprintf(b, sizeof b, "%7s", "-");
        else
          std::snprintf(b, sizeof b, "%7.3f", v);
        return std::string(b);
      };
      std::printf("  %8lld  %-24s %s %s %s %s %7zu %7zu\n", static_cast<long long>(c->category_id),
                  name.c_str(), cell(c->ap).c_str(), cell(c->ap50).c_str(), cell(c->ap75).c_str(),
                  cell(c->ar100).c_str(), num_gt[c->category_id], num_dt[c->category_id]);
    }
  }
  std::vector<detkit::coco_image_errors> worst;
  if (o.worst > 0) {
    worst = detkit::image_errors(mt, cutoff);
    std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) {
      return a.missed + a.false_positives > b.missed + b.false_positives;
    });
    if (worst.size() > o.worst) worst.resize(o.worst);
    std::unordered_map<std::int64_t, const detkit::coco_image*> img_by_id;
    for (const auto& im : gt.images) img_by_id[im.id] = &im;
    std::printf("\nworst images (IoU %.2f, area all): missed GT + false positives\n",
                mt.params.iou_thresholds[0]);
    std::printf("  %10s  %6s %6s %6s  %s\n", "image_id", "missed", "FP", "TP", "file");
    for (const auto& w : worst) {
      const std::int64_t id = mt.image_ids[w.image_index];
      std::printf("  %10lld  %6u %6u %6u  %s\n", static_cast<long long>(id), w.missed,
                  w.false_positives, w.true_positives, img_by_id[id]->file_name.c_str());
    }
    if (!o.images.empty()) {
      detkit_cli::make_folder("detkit-eval", o.worst_dir, 2);
      const auto status = detkit::detection_status(mt, dt.size());
      std::size_t drawn = 0;
      for (const auto& w : worst) {
        const std::int64_t id = mt.image_ids[w.image_index];
        std::vector<detkit_draw::labelled_box> boxes;
        for (std::size_t i = 0; i < gt.annotations.size(); ++i) {
          const auto& a = gt.annotations[i];
          if (a.image_id != id || mt.gt[i].ignored) continue;
          const box_kind kind =
              mt.gt[i].matched_at(cutoff) ? box_kind::matched_gt : box_kind::missed_gt;
          boxes.push_back(worst_box(a.bbox, kind, names[a.category_id], 0));
        }
        for (std::size_t i = 0; i < dt.size(); ++i) {
          const auto& d = dt[i];
          if (d.image_id != id || d.score < cutoff || (status[i] != 0 && status[i] != 1)) continue;
          const box_kind kind = status[i] == 1 ? box_kind::true_positive : box_kind::false_positive;
          boxes.push_back(worst_box(d.bbox, kind, names[d.category_id], d.score));
        }
        const std::string& fn = img_by_id[id]->file_name;
        const std::string out =
            o.worst_dir + "/" + std::to_string(id) + "_" + detkit::detail::file_stem(fn) + ".png";
        if (draw_image(o.images + "/" + fn, out, boxes)) ++drawn;
      }
      std::printf("  %zu drawn into %s/\n", drawn, o.worst_dir.c_str());
    }
  }
  if (!o.pr_curves.empty()) {
    // precision[t = IoU .50, :, k, area all, last maxDets]; the mean over classes with GT.
    const std::size_t R = acc.num_recall, K = acc.num_categories, m = acc.num_max_dets - 1;
    std::vector<curve> curves;
    std::vector<double> mean(R, 0.0);
    std::size_t counted = 0;
    std::vector<std::size_t> order;
    for (std::size_t k = 0; k < K; ++k)
      if (acc.precision_at(0, 0, k, 0, m) > -1) order.push_back(k);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return sum.per_category[a].ap50 < sum.per_category[b].ap50;
    });
    for (std::size_t idx = 0; idx < order.size(); ++idx) {
      const std::size_t k = order[idx];
      curve c;
      const std::int64_t cid = mt.categories[k].category_id;
      c.label = (cid >= 0 ? names[cid] : std::string("all")) + " (AP50 " +
                num(std::round(sum.per_category[k].ap50 * 1000) / 1000) + ")";
      c.color = detkit_cli::palette_hex(idx);
      c.width = 1.2;
      for (std::size_t r = 0; r < R; ++r) {
        c.recall.push_back(mt.params.recall_thresholds[r]);
        c.precision.push_back(acc.precision_at(0, r, k, 0, m));
        mean[r] += acc.precision_at(0, r, k, 0, m);
      }
      ++counted;
      curves.push_back(std::move(c));
    }
    if (counted) {
      curve c;
      c.label = "mean (AP50 " + num(std::round(sum.stats[1] * 1000) / 1000) + ")";
      c.color = "black";
      c.width = 3;
      for (std::size_t r = 0; r < R; ++r) {
        c.recall.push_back(mt.params.recall_thresholds[r]);
        c.precision.push_back(mean[r] / static_cast<double>(counted));
      }
      curves.insert(curves.begin(), std::move(c));
    }
    write_output(o.pr_curves,
                 pr_svg("Precision-recall at IoU 0.50 (worst AP50 first)" +
                            (o.has_score_thr ? ", score >= " + num(cutoff) : std::string()),
                        curves));
    std::printf("\nPR curves written to %s\n", o.pr_curves.c_str());
  }
  if (!o.json.empty()) {
    detkit_eval::coco_run_report report;
    report.gt = o.gt;
    report.dt = o.dt;
    report.mode = o.mode;
    report.has_score_cutoff = o.has_score_thr;
    report.score_cutoff = cutoff;
    report.summary = sum;
    report.names = names;
    report.num_gt = num_gt;
    report.num_detections = num_dt;
    report.sweep_cutoffs = cutoffs;
    report.sweep = sweep;
    for (const auto& w : worst)
      report.worst.push_back({mt.image_ids[w.image_index], w.missed, w.false_positives});
    report.input = rep;
    if (want_reports) report.reports = &reports;
    write_output(o.json, detkit_eval::coco_report_json(report));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && std::string(argv[1]) == "diff") return detkit_eval::run_diff(argc, argv);
    const options o = detkit_eval::parse_args(argc, argv);
    if (!o.merge.empty()) return run_coco(o, "coco");
    const std::string gt_format = detect_gt_format(o);
    const std::string dt_format = detect_dt_format(o);
    std::string metric = o.metric;
    if (metric.empty()) metric = gt_format == "coco" ? "coco" : "openimages";
    if (metric == "coco") {
      if (gt_format != "coco")
        fail(
            "--metric coco needs COCO ground truth (use --metric openimages for Open Images CSVs)");
      return run_coco(o, dt_format);
    }
    return detkit_eval::run_open_images(o, gt_format,
                                        dt_format);  // the table allows coco or openimages
  } catch (const detkit::parse_error& e) {
    fail(e.what());
  } catch (const std::bad_alloc&) {
    fail("out of memory");
  }
}

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
#include "common/options.hpp"
#include "common/palette.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/box.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/coco_eval_reports.hpp"
#include "detkit/coco_eval_state.hpp"
#include "detkit/coco_json.hpp"
#include "detkit/detection_files.hpp"
#include "detkit/open_images_boxes.hpp"
#include "detkit/open_images_classes.hpp"
#include "detkit/open_images_eval.hpp"
#include "detkit/open_images_hierarchy.hpp"
#include "detkit/open_images_labels.hpp"
#include "eval/cache_ground_truth.hpp"
#include "eval/coco_reports.hpp"
#include "eval/npy.hpp"
#include "eval/text_output.hpp"

#if DETKIT_EVAL_HAS_STB
#include <stb_image.h>
#include <stb_image_write.h>
#endif

namespace {

using detkit_eval::json_string;
using detkit_eval::num;
using detkit_eval::svg_escape;

const char* const usage_text =
    R"(detkit-eval: score a detector's output (COCO mAP exactly as pycocotools, or the Open Images metric)

usage: detkit-eval --gt FILE --dt FILE|DIR [options]
       detkit-eval --merge A.state B.state ... [options]   (shards written with --shard-state)
       detkit-eval diff A.json B.json | diff --gt GT --dt A --dt B   (see detkit-eval diff --help)
)";

const char* const gt_help =
    R"(ground truth, one of
  coco        COCO instances JSON (pycocotools' COCO(file)):
              {"images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 3,
                                "bbox": [x, y, w, h], "area": 1200.5, "iscrowd": 0}],
               "categories": [{"id": 3, "name": "bed"}]}
  cache       a detkit label cache (detkit-prepare --out labels.dkc): boxes
              and classes of the prepared split (Open Images metric)
  openimages  Open Images bbox CSV (needs --classes), e.g.
              ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside
              0001eeaf4aed83f9,xclick,/m/03ssj5,1,0.022673,0.964200,0.071038,0.800546,0,0,0,0,0)";

const char* const dt_help =
    R"(detections, one of
  coco        COCO results JSON (as for loadRes):
              [{"image_id": 1, "category_id": 3, "bbox": [x, y, w, h], "score": 0.92}, ...]
  openimages  predictions CSV of the OID challenge script:
              ImageID,LabelName,Score,XMin,XMax,YMin,YMax
              0001eeaf4aed83f9,/m/03ssj5,0.92,0.02,0.96,0.07,0.80
  text        a folder of per-image text files (or one file) named <image>.txt,
              one detection per line, '#' starts a comment:
              bed 0.92 14.5 34.0 617.2 384.3        (class score x1 y1 x2 y2)
              <image> is the COCO file_name without extension (or the numeric
              image id) / the Open Images ImageID; class is a category name or
              id (COCO) / a MID or display name (Open Images); coordinates are
              pixels for COCO ground truth and fractions for Open Images.)";

const char* const mode_help =
    R"(pycocotools (default): every quirk reproduced. fixed differs in:
  F1 AP line uses the last maxDets, not a hard-coded 100
     (pycocotools: AP = -1 when 100 is not in --max-dets)
  F2 the summary's all/small/medium/large rows are the first four
     --area-ranges whatever their labels (pycocotools: -1 for custom labels)
  F3 a GT with annotation id 0 can be matched (as --fix-gt-id-zero)
  F4 a GT without "area" gets bbox w*h, with a located warning on stderr
     (pycocotools: KeyError 'area'; detkit pycocotools mode: exit 2)
  F5 with --class-agnostic, detections of undeclared categories (e.g. -1)
     are evaluated (pycocotools drops them: cocoapi#515, AP 0)
both modes: empty results score 0 (-1 without GT) instead of crashing)";

const char* const match_log_help =
    R"(every detection: tp (with its GT), fp with a reason (duplicate, low_iou,
wrong_class, gt_id_zero), ignored (crowd, gt_outside_area, dt_outside_area),
not_counted (beyond_max_dets, below_score_cutoff, unknown_category,
unknown_image); every GT: matched (with its detection), missed or ignored.
OUT.csv: columns record,index,id,image_id,category_id,score,rank,status,
reason,match,match_index,match_id,match_category_id,iou ("match" is gt/dt or
empty: an id is never 0-for-none); other names: JSON. dt id = index + 1 as in
pycocotools' loadRes. Honours --score-thr.)";

struct options {
  std::string gt, dt, gt_format, dt_format, classes, labels, hierarchy, metric, json, pr_curves,
      images, worst_dir = "worst-images", mode = "pycocotools", match_log, f1_curves, confusion,
              shard_state, arrays, numpy = "2";
  detkit::numpy_summation summation = detkit::numpy_summation::numpy_2;
  std::vector<std::string> merge;
  std::vector<std::uint32_t> max_dets;
  std::vector<detkit::coco_area_range> area_ranges;
  double report_iou = 0.5, conf = 0.5;
  std::uint32_t report_max_dets = 0;  // 0 = the last maxDets
  bool reports = false, class_agnostic = false;
  double score_thr = -std::numeric_limits<double>::infinity();
  bool has_score_thr = false, sweep = false, per_class = false, drop_unknown = false,
       fix_id_zero = false;
  std::size_t worst = 0;
  unsigned threads = 0;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "detkit-eval: %s\n", message.c_str());
  std::exit(2);
}
[[noreturn]] void fail(const detkit::error& e) { fail(e.to_string()); }

template <class T>
T take(detkit::result<T> r) {
  if (!r) fail(r.error());
  return std::move(*r);
}

// "--max-dets 1,10,100": whole counts in [1, 1e9].
std::string read_max_dets(const std::string& v, std::vector<std::uint32_t>& out) {
  out.clear();
  for (const std::string& item : detkit_cli::split_commas(v)) {
    double n = 0;
    if (!detkit_cli::read_finite(item, n) || n < 1 || n > 1e9 || n != std::floor(n))
      return "expected counts A,B,C in [1,1e9], got '" + v + "'";
    out.push_back(static_cast<std::uint32_t>(n));
  }
  return out.empty() ? "expected counts A,B,C in [1,1e9], got '" + v + "'" : "";
}

// "--area-ranges all:0:1e10,small:0:1024": LABEL:LO:HI items, bounds in px^2.
std::string read_area_ranges(const std::string& v, std::vector<detkit::coco_area_range>& out) {
  out.clear();
  for (const std::string& item : detkit_cli::split_commas(v)) {
    const std::size_t c1 = item.find(':'), c2 = item.find(':', c1 + 1);
    double lo = 0, hi = 0;
    if (c1 == std::string::npos || c2 == std::string::npos ||
        !detkit_cli::read_finite(item.substr(c1 + 1, c2 - c1 - 1), lo) ||
        !detkit_cli::read_finite(item.substr(c2 + 1), hi))
      return "expected LABEL:LO:HI, got '" + item + "'";
    out.push_back({item.substr(0, c1), lo, hi});
  }
  return out.empty() ? "expected LABEL:LO:HI,..., got '" + v + "'" : "";
}

options parse_args(int argc, char** argv) {
  options o;
  detkit_cli::option_table t("detkit-eval", usage_text,
                             "\nexit status: 0 success, 2 bad input or usage (the message, with "
                             "file:line:column, on stderr)\n");
  const double inf = std::numeric_limits<double>::infinity();
  t.section("inputs (formats are detected from the content; --gt-format / --dt-format override):")
      .text("--gt", "FILE", &o.gt, gt_help)
      .text("--dt", "FILE|DIR", &o.dt, dt_help)
      .choice("--gt-format", &o.gt_format, {"coco", "openimages", "cache"},
              "the ground truth's format (default: detected)")
      .choice("--dt-format", &o.dt_format, {"coco", "openimages", "text"},
              "the detections' format (default: detected)")
      .text("--classes", "FILE", &o.classes,
            "Open Images class descriptions CSV (class-descriptions-boxable.csv)")
      .text("--labels", "FILE", &o.labels,
            "Open Images image-level labels CSV (ImageID,Source,LabelName,Confidence):\n"
            "verified present (1) / absent (0) classes; absent classes turn detections into\n"
            "false positives (openimages metric)")
      .text("--hierarchy", "FILE", &o.hierarchy,
            "bbox_labels_600_hierarchy.json: expand GT boxes/labels to parent classes");
  t.section("metric and outputs:")
      .choice("--metric", &o.metric, {"coco", "openimages"},
              "default: coco for COCO ground truth, openimages for Open Images CSVs")
      .number("--score-thr", "C", &o.score_thr, -inf, inf,
              "keep detections with score >= C (exactly as filtering the input first)")
      .flag("--sweep", &o.sweep,
            "COCO stats at score cutoffs 0.00, 0.05 ... 0.95 (one matching, 20 accumulations)")
      .flag("--per-class", &o.per_class, "per-class table, worst AP first")
      .text("--json", "OUT", &o.json,
            "write {\"stats\": [12], \"per_category\": [{\"category_id\", \"name\", \"ap\", "
            "\"ap50\",\n\"ap75\", \"ar100\", \"num_gt\", \"num_detections\"}], \"sweep\": [...], "
            "...}\n(openimages: {\"map\", \"per_class\": [{\"mid\", \"name\", \"ap\", \"num_gt\", "
            "...}]})")
      .text("--arrays", "DIR", &o.arrays,
            "write pycocotools' eval arrays as numpy files: DIR/precision.npy and\n"
            "DIR/scores.npy (T,R,K,A,M), DIR/recall.npy (T,K,A,M); -1 = no GT")
      .choice("--numpy", &o.numpy, {"2", "1"},
              "the summary means as numpy 2.x computes np.mean (default; one pairwise sum\n"
              "over the whole array) or as numpy 1.x did (8192-value blocks): they differ\n"
              "in the last bits once a mean runs over more than 8192 values")
      .text("--pr-curves", "OUT.svg", &o.pr_curves,
            "precision/recall curves at IoU 0.50 (COCO: per class and their mean)")
      .integer("--worst", "N", &o.worst, 0, 1e9,
               "list the N images with the most missed + false boxes (IoU 0.50, COCO metric)")
      .text("--images", "DIR", &o.images,
            "with --worst: draw those images with their boxes into --worst-dir, every box\n"
            "labelled with its class, score and kind, and a legend (green: matched GT,\n"
            "orange: missed GT, blue: true positive, red: false positive)")
      .text("--worst-dir", "DIR", &o.worst_dir, "where the drawings go (default: worst-images)")
      .flag("--drop-unknown-images", &o.drop_unknown,
            "drop detections whose image is not in the GT (default: error, as\n"
            "pycocotools asserts); the count is printed")
      .flag("--fix-gt-id-zero", &o.fix_id_zero,
            "let a GT with annotation id 0 match (pycocotools never matches it)")
      .custom("--max-dets", "A,B,C", "maxDets list (default 1,10,100)",
              [&o](const std::string& v) { return read_max_dets(v, o.max_dets); })
      .custom("--area-ranges", "L:LO:HI,...",
              "area ranges in px^2 (default all:0:1e10,small:0:1024,\n"
              "medium:1024:9216,large:9216:1e10); the first is the reports' range",
              [&o](const std::string& v) { return read_area_ranges(v, o.area_ranges); })
      .choice("--mode", &o.mode, {"pycocotools", "fixed"}, mode_help)
      .flag("--class-agnostic", &o.class_agnostic,
            "pycocotools useCats=0: one bucket for all categories");
  t.section(
       "match log, reports, shards (issue 7; IoU/maxDets of the log and reports: --report-iou,\n"
       "--report-max-dets; the area range is the first of --area-ranges):")
      .text("--match-log", "OUT", &o.match_log, match_log_help)
      .number("--report-iou", "T", &o.report_iou, 0, 1,
              "IoU threshold of the log and reports (one of the 10; default 0.5)")
      .integer("--report-max-dets", "N", &o.report_max_dets, 1, 1e9,
               "maxDets of the log and reports (default: the last of --max-dets)")
      .flag("--reports", &o.reports,
            "in --json (\"reports\") and printed: per-class table of all 12 stats, TP/FP/FN,\n"
            "precision, recall, F1 at --conf, the F1-optimal confidence per class and\n"
            "overall, F1-vs-confidence curves, PR curves with the score at each point,\n"
            "the confusion matrix (classes + background, COCO matching, at --conf)")
      .number("--conf", "C", &o.conf, -inf, inf,
              "confidence for the counts and the confusion matrix (default 0.5)")
      .text("--f1-curves", "OUT.svg", &o.f1_curves,
            "F1 against confidence per class and overall, best points marked")
      .text("--confusion", "OUT.svg", &o.confusion,
            "confusion-matrix heat map (rows: GT class, columns: predicted)")
      .text("--shard-state", "OUT.state", &o.shard_state,
            "write this run's evaluation state (its images only) for --merge")
      .values("--merge", "A.state ...", &o.merge,
              "merge shard states (equal params, disjoint images) and report as\n"
              "one run over all images: bit-identical to it. --gt/--dt are not read.")
      .integer("--threads", "N", &o.threads, 0, 1024, "worker threads (default: all cores)");
  t.parse(argc, argv);
  o.has_score_thr = std::isfinite(o.score_thr);
  o.summation =
      o.numpy == "1" ? detkit::numpy_summation::numpy_1 : detkit::numpy_summation::numpy_2;
  if (!o.merge.empty()) {
    if (!o.gt.empty() || !o.dt.empty()) fail("--merge reads state files only: drop --gt/--dt");
    if (!o.match_log.empty() || !o.confusion.empty() || o.worst)
      fail("--match-log, --confusion and --worst need the inputs: not available with --merge");
    return o;
  }
  if (o.gt.empty() || o.dt.empty()) fail("--gt FILE and --dt FILE are required (see --help)");
  return o;
}

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

void write_output(const std::string& path, const std::string& text) {
  if (auto r = detkit::try_write_file_atomically(path, text); !r) fail(r.error());
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

std::string stats_json(const std::array<double, 12>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < 12; ++i) out += (i ? ", " : "") + num(s[i]);
  return out + "]";
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

// ---- Drawing the worst images -----------------------------------------------------------------

// Each box's kind decides its colour; its label says the kind, the class and (detections) the
// score, and a legend names the colours, so a miss reads differently from a false positive.
enum class box_kind { matched_gt, missed_gt, true_positive, false_positive };

detkit_draw::rgb kind_color(box_kind k) {
  switch (k) {
    case box_kind::matched_gt:
      return detkit_cli::palette_rgb(2);  // green
    case box_kind::missed_gt:
      return detkit_cli::palette_rgb(1);  // orange
    case box_kind::true_positive:
      return detkit_cli::palette_rgb(0);  // blue
    case box_kind::false_positive:
      break;
  }
  return detkit_cli::palette_rgb(3);  // red
}

// A COCO [x, y, w, h] box as drawing corners (float pixels are plenty for a picture).
detkit::box_xyxy_abs corners(const detkit::coco_bbox& b) {
  return detkit::to_xyxy_abs(detkit::box_xywh_abs{static_cast<float>(b.x), static_cast<float>(b.y),
                                                  static_cast<float>(b.w),
                                                  static_cast<float>(b.h)});
}

detkit_draw::labelled_box worst_box(const detkit::box_xyxy_abs& b, box_kind kind,
                                    const std::string& class_name, double score) {
  static const char* const tags[] = {"GT", "MISSED", "TP", "FP"};
  std::string text = class_name;
  if (kind == box_kind::true_positive || kind == box_kind::false_positive) {
    char s[16];
    std::snprintf(s, sizeof s, " %.2f", score);
    text += s;
  }
  text += std::string(" ") + tags[static_cast<int>(kind)];
  return {b.x1, b.y1, b.x2, b.y2, kind_color(kind), text};
}

// Returns false (with a message on stderr) when the image cannot be drawn.
bool draw_image(const std::string& in, const std::string& out,
                const std::vector<detkit_draw::labelled_box>& boxes) {
#if DETKIT_EVAL_HAS_STB
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load(in.c_str(), &w, &h, &n, 3);
  if (!px) {
    std::fprintf(stderr, "detkit-eval: %s: cannot read image (%s); not drawn\n", in.c_str(),
                 stbi_failure_reason());
    return false;
  }
  // The legend's strip is added under the picture, scaled for the picture's own size.
  std::vector<unsigned char> pixels(
      px, px + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  stbi_image_free(px);
  detkit_draw::draw_labelled_boxes(pixels.data(), w, h, boxes);
  detkit_draw::append_legend(pixels, w, h,
                             {{"GT MATCHED", kind_color(box_kind::matched_gt)},
                              {"GT MISSED", kind_color(box_kind::missed_gt)},
                              {"DETECTION TP", kind_color(box_kind::true_positive)},
                              {"DETECTION FP", kind_color(box_kind::false_positive)}});
  const std::string tmp = out + ".tmp";
  if (!stbi_write_png(tmp.c_str(), w, h, 3, pixels.data(), w * 3) ||
      std::rename(tmp.c_str(), out.c_str()) != 0) {
    std::remove(tmp.c_str());
    std::fprintf(stderr, "detkit-eval: %s: cannot write PNG\n", out.c_str());
    return false;
  }
  return true;
#else
  (void)in;
  (void)out;
  (void)boxes;
  std::fprintf(stderr, "detkit-eval: built without stb (libstb-dev): images not drawn\n");
  return false;
#endif
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
  std::unordered_map<std::int64_t, std::size_t> num_dt;  // detections >= the cutoff per category
  detkit::result<detkit::coco_matches> mt_r = detkit::coco_matches{};
  if (merging) {
    std::vector<detkit::coco_matches> shards;
    for (const auto& f : o.merge) shards.push_back(take(detkit::try_read_eval_state(f)));
    mt_r = detkit::try_merge_eval_states(shards, o.merge);
    if (!mt_r) fail(mt_r.error());
    mt_r->params.threads = o.threads;
    mt_r->params.summation = o.summation;
  } else {
    // The detections themselves are read again only by the match log, the confusion matrix
    // and the drawings; otherwise the evaluation may free them early (less peak memory).
    const bool keep_dt = !o.match_log.empty() || o.reports || !o.confusion.empty() || o.worst;
    for (const auto& d : dt)
      if (d.score >= o.score_thr) ++num_dt[d.category_id];
    mt_r = keep_dt ? detkit::try_evaluate_images(gt, dt, p)
                   : detkit::try_evaluate_images(gt, std::move(dt), p);
  }
  if (!mt_r) {
    detkit::error e = std::move(mt_r).error();
    if (e.file.empty()) e.file = e.code == detkit::errc::eval_unknown_image ? o.dt : o.gt;
    if (e.code == detkit::errc::eval_unknown_image)
      e.message = e.message.substr(0, e.message.find(" (pycocotools")) +
                  " (pycocotools asserts); pass --drop-unknown-images to drop such detections";
    fail(e);
  }
  const detkit::coco_matches mt = std::move(*mt_r);
  const double cutoff = o.score_thr;
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
          boxes.push_back(worst_box(corners(a.bbox), kind, names[a.category_id], 0));
        }
        for (std::size_t i = 0; i < dt.size(); ++i) {
          const auto& d = dt[i];
          if (d.image_id != id || d.score < cutoff || (status[i] != 0 && status[i] != 1)) continue;
          const box_kind kind = status[i] == 1 ? box_kind::true_positive : box_kind::false_positive;
          boxes.push_back(worst_box(corners(d.bbox), kind, names[d.category_id], d.score));
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
    std::string j = "{\n\"metric\": \"coco\",\n\"gt\": " + json_string(o.gt) +
                    ",\n\"dt\": " + json_string(o.dt) + ",\n\"score_cutoff\": " +
                    (o.has_score_thr ? num(cutoff) : std::string("null")) +
                    ",\n\"stats_labels\": [\"AP\", \"AP50\", \"AP75\", \"APs\", \"APm\", \"APl\", "
                    "\"AR1\", \"AR10\", \"AR100\", \"ARs\", \"ARm\", \"ARl\"],\n\"stats\": " +
                    stats_json(sum.stats) + ",\n\"per_category\": [\n";
    for (std::size_t k = 0; k < sum.per_category.size(); ++k) {
      const auto& c = sum.per_category[k];
      j += "  {\"category_id\": " + std::to_string(c.category_id) +
           ", \"name\": " + json_string(c.category_id >= 0 ? names[c.category_id] : "all") +
           ", \"ap\": " + num(c.ap) + ", \"ap50\": " + num(c.ap50) + ", \"ap75\": " + num(c.ap75) +
           ", \"ar100\": " + num(c.ar100) +
           ", \"num_gt\": " + std::to_string(num_gt[c.category_id]) +
           ", \"num_detections\": " + std::to_string(num_dt[c.category_id]) + "}" +
           (k + 1 < sum.per_category.size() ? ",\n" : "\n");
    }
    j += "],\n\"sweep\": [";
    for (std::size_t i = 0; i < sweep.size(); ++i)
      j += std::string(i ? ",\n  " : "\n  ") + "{\"score_cutoff\": " + num(cutoffs[i]) +
           ", \"stats\": " + stats_json(sweep[i].stats) + "}";
    j += "],\n\"worst_images\": [";
    for (std::size_t i = 0; i < worst.size(); ++i)
      j += std::string(i ? ", " : "") +
           "{\"image_id\": " + std::to_string(mt.image_ids[worst[i].image_index]) +
           ", \"missed\": " + std::to_string(worst[i].missed) +
           ", \"false_positives\": " + std::to_string(worst[i].false_positives) + "}";
    j += "],\n\"report\": {\"detections_read\": " + std::to_string(rep.detections_read) +
         ", \"detections_unknown_category\": " + std::to_string(rep.detections_unknown_category) +
         ", \"detections_unknown_image\": " + std::to_string(rep.detections_unknown_image) +
         ", \"detections_over_max_dets\": " + std::to_string(rep.detections_over_max_dets) +
         "},\n\"mode\": \"" + o.mode + "\"";
    if (want_reports) j += ",\n\"reports\": " + detkit_eval::reports_json(reports, names);
    j += "\n}\n";
    write_output(o.json, j);
  }
  return 0;
}

// ---- Open Images ----------------------------------------------------------------------------------

int run_open_images(const options& o, const std::string& gt_format, const std::string& dt_format) {
  if (gt_format != "openimages" && gt_format != "cache")
    fail("--metric openimages needs an Open Images bbox CSV or a detkit label cache as --gt");
  detkit::class_table classes;
  std::vector<detkit::oi_gt_box> boxes;
  std::size_t num_images = 0;
  if (gt_format == "cache") {
    // A label cache written by detkit-prepare: its own class list; --classes is not needed.
    num_images = take(detkit_eval::read_cache_ground_truth(o.gt, classes.classes, boxes));
    for (std::size_t k = 0; k < classes.classes.size(); ++k)
      classes.by_mid[classes.classes[k].mid] = k;
  } else {
    if (o.classes.empty()) fail("--metric openimages needs --classes (class descriptions CSV)");
    classes = take(detkit::try_read_class_descriptions(o.classes));
    detkit::label_set labels;
    detkit::join_options jo;
    jo.csv.threads = o.threads == 0 ? 2 : o.threads;
    jo.known_classes = &classes;
    take(detkit::try_join_boxes_file(o.gt, classes.classes, jo, labels));
    num_images = labels.images.size();
    for (const auto& im : labels.images)
      for (const auto& b : im.boxes)
        boxes.push_back({im.image_id_u64, static_cast<std::uint32_t>(b.category_id), b.rel,
                         b.flags.group_of == detkit::tri_flag::yes});
  }
  const std::size_t C = classes.classes.size();
  std::vector<detkit::oi_image_label> image_labels;
  if (!o.labels.empty()) {
    for (const auto& l : take(detkit::try_read_image_labels(o.labels, classes))) {
      // Machine labels are not verified: only human labels with Confidence 0 or 1 count.
      if (l.source == detkit::label_source::machine) continue;
      if (l.confidence != 0.0f && l.confidence != 1.0f) continue;
      image_labels.push_back(
          {l.image_id, static_cast<std::uint32_t>(l.class_index), l.confidence == 1.0f});
    }
  }
  // A class outside the evaluated class list (e.g. a parent class when --gt is a 30-class label
  // cache) has no GT anywhere: such detections are dropped and counted, as the OID challenge
  // script drops labels missing from its label map.
  std::unordered_map<std::string, std::uint32_t> by_name;
  for (std::size_t k = 0; k < C; ++k)
    by_name.emplace(classes.classes[k].name, static_cast<std::uint32_t>(k));
  std::size_t unknown_class = 0;
  std::unordered_map<std::string, std::size_t> unknown_examples;
  auto class_of = [&](const std::string& label, std::uint32_t& out) -> bool {
    const std::ptrdiff_t i = classes.find_mid(label);
    if (i >= 0) {
      out = static_cast<std::uint32_t>(i);
      return true;
    }
    auto it = by_name.find(label);
    if (it != by_name.end()) {
      out = it->second;
      return true;
    }
    ++unknown_class;
    ++unknown_examples[label];
    return false;
  };
  std::vector<detkit::oi_detection> dets;
  std::uint32_t cls = 0;
  if (dt_format == "openimages") {
    for (const auto& p : take(detkit::try_read_oi_predictions(o.dt)))
      if (class_of(p.label, cls)) dets.push_back({p.image_id, cls, p.score, p.box});
  } else if (dt_format == "text") {
    for (const auto& t : take(detkit::try_read_text_detections(o.dt))) {
      std::uint64_t id = 0;
      if (!detkit::detail::parse_hex16(t.image, id))
        fail(t.image +
             ".txt: error: file name is not an Open Images ImageID (16 hex digits) "
             "[detkit.oi.bad_image_id]");
      if (!class_of(t.label, cls)) continue;
      dets.push_back({id,
                      cls,
                      t.score,
                      {static_cast<float>(t.x1), static_cast<float>(t.y1), static_cast<float>(t.x2),
                       static_cast<float>(t.y2)}});
    }
  } else {
    fail("--metric openimages takes an Open Images predictions CSV or text detections");
  }
  if (unknown_class) {
    std::string ex;
    for (const auto& kv : unknown_examples) {
      if (ex.size() > 60) break;
      ex += (ex.empty() ? "" : ", ") + kv.first + " (" + std::to_string(kv.second) + ")";
    }
    std::printf("  %zu detections of classes outside the class list dropped: %s\n", unknown_class,
                ex.c_str());
  }
  if (o.has_score_thr) {
    dets.erase(std::remove_if(dets.begin(), dets.end(),
                              [&](const auto& d) { return !(d.score >= o.score_thr); }),
               dets.end());
  }
  detkit::oi_eval_options eo;
  detkit::oi_class_relations rel;
  if (!o.hierarchy.empty()) {
    const detkit::class_hierarchy h = take(detkit::try_read_class_hierarchy(o.hierarchy));
    std::vector<std::vector<std::uint32_t>> parents(C);
    for (std::size_t c = 0; c < C; ++c) {
      const std::int64_t hi = h.find(classes.classes[c].mid);
      if (hi < 0) continue;
      for (std::uint32_t a : h.ancestors(static_cast<std::uint32_t>(hi))) {
        const std::ptrdiff_t ci = classes.find_mid(h.mids[a]);
        if (ci >= 0) parents[c].push_back(static_cast<std::uint32_t>(ci));
      }
    }
    rel = detkit::make_class_relations(parents);
  } else {
    eo.expansion = detkit::hierarchy_expansion::none;
  }
  const detkit::oi_eval_result r =
      take(detkit::try_evaluate_open_images(std::move(boxes), std::move(image_labels), dets, C,
                                            o.hierarchy.empty() ? nullptr : &rel, eo));
  std::printf("detkit-eval (Open Images metric%s): %zu images with boxes, %zu detections",
              o.hierarchy.empty() ? ", no hierarchy expansion" : ", hierarchy expanded", num_images,
              r.detections_read);
  if (o.has_score_thr) std::printf(", score >= %s", num(o.score_thr).c_str());
  std::printf(
      "\n  dropped: %zu of classes not verified in their image, %zu of images without GT, "
      "%zu invalid boxes; %zu inside group-of boxes\n",
      r.detections_not_evaluatable, r.detections_image_without_gt, r.detections_invalid_box,
      r.detections_group_of);
  std::printf("OpenImagesDetectionChallenge/mAP@0.5IOU = %.6f\n", r.map);
  std::vector<const detkit::oi_class_result*> rows;
  for (const auto& c : r.per_class)
    if (c.num_gt > 0 || c.true_positives + c.false_positives > 0) rows.push_back(&c);
  std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    const bool na = std::isnan(a->ap), nb = std::isnan(b->ap);
    if (na != nb) return nb;
    return a->ap < b->ap;
  });
  if (o.per_class) {
    std::printf("\nper class, worst AP first:\n  %-12s %-28s %7s %7s %7s %7s\n", "MID", "name",
                "AP", "GT", "TP", "FP");
    for (auto* c : rows) {
      char ap[16];
      if (std::isnan(c->ap))
        std::snprintf(ap, sizeof ap, "%7s", "-");
      else
        std::snprintf(ap, sizeof ap, "%7.3f", c->ap);
      std::printf("  %-12s %-28s %s %7g %7zu %7zu\n", classes.classes[c->class_index].mid.c_str(),
                  classes.classes[c->class_index].name.c_str(), ap, c->num_gt, c->true_positives,
                  c->false_positives);
    }
  }
  if (!o.json.empty()) {
    std::string j = "{\n\"metric\": \"openimages\",\n\"gt\": " + json_string(o.gt) +
                    ",\n\"dt\": " + json_string(o.dt) + ",\n\"score_cutoff\": " +
                    (o.has_score_thr ? num(o.score_thr) : std::string("null")) +
                    ",\n\"hierarchy_expanded\": " + (o.hierarchy.empty() ? "false" : "true") +
                    ",\n\"map\": " + num(r.map) + ",\n\"per_class\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto* c = rows[i];
      j += "  {\"mid\": " + json_string(classes.classes[c->class_index].mid) +
           ", \"name\": " + json_string(classes.classes[c->class_index].name) +
           ", \"ap\": " + num(c->ap) + ", \"num_gt\": " + num(c->num_gt) +
           ", \"true_positives\": " + std::to_string(c->true_positives) +
           ", \"false_positives\": " + std::to_string(c->false_positives) + "}" +
           (i + 1 < rows.size() ? ",\n" : "\n");
    }
    j += "]\n}\n";
    write_output(o.json, j);
  }
  if (o.sweep || o.worst || !o.pr_curves.empty())
    std::fprintf(stderr, "detkit-eval: --sweep, --worst and --pr-curves apply to --metric coco\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && std::string(argv[1]) == "diff") return detkit_eval::run_diff(argc, argv);
    const options o = parse_args(argc, argv);
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
    return run_open_images(o, gt_format, dt_format);  // the table allows coco or openimages
  } catch (const detkit::parse_error& e) {
    fail(e.what());
  } catch (const std::bad_alloc&) {
    fail("out of memory");
  }
}

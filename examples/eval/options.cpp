// examples/eval/options.cpp — detkit-eval's option table: every option's name, value type and
// range, default and help; --help is printed from it.
#include "eval/options.hpp"

#include <cmath>
#include <limits>

#include "common/options.hpp"
#include "detkit/atomic_file.hpp"

namespace detkit_eval {

namespace {

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

}  // namespace

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
       "match log, reports, shards (IoU/maxDets of the log and reports: --report-iou,\n"
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

void write_output(const std::string& path, const std::string& text) {
  if (auto r = detkit::try_write_file_atomically(path, text); !r) fail(r.error());
}

}  // namespace detkit_eval

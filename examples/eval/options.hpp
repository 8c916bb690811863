// examples/eval/options.hpp — detkit-eval's options (one field per command-line option, read by
// the option table in eval/options.cpp) and the error exits its parts share.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/error.hpp"

namespace detkit_eval {

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

/// The options of `detkit-eval [options]` (argv[1] is not "diff"); --help and bad values exit.
options parse_args(int argc, char** argv);

/// "detkit-eval: <message>" on stderr, exit 2.
[[noreturn]] inline void fail(const std::string& message) {
  std::fprintf(stderr, "detkit-eval: %s\n", message.c_str());
  std::exit(2);
}
[[noreturn]] inline void fail(const detkit::error& e) { fail(e.to_string()); }

/// The value of `r`, or fail with its error.
template <class T>
T take(detkit::result<T> r) {
  if (!r) fail(r.error());
  return std::move(*r);
}

/// Writes `text` to `path` atomically (temp file + rename), or fails.
void write_output(const std::string& path, const std::string& text);

/// The Open Images metric (eval/open_images_run.cpp).
int run_open_images(const options& o, const std::string& gt_format, const std::string& dt_format);

}  // namespace detkit_eval

// bench/bench_coco_eval.cpp — COCO evaluation speed on the large synthetic case (5000 images,
// 36,244 GT, 500,000 detections; bench/tools/gen_coco_synth.py --large), JSON in → stats out.
//
// Peers (pycocotools 2.0.11, faster-coco-eval) are timed on the same files in the same run by
// bench/coco_eval_driver.sh, which also checks the inputs' SHA-256. This program checks its stats
// against large_synthetic.expected.json (pycocotools' numbers) so fast-but-wrong fails.
//
//   bench_coco_eval GT.json DT.json EXPECTED.json [--threads N] [--repeat R] [--once]
// --once: a single end-to-end run (parse + evaluate + accumulate + summarize) and its peak RSS,
// for a fresh-process memory figure.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/coco_json.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

struct expected_stats {
  std::vector<double> stats, cutoff_stats;
};
expected_stats load_expected(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  expected_stats e;
  for (auto x : root["stats"].get_array()) e.stats.push_back(x.get_double());
  for (auto x : root["score_cutoff"]["stats"].get_array()) e.cutoff_stats.push_back(x.get_double());
  return e;
}

// Returns the number of stats that differ by more than 1e-12; prints bit-exact count.
int check(const char* what, const std::array<double, 12>& got, const std::vector<double>& want) {
  int bad = 0, exact = 0;
  for (std::size_t i = 0; i < 12 && i < want.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-12) ++bad;
    if (std::memcmp(&got[i], &want[i], 8) == 0) ++exact;
  }
  std::printf("  check %-22s %s (%d/12 bit-exact vs pycocotools)\n", what, bad ? "MISMATCH" : "ok",
              exact);
  return bad;
}

struct run_times {
  double parse_gt = 0, parse_dt = 0, match = 0, accumulate = 0, summarize = 0, total = 0, sweep = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: bench_coco_eval GT.json DT.json EXPECTED.json [--threads N] [--repeat R] "
                 "[--once]\n");
    return 2;
  }
  const std::string gt_path = argv[1], dt_path = argv[2], exp_path = argv[3];
  unsigned threads = 0;
  int repeat = 3;
  bool once = false;
  for (int i = 4; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--once")) {
      once = true;
    }
  }
  const expected_stats want = load_expected(exp_path);
  int failures = 0;

  auto run = [&](unsigned th, bool with_sweep, run_times& rt) -> bool {
    const auto t0 = clock_type::now();
    auto gt = detkit::try_read_coco_ground_truth(gt_path);
    if (!gt) {
      std::fprintf(stderr, "%s\n", gt.error().to_string().c_str());
      return false;
    }
    rt.parse_gt = seconds_since(t0);
    const auto t1 = clock_type::now();
    auto dt = detkit::try_read_coco_results(dt_path);
    if (!dt) {
      std::fprintf(stderr, "%s\n", dt.error().to_string().c_str());
      return false;
    }
    rt.parse_dt = seconds_since(t1);
    detkit::coco_eval_params p;
    p.threads = th;
    const auto t2 = clock_type::now();
    auto mt = detkit::try_evaluate_images(*gt, *dt, p);
    if (!mt) {
      std::fprintf(stderr, "%s\n", mt.error().to_string().c_str());
      return false;
    }
    rt.match = seconds_since(t2);
    const auto t3 = clock_type::now();
    const auto acc = detkit::accumulate(*mt);
    rt.accumulate = seconds_since(t3);
    const auto t4 = clock_type::now();
    const auto sum = detkit::summarize(acc, *mt);
    rt.summarize = seconds_since(t4);
    rt.total = seconds_since(t0);
    failures += check("stats", sum.stats, want.stats);
    if (with_sweep) {
      const auto t5 = clock_type::now();
      const auto sweep = detkit::sweep_score_cutoffs(*mt, detkit::default_score_cutoffs());
      rt.sweep = seconds_since(t5);
      // cutoffs[10] is 0.5 exactly (linspace(0, .95, 20)): compare with pycocotools' cutoff run.
      failures += check("stats at score >= 0.5", sweep[10].stats, want.cutoff_stats);
    }
    return true;
  };

  if (once) {
    run_times rt;
    if (!run(threads, false, rt)) return 2;
    std::printf("once threads=%u total_s=%.3f peak_rss_mb=%.1f\n", threads, rt.total,
                peak_rss_mb());
    return failures ? 1 : 0;
  }
  for (unsigned th : {1u, 2u}) {
    std::vector<run_times> runs;
    for (int r = 0; r < repeat; ++r) {
      run_times rt;
      if (!run(th, true, rt)) return 2;
      runs.push_back(rt);
    }
    auto median = [&](double run_times::*f) {
      std::vector<double> v;
      for (const auto& r : runs) v.push_back(r.*f);
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double total = median(&run_times::total);
    const double sweep = median(&run_times::sweep);
    const double one_eval =
        median(&run_times::match) + median(&run_times::accumulate) + median(&run_times::summarize);
    std::printf(
        "detkit threads=%u (median of %d): parse_gt %.3f s, parse_dt %.3f s, evaluate %.3f s, "
        "accumulate %.3f s, summarize %.4f s, total %.3f s; 20-cutoff sweep %.3f s "
        "(= %.2fx one evaluate+accumulate+summarize, %.2fx one end-to-end run)\n",
        th, repeat, median(&run_times::parse_gt), median(&run_times::parse_dt),
        median(&run_times::match), median(&run_times::accumulate), median(&run_times::summarize),
        total, sweep, sweep / one_eval, sweep / total);
    std::fflush(stdout);
  }
  std::printf("peak_rss_mb (whole bench process) %.1f\n", peak_rss_mb());
  return failures ? 1 : 0;
}

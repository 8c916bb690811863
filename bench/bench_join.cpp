// bench_join — the Open Images amenity join (parse the bbox CSV, keep the 30 amenity classes, join
// class names, join the image list) with detkit, or the memchr newline-count floor, on the files of
// bench/tools/gen_oi_csv.py. bench/run_join_bench.sh runs it against pandas, polars and DuckDB
// (bench/peers/*.py) in the same session and checks every side's checksum.
//
//   bench_join DATA_DIR [--threads N] [--mode join|floor]
//
// Prints one line: tool, threads, seconds (work only, after process start), rows out, checksum
// `unique images/sum XMax/sum ClassID` (ClassID = rank of the class name among the 30 sorted
// names; 34267/124253.5158/2457094 for --full, seed 1), and memory from /proc/self/status:
// VmHWM (peak RSS, includes mapped file pages while they are mapped), RssAnon (heap) and RssFile
// at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "detkit/csv.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/open_images.hpp"

namespace {

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "bench_join: %s\n", msg.c_str());
  std::exit(2);
}

std::string status_field(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto p = line.find_first_of("0123456789");
      const auto e = line.find(' ', p);
      const long kb = std::strtol(line.substr(p, e - p).c_str(), nullptr, 10);
      return std::to_string(kb / 1024);
    }
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench_join DATA_DIR [--threads N] [--mode join|floor]");
  const std::string dir = argv[1];
  unsigned threads = 1;
  std::string mode = "join";
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else {
      fail("unknown option " + a);
    }
  }
  const std::string bbox = dir + "/train-annotations-bbox.csv";
  const auto t0 = std::chrono::steady_clock::now();

  if (mode == "floor") {
    // The cheapest full pass (as ../shared/tools/count_newlines.cpp): mmap + memchr, N ranges.
    auto m = detkit::detail::mapped_file::try_open(bbox);
    if (!m) fail(m.error().to_string());
    const char* base = m->data();
    const std::size_t size = m->size();
    std::vector<std::size_t> part(threads, 0);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        // The same memchr newline count the CSV reader uses for line numbers.
        part[t] = detkit::detail::count_newlines(base + size * t / threads,
                                                 base + size * (t + 1) / threads);
      });
    }
    for (auto& th : pool) th.join();
    std::size_t lines = 0;
    for (auto v : part) lines += v;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "tool=memchr-floor threads=%u seconds=%.3f lines=%zu checksum=- vmhwm_mb=%s "
        "rss_anon_mb=%s\n",
        threads, s, lines, status_field("VmHWM").c_str(), status_field("RssAnon").c_str());
    return 0;
  }
  if (mode != "join") fail("unknown mode " + mode);

  // Step 0: class descriptions and the 30 target names (sorted, so ClassID = rank = category id).
  auto classes = detkit::try_read_class_descriptions(dir + "/class-descriptions-boxable.csv");
  if (!classes) fail(classes.error().to_string());
  std::vector<std::string> names;
  {
    std::ifstream in(dir + "/amenity-classes.txt");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
  }
  std::sort(names.begin(), names.end());
  auto targets = detkit::try_resolve_classes(*classes, names);
  if (!targets) fail(targets.error().to_string());
  auto ids = detkit::try_read_image_list(dir + "/amenity-image-ids.txt");
  if (!ids) fail(ids.error().to_string());

  // Steps 1-3: parse + filter to the targets + join names (category ids) + join the image list.
  detkit::label_set labels;
  detkit::join_options jo;
  jo.csv.threads = threads;
  jo.images = &*ids;
  auto rep = detkit::try_join_boxes_file(bbox, *targets, jo, labels);
  if (!rep) fail(rep.error().to_string());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  double sum_xmax = 0;
  long long sum_class = 0;
  std::size_t rows = 0;
  for (const auto& img : labels.images) {
    for (const auto& b : img.boxes) {
      sum_xmax += static_cast<double>(b.rel.x2);
      sum_class += b.category_id;
      ++rows;
    }
  }
  std::printf(
      "tool=detkit threads=%u seconds=%.3f rows_out=%zu checksum=%zu/%.4f/%lld vmhwm_mb=%s "
      "rss_anon_mb=%s rss_file_mb=%s\n",
      threads, s, rows, labels.images.size(), sum_xmax, sum_class, status_field("VmHWM").c_str(),
      status_field("RssAnon").c_str(), status_field("RssFile").c_str());
  return 0;
}

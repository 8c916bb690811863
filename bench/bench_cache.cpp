// bench/bench_cache.cpp — reload of a train-sized label cache (14.6M boxes, 1.74M images) against
// the peer a Detectron2 user has: the same records as Detectron2-style JSON, read with simdjson's
// ondemand API (the fastest JSON reader there is; the recipe itself used Python's json.load).
//
// Both sides touch every box (four coordinates and the category id) and fold them into the same
// checksum, which must agree, so a fast-but-wrong reader fails. The label set is synthetic (built
// in memory with a fixed seed), with the real train split's sizes.
//
//   bench_cache [--images N] [--boxes N] [--runs R] [--dir DIR] [--no-json] [--keep]
//
// Timings are warm (files in the page cache), median of R runs (default 5).
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "detkit/detectron2_json.hpp"
#include "detkit/label_cache.hpp"
#include "detkit/split.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
std::string load_average() {
  char buf[128] = {};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(buf, sizeof buf, f)) buf[0] = '\0';
    std::fclose(f);
  }
  return buf;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The same fold on both sides: every coordinate as the float the reader produced, in file order.
// The fold is integer (bit patterns of the floats) so it is exact and cheap: the consumer loop
// should not be the bottleneck of either reader (a double sum is a 4-cycle dependency chain per box).
struct box_checksum {
  std::uint64_t coord_bits = 0;  // sum of the float32 bit patterns of all coordinates
  std::uint64_t categories = 0;
  std::uint64_t boxes = 0;
  static std::uint64_t bits(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
  }
  void add(float x1, float y1, float x2, float y2, std::int64_t cat) {
    coord_bits += bits(x1) + bits(y1) + bits(x2) + bits(y2);
    categories += static_cast<std::uint64_t>(cat);
    ++boxes;
  }
  bool operator==(const box_checksum& o) const {
    return coord_bits == o.coord_bits && categories == o.categories && boxes == o.boxes;
  }
};

detkit::label_set synthetic(std::size_t n_images, std::size_t n_boxes) {
  detkit::label_set ls;
  for (int c = 0; c < 601; ++c) {
    ls.classes.push_back({"/m/synthetic" + std::to_string(c), "class " + std::to_string(c)});
  }
  detkit::detail::split_rng rng(2018);
  ls.images.resize(n_images);
  for (std::size_t i = 0; i < n_images; ++i) {
    detkit::image_record& r = ls.images[i];
    r.image_id_u64 = i * 10007 + 3;
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(r.image_id_u64));
    r.image_id = id;
    r.file_name = r.image_id + ".jpg";
    r.size = {1024, static_cast<std::int32_t>(600 + rng.below(424))};
    // Spread the boxes so the total is exact: image i gets its share of n_boxes.
    const std::size_t first = i * n_boxes / n_images, last = (i + 1) * n_boxes / n_images;
    r.boxes.resize(last - first);
    for (detkit::label_box& b : r.boxes) {
      const float x1 = static_cast<float>(rng.below(500000)) * 1e-6f;
      const float y1 = static_cast<float>(rng.below(500000)) * 1e-6f;
      b.rel = {x1, y1, x1 + static_cast<float>(rng.below(500000)) * 1e-6f,
               y1 + static_cast<float>(rng.below(500000)) * 1e-6f};
      b.abs = detkit::to_xyxy_abs(b.rel, r.size);
      b.category_id = static_cast<std::int32_t>(rng.below(601));
      const auto flag = [&] { return static_cast<detkit::tri_flag>(rng.below(3) - 1); };
      b.flags = {flag(), flag(), flag(), flag(), flag()};
    }
  }
  return ls;
}

box_checksum touch_cache(const detkit::label_cache& cache) {
  box_checksum s;
  for (const detkit::cached_image& img : cache.images()) {
    for (const detkit::cached_box& b : cache.boxes_of(img)) {
      s.add(b.abs.x1, b.abs.y1, b.abs.x2, b.abs.y2, b.category_id);
    }
  }
  return s;
}

box_checksum read_json(const simdjson::padded_string& text, simdjson::ondemand::parser& parser) {
  box_checksum s;
  auto doc = parser.iterate(text);
  for (auto img : doc.get_array()) {
    for (auto ann : img["annotations"].get_array()) {
      float v[4];
      int j = 0;
      for (auto x : ann["bbox"].get_array()) v[j++ & 3] = static_cast<float>(double(x));
      s.add(v[0], v[1], v[2], v[3], std::int64_t(ann["category_id"]));
    }
  }
  return s;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "bench_cache: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n_images = 1743042, n_boxes = 14610229;  // Open Images V4-V7 train
  int runs = 5;
  std::string dir = "/tmp";
  bool json = true, keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] {
      return i + 1 < argc ? std::string(argv[++i]) : (fail(a + " needs a value"), "");
    };
    if (a == "--images")
      n_images = std::stoull(next());
    else if (a == "--boxes")
      n_boxes = std::stoull(next());
    else if (a == "--runs")
      runs = std::max(1, std::stoi(next()));
    else if (a == "--dir")
      dir = next();
    else if (a == "--keep")
      keep = true;
    else if (a == "--no-json")
      json = false;
    else
      fail("unknown argument " + a + " (--images N --boxes N --runs R --dir DIR --no-json)");
  }
  const std::string cache_path = dir + "/bench_cache." + std::to_string(::getpid()) + ".dkc";
  const std::string json_path = dir + "/bench_cache." + std::to_string(::getpid()) + ".json";

  std::printf("bench_cache: %zu images, %zu boxes (synthetic, seed 2018), %d runs, files in %s\n",
              n_images, n_boxes, runs, dir.c_str());
  auto t0 = clock_type::now();
  box_checksum expected;
  double write_s = 0, json_write_s = 0;
  {
    detkit::label_set ls = synthetic(n_images, n_boxes);
    for (const auto& img : ls.images) {
      for (const auto& b : img.boxes)
        expected.add(b.abs.x1, b.abs.y1, b.abs.x2, b.abs.y2, b.category_id);
    }
    std::printf("  built the label set in memory: %.2f s\n", seconds_since(t0));
    auto fp = detkit::try_make_fingerprint({}, ls.classes, "bench");
    t0 = clock_type::now();
    if (auto r = detkit::try_write_label_cache(cache_path, ls, *fp); !r)
      fail(r.error().to_string());
    write_s = seconds_since(t0);
    if (json) {
      t0 = clock_type::now();
      if (auto r = detkit::try_write_detectron2_json(json_path, ls); !r)
        fail(r.error().to_string());
      json_write_s = seconds_since(t0);
    }
  }  // the label set is freed before timing the readers
  std::printf("  wrote the cache in %.2f s, the JSON in %.2f s\n", write_s, json_write_s);

  // detkit: open (map + validate header, table and every entry + checksum all sections) and
  // touch every box through the zero-copy views. Run 0 warms the page cache and is not counted.
  // CPU time (all threads) is reported next to wall time: on a shared 2-core machine the wall
  // time also measures the neighbours.
  struct timing {
    double open_wall, reload_wall, reload_cpu;
  };
  auto time_cache = [&](detkit::cache_verify verify, unsigned threads) {
    std::vector<double> open_s, total_s, cpu_s;
    for (int r = 0; r <= runs; ++r) {
      const double cpu0 = cpu_seconds();
      const auto start = clock_type::now();
      detkit::cache_open_options opt;
      opt.verify = verify;
      opt.threads = threads;
      auto cache = detkit::label_cache::try_open(cache_path, opt);
      if (!cache) fail(cache.error().to_string());
      const double opened = seconds_since(start);
      const box_checksum got = touch_cache(*cache);
      const double total = seconds_since(start);
      const double cpu = cpu_seconds() - cpu0;
      if (!(got == expected)) fail("cache checksum differs from the label set");
      if (r > 0) {
        open_s.push_back(opened);
        total_s.push_back(total);
        cpu_s.push_back(cpu);
      }
    }
    return timing{median(open_s), median(total_s), median(cpu_s)};
  };
  std::uint64_t cache_bytes = 0;
  {
    auto c = detkit::label_cache::open(cache_path);
    cache_bytes = c.file_size();
  }
  std::printf("  load average before timing: %s", load_average().c_str());
  const timing full_all = time_cache(detkit::cache_verify::full, 0);
  const timing full_one = time_cache(detkit::cache_verify::full, 1);
  const timing trusted = time_cache(detkit::cache_verify::structure, 0);
  std::printf("\ndetkit label cache (%.1f MB), reload = open + verify + touch every box, median:\n",
              static_cast<double>(cache_bytes) / 1e6);
  auto show = [&](const char* what, const timing& t) {
    std::printf(
        "  %-26s: open %.3f s, reload %.3f s wall (%.3f s CPU), %.1f GB/s, %.0f M boxes/s\n", what,
        t.open_wall, t.reload_wall, t.reload_cpu,
        static_cast<double>(cache_bytes) / 1e9 / t.reload_wall,
        static_cast<double>(n_boxes) / 1e6 / t.reload_wall);
  };
  show("full verify, all threads", full_all);
  show("full verify, 1 thread", full_one);
  show("structure only (trusted)", trusted);

  if (json) {
    std::vector<double> load_s, cpu_s;
    simdjson::ondemand::parser parser;
    std::uint64_t json_bytes = 0;
    for (int r = 0; r <= runs; ++r) {
      const double cpu0 = cpu_seconds();
      const auto start = clock_type::now();
      auto text = simdjson::padded_string::load(json_path);
      if (text.error()) fail("cannot read " + json_path);
      json_bytes = text.value().size();
      const box_checksum got = read_json(text.value(), parser);
      const double s = seconds_since(start);
      if (!(got == expected)) fail("JSON checksum differs from the label set");
      if (r > 0) {
        load_s.push_back(s);
        cpu_s.push_back(cpu_seconds() - cpu0);
      }
    }
    const double json_s = median(load_s), json_cpu = median(cpu_s);
    std::printf(
        "\npeer: Detectron2-style JSON (%.1f MB) read + touch every box, simdjson ondemand:\n",
        static_cast<double>(json_bytes) / 1e6);
    std::printf("  load %.3f s wall (%.3f s CPU), %.2f GB/s\n", json_s, json_cpu,
                static_cast<double>(json_bytes) / 1e9 / json_s);
    std::printf(
        "\nratio (simdjson JSON / detkit reload): %.1fx wall, %.1fx CPU (full verify, all "
        "threads); %.1fx wall (1 thread); %.1fx wall (trusted)\n",
        json_s / full_all.reload_wall, json_cpu / full_all.reload_cpu,
        json_s / full_one.reload_wall, json_s / trusted.reload_wall);
  }
  std::printf("checksum: boxes %llu, categories %llu, coordinate bits %llu (both readers agree)\n",
              static_cast<unsigned long long>(expected.boxes),
              static_cast<unsigned long long>(expected.categories),
              static_cast<unsigned long long>(expected.coord_bits));
  if (keep) {
    std::printf("kept %s%s%s\n", cache_path.c_str(), json ? " and " : "",
                json ? json_path.c_str() : "");
  } else {
    std::remove(cache_path.c_str());
    std::remove(json_path.c_str());
  }
  return 0;
}

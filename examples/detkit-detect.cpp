// detkit-detect — runs a RetinaNet trained by detkit-train (or converted torchvision weights) on
// images: a label cache's images (--cache, image ids matching detkit-prepare's COCO export), a
// folder, or files; writes COCO results JSON, an Open Images predictions CSV and the pictures with
// boxes, class names and scores drawn. --bench times decode, forward and post-processing (top-k +
// NMS) separately and prices N images (default 500M) per GPU-hour beside the Airbnb recipe's
// numbers (0.2 s/image on a P100 -> $40.5k and 1,160 GPU-days). --shard i/N takes every N-th image
// of the sorted list from i, so N machines split a folder without coordination.
//
//   detkit-detect --weights RUN/model.safetensors --classes RUN/classes.csv --min-size 96
//                 --max-size 96 [--cache val.dkc] --images DIR --out DETS [--score-thr 0.05]
//
// Exit status: 0 done; 2 bad input; 1 cannot write outputs.
#include <dirent.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/draw.hpp"
#include "common/files.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/export_coco.hpp"
#include "detkit/image_header.hpp"
#include "detkit/label_cache.hpp"
#include "model/safetensors.hpp"
#include "train/data_loader.hpp"
#include "train/image_decode.hpp"
#include "train/model_batch.hpp"
#include "train/model_io.hpp"
#include "train/model_options.hpp"

namespace {

[[noreturn]] void die(const std::string& m, int code = 2) {
  std::fprintf(stderr, "detkit-detect: %s\n", m.c_str());
  std::exit(code);
}

bool image_ext(const std::string& n) {
  const std::size_t d = n.find_last_of('.');
  if (d == std::string::npos) return false;
  std::string e = n.substr(d + 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == "jpg" || e == "jpeg" || e == "png";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string weights, classes_file, out, cache_path, images;
  detkit_train::model_options model_opts;
  int batch = 1;
  long draw = 20, shard_i = 0, shard_n = 1;
  double score_thr = 0.05, draw_thr = 0.5, price = 1.46, bench_count = 500e6;
  bool bench = false;
  std::string draw_format = "png", device = "cpu";
  std::vector<std::string> files;
  detkit_cli::option_table t(
      "detkit-detect",
      "usage: detkit-detect --weights FILE --classes FILE --out DIR (--cache CACHE --images DIR | "
      "--images DIR | FILE...)\n\n");
  t.text("--weights", "FILE", &weights,
         "model.safetensors (detkit-train) or converted torchvision weights")
      .text("--classes", "FILE", &classes_file,
            "MID,Name per line (detkit-train writes RUN/classes.csv); class k = line k")
      .text("--out", "DIR", &out,
            "DIR/detections.json (COCO results), DIR/detections.csv, DIR/drawn/");
  t.note("  --arch NAME --fpn-channels N --min-size N --max-size N   as the model was trained\n");
  detkit_train::add_model_options(t, model_opts);
  t.text("--cache", "CACHE", &cache_path,
         "run on the cache's images (ids as detkit-prepare's COCO export: index + 1);\n"
         "also writes DIR/gt.json (that export) for detkit-eval")
      .text("--images", "DIR", &images,
            "the images (with --cache: where they are; else every .jpg/.jpeg/.png in DIR)")
      .number("--score-thr", "X", &score_thr, 0, 1,
              "evaluation threshold: detections kept in the outputs (default 0.05)")
      .number("--draw-thr", "X", &draw_thr, 0, 1,
              "drawing threshold: boxes drawn on the pictures (default 0.5)")
      .integer("--draw", "N", &draw, 0, 1e9,
               "draw the first N images (default 20; 0 = none) into DIR/drawn/")
      .choice("--device", &device, {"cpu", "cuda"},
              "cpu (the CPU twin, default) or cuda (when built with the CUDA backend)", "D")
      .choice("--draw-format", &draw_format, {"png", "jpg"},
              "png (default, lossless) or jpg (quality 90, ~10x smaller)", "F")
      .integer("--batch", "N", &batch, 1, 4096,
               "images per forward pass (default 1); each batch is padded to its own\n"
               "largest image rounded up to 32, as torchvision's GeneralizedRCNNTransform")
      .custom("--shard", "i/N", "only images i, i+N, i+2N, ... of the sorted list",
              [&](const std::string& v) -> std::string {
                if (std::sscanf(v.c_str(), "%ld/%ld", &shard_i, &shard_n) != 2 || shard_n < 1 ||
                    shard_i < 0 || shard_i >= shard_n)
                  return "expected i/N with 0 <= i < N, got '" + v + "'";
                return {};
              })
      .flag("--bench", &bench, "time decode / forward / post-processing and print the cost report")
      .number("--bench-count", "N", &bench_count, 1, 1e15, "images to price (default 500000000)")
      .number("--price", "X", &price, 0, 1e6, "$ per GPU-hour (default 1.46)")
      .positionals(&files);
  t.parse(argc, argv);
  if (weights.empty() || classes_file.empty() || out.empty())
    t.usage_error("--weights, --classes and --out are required");
  detkit_train::check_model_options(t, model_opts);
  const std::string& arch = model_opts.arch;
  const int fpn = model_opts.fpn_channels, min_size = model_opts.min_size,
            max_size = model_opts.max_size;
  const std::optional<double>& bn_eps = model_opts.bn_eps;

  // Classes: "MID,Name" lines.
  std::vector<std::pair<std::string, std::string>> classes;
  {
    std::ifstream in(classes_file);
    if (!in) die(classes_file + ": cannot read");
    std::string line;
    int row = 0;
    while (std::getline(in, line)) {
      ++row;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const std::size_t c = line.find(',');
      if (c == std::string::npos)
        die(classes_file + ":" + std::to_string(row) + ": expected MID,Name");
      classes.emplace_back(line.substr(0, c), line.substr(c + 1));
    }
    if (classes.empty()) die(classes_file + ": no classes");
  }

  // The image list.
  std::unique_ptr<detkit::label_cache> cache;
  std::vector<std::string> paths;
  std::vector<long> coco_ids;  // per path: COCO image id (cache index + 1, or list position + 1)
  if (!cache_path.empty()) {
    auto c = detkit::label_cache::try_open(cache_path);
    if (!c) die(c.error().to_string());
    cache = std::make_unique<detkit::label_cache>(std::move(*c));
    for (std::size_t k = 0; k < cache->images().size(); ++k) {
      const auto& img = cache->images()[k];
      const std::string_view fn = cache->file_name(img);
      paths.push_back((images.empty() ? "" : images + "/") +
                      (fn.empty() ? std::string(cache->image_id(img)) + ".jpg" : std::string(fn)));
      coco_ids.push_back(static_cast<long>(k) + 1);
    }
  } else {
    if (!images.empty()) {
      DIR* d = opendir(images.c_str());
      if (!d) die(images + ": cannot open folder");
      while (dirent* de = readdir(d))
        if (image_ext(de->d_name)) files.push_back(images + "/" + de->d_name);
      closedir(d);
    }
    std::sort(files.begin(), files.end());
    paths = files;
    for (std::size_t k = 0; k < paths.size(); ++k) coco_ids.push_back(static_cast<long>(k) + 1);
  }
  if (shard_n > 1) {
    std::vector<std::string> p;
    std::vector<long> ids;
    for (std::size_t k = static_cast<std::size_t>(shard_i); k < paths.size();
         k += static_cast<std::size_t>(shard_n))
      p.push_back(paths[k]), ids.push_back(coco_ids[k]);
    paths.swap(p);
    coco_ids.swap(ids);
  }
  if (paths.empty()) die("no images (give --cache, --images DIR or files)");
  detkit_cli::make_folder("detkit-detect", out + "/drawn");

  detkit::cuda::retinanet_config cfg =
      detkit_train::make_config(arch, static_cast<int>(classes.size()), fpn);
  cfg.score_threshold = static_cast<float>(score_thr);
  const std::string eps_line = detkit_train::choose_bn_eps(cfg, weights, bn_eps);
  detkit_train::loader_options lo;
  lo.transform.min_size = min_size;
  lo.transform.max_size = max_size;
  lo.batch_size = batch;
  // The arena is planned once, for the largest padded batch these images can form (the tallest
  // and the widest image, each rounded up to 32), and reused by every smaller batch.
  std::vector<detkit::cuda::resized_size> sizes;
  for (const std::string& p : paths) {
    auto s = detkit::try_read_image_size(p);
    if (!s) die(s.error().to_string());
    sizes.push_back({s->height, s->width});
  }
  const auto shape = detkit_train::padded_shape(lo.transform, batch, sizes);
  lo.batch_h = shape.h;
  lo.batch_w = shape.w;
  lo.host_memory = detkit_train::batch_memory_for(device);
  detkit::cuda::retinanet model(cfg, shape, detkit_train::make_backend(device));
  if (auto r = detkit::cuda::try_load_weights(model, weights); !r) die(r.error().to_string());
  std::printf("detkit-detect: %s; batches padded to their own size, at most %dx%d\n",
              eps_line.c_str(), shape.h, shape.w);

  std::string json = "[";
  std::string csv = "ImageID,LabelName,Score,XMin,XMax,YMin,YMax\n";
  double t_decode = 0, t_forward = 0, t_post = 0, padded_pixels = 0;
  long drawn = 0, total = 0;
  using clock = std::chrono::steady_clock;
  const std::uint64_t batches =
      (paths.size() + static_cast<std::size_t>(batch) - 1) / static_cast<std::size_t>(batch);
  for (std::uint64_t bi = 0; bi < batches; ++bi) {
    const auto t0 = clock::now();
    detkit_train::loaded_batch b = detkit_train::build_file_batch(paths, lo, bi);
    const auto t1 = clock::now();
    detkit_train::forward_batch(model, b);
    model.synchronize();
    const auto t2 = clock::now();
    for (int s = 0; s < b.count; ++s) {
      const std::size_t si = static_cast<std::size_t>(s);
      const auto t3 = clock::now();
      auto dets = model.detect(s, b.resized[si].h, b.resized[si].w);
      t_post += std::chrono::duration<double>(clock::now() - t3).count();
      const std::size_t k = b.image_index[si];
      const int H = b.original[si].h, W = b.original[si].w;
      for (auto& d : dets) {
        detkit::cuda::resize_boxes(d.box, 1, b.resized[si].h, b.resized[si].w, H, W);
        const double x1 = d.box[0], y1 = d.box[1], x2 = d.box[2], y2 = d.box[3];
        const double score = d.score;
        char row[320];
        std::snprintf(row, sizeof row,
                      "%s{\"image_id\":%ld,\"category_id\":%d,\"bbox\":[%.4f,%.4f,%.4f,%.4f],"
                      "\"score\":%.6f}",
                      total ? "," : "", coco_ids[k], d.label + 1, x1, y1, x2 - x1, y2 - y1, score);
        json += row;
        std::snprintf(row, sizeof row, "%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f\n", b.image_ids[si].c_str(),
                      classes[static_cast<std::size_t>(d.label)].first.c_str(), score, x1 / W,
                      x2 / W, y1 / H, y2 / H);
        csv += row;
        ++total;
      }
      if (drawn < draw) {
        detkit_train::rgb_image picture;
        try {
          detkit_train::decode_rgb(paths[k], picture);
        } catch (const std::exception& e) {
          die(e.what());
        }
        const int w = picture.width, h = picture.height;
        unsigned char* px = picture.pixels.data();
        std::vector<detkit_draw::labelled_box> boxes;
        for (const auto& d : dets) {
          if (static_cast<double>(d.score) < draw_thr) continue;
          char label[128];
          std::snprintf(label, sizeof label, "%s %.2f",
                        classes[static_cast<std::size_t>(d.label)].second.c_str(),
                        static_cast<double>(d.score));
          boxes.push_back(
              {d.box[0], d.box[1], d.box[2], d.box[3], detkit_draw::class_color(d.label), label});
        }
        detkit_draw::draw_labelled_boxes(px, w, h, boxes);
        const std::string dst = out + "/drawn/" + b.image_ids[si] + "." + draw_format;
        const std::string tmp = dst + ".tmp";
        const int ok = draw_format == "jpg" ? stbi_write_jpg(tmp.c_str(), w, h, 3, px, 90)
                                            : stbi_write_png(tmp.c_str(), w, h, 3, px, w * 3);
        if (!ok || std::rename(tmp.c_str(), dst.c_str()) != 0) die("cannot write " + dst, 1);
        ++drawn;
      }
    }
    padded_pixels += static_cast<double>(b.h) * b.w * b.n;
    t_decode += std::chrono::duration<double>(t1 - t0).count();
    t_forward += std::chrono::duration<double>(t2 - t1).count();
  }
  json += "]\n";
  auto write = [&](const std::string& p, const std::string& text) {
    if (auto r = detkit::try_write_file_atomically(p, text); !r) die(r.error().to_string(), 1);
  };
  write(out + "/detections.json", json);
  write(out + "/detections.csv", csv);
  if (cache) {
    if (auto r = detkit::try_write_coco_json(out + "/gt.json", cache->to_label_set()); !r)
      die(r.error().to_string(), 1);
  }
  std::printf(
      "detkit-detect: %zu images, %ld detections (score >= %.3g) -> %s/detections.json, "
      "detections.csv; %ld drawn (score >= %.3g) in %s/drawn/\n",
      paths.size(), total, score_thr, out.c_str(), drawn, draw_thr, out.c_str());
  if (bench) {
    const double n = static_cast<double>(paths.size());
    const double per = (t_decode + t_forward + t_post) / n;
    std::printf(
        "bench (%s, batch %d, inputs padded per batch, at most %dx%d, %.2f Mpixel/image on "
        "average): decode %.2f ms/image, forward %.2f ms/image, post-processing (top-k + NMS) "
        "%.2f ms/image; %.2f images/s\n",
        device == "cuda" ? "CUDA" : "CPU twin", batch, shape.h, shape.w, padded_pixels / n / 1e6,
        1e3 * t_decode / n, 1e3 * t_forward / n, 1e3 * t_post / n, 1.0 / per);
    const double hours = bench_count * per / 3600.0;
    std::printf(
        "cost of %.0f images at $%.2f per device-hour: ours %.1f device-days, $%.0f; "
        "the recipe's (0.2 s/image on a P100): %.0f GPU-days, $%.0f\n",
        bench_count, price, hours / 24.0, hours * price, bench_count * 0.2 / 86400.0,
        bench_count * 0.2 / 3600.0 * price);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "detkit-detect: %s\n", e.what());
  return 2;
}

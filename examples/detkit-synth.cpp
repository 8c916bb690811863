// detkit-synth — a seeded generator of synthetic detection scenes: simple coloured shapes (one
// shape + colour per class) on textured backgrounds, written as JPEGs with an Open Images style
// bbox CSV and class-descriptions file, so the scenes take the same JPEG → detkit-prepare → label
// cache → loader path as real Open Images data. Exists because the 8 bundled real JPEGs are far
// too few to train on and hold out from; a small RetinaNet learns these scenes on a CPU in minutes.
//
//   detkit-synth --out DIR --images 200 --size 160 --classes 3 --seed 1 [--id-base 0]
//     DIR/images/<16-hex ImageID>.jpg, DIR/boxes.csv (13-column V4 header), DIR/classes.csv
//
// Exit status: 0 done; 2 bad arguments; 1 cannot write.
#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/files.hpp"
#include "common/options.hpp"
#include "detkit/atomic_file.hpp"

namespace {

struct shape_class {
  const char* mid;
  const char* name;
  unsigned char r, g, b;
  int shape;  // 0 square, 1 disc, 2 triangle, 3 diamond
};
const shape_class classes_table[] = {{"/m/dk_synth_0", "Red square", 220, 40, 40, 0},
                                     {"/m/dk_synth_1", "Green disc", 40, 200, 60, 1},
                                     {"/m/dk_synth_2", "Blue triangle", 50, 80, 230, 2},
                                     {"/m/dk_synth_3", "Yellow diamond", 230, 210, 40, 3}};

bool inside(int shape, double u, double v) {  // u, v in [-1, 1] over the box
  switch (shape) {
    case 0:
      return true;
    case 1:
      return u * u + v * v <= 1.0;
    case 2:
      return v >= -1.0 && std::fabs(u) <= (v + 1.0) / 2.0;
    default:
      return std::fabs(u) + std::fabs(v) <= 1.0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  long images = 200, size = 160, nclasses = 3, id_base = 0;
  unsigned long long seed = 1;
  detkit_cli::option_table table(
      "detkit-synth",
      "usage: detkit-synth --out DIR [options]\n\n"
      "Seeded synthetic detection scenes (coloured shapes on textured\n"
      "backgrounds) as JPEGs + an Open Images bbox CSV for detkit-prepare.\n\n");
  table
      .text("--out", "DIR", &out,
            "writes DIR/images/<ImageID>.jpg, DIR/boxes.csv, DIR/classes.csv (required)")
      .integer("--images", "N", &images, 1, 1e7, "number of scenes (default 200)")
      .integer("--size", "PX", &size, 32, 4096, "width = height of a scene (default 160)")
      .integer("--classes", "K", &nclasses, 1, 4, "shape classes (default 3)")
      .integer("--seed", "S", &seed, 0, 9007199254740992.0, "random seed (default 1)")
      .integer("--id-base", "B", &id_base, 0, 1e15, "first ImageID, as a number (default 0)");
  table.parse(argc, argv);
  if (out.empty()) table.usage_error("--out is required");
  const std::string dir = out + "/images";
  detkit_cli::make_folder("detkit-synth", dir);

  std::mt19937_64 rng(seed);
  auto uni = [&](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  };
  const int S = static_cast<int>(size);
  std::vector<unsigned char> px(static_cast<std::size_t>(S * S * 3));
  std::string csv =
      "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,"
      "IsDepiction,IsInside\n";
  long boxes = 0;
  for (long n = 0; n < images; ++n) {
    // Background: two-colour low-frequency waves plus pixel noise (texture a detector must ignore).
    const double c0[3] = {uni(60, 200), uni(60, 200), uni(60, 200)};
    const double c1[3] = {uni(60, 200), uni(60, 200), uni(60, 200)};
    const double fx = uni(0.02, 0.12), fy = uni(0.02, 0.12), ph = uni(0, 6.3);
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const double t = 0.5 + 0.5 * std::sin(fx * x + fy * y + ph);
        for (int c = 0; c < 3; ++c) {
          const double v = c0[c] * t + c1[c] * (1 - t) + uni(-25, 25);
          px[static_cast<std::size_t>((y * S + x) * 3 + c)] =
              static_cast<unsigned char>(std::clamp(v, 0.0, 255.0));
        }
      }
    char id[17];
    std::snprintf(id, sizeof id, "%016" PRIx64, static_cast<std::uint64_t>(id_base + n + 1));
    const int objects = 1 + static_cast<int>(rng() % 3);
    std::vector<std::array<int, 4>> placed;
    for (int k = 0; k < objects; ++k) {
      const shape_class& sc = classes_table[rng() % static_cast<unsigned long>(nclasses)];
      for (int attempt = 0; attempt < 20; ++attempt) {
        const int bw = static_cast<int>(uni(0.3, 0.6) * S),
                  bh = static_cast<int>(uni(0.3, 0.6) * S);
        const int x0 = static_cast<int>(uni(0, S - bw)), y0 = static_cast<int>(uni(0, S - bh));
        bool overlap = false;
        for (const auto& p : placed)
          overlap = overlap || !(x0 >= p[2] || x0 + bw <= p[0] || y0 >= p[3] || y0 + bh <= p[1]);
        if (overlap) continue;
        placed.push_back({x0, y0, x0 + bw, y0 + bh});
        const unsigned char col[3] = {sc.r, sc.g, sc.b};
        for (int y = y0; y < y0 + bh; ++y)
          for (int x = x0; x < x0 + bw; ++x) {
            const double u = 2.0 * (x + 0.5 - x0) / bw - 1.0, v = 2.0 * (y + 0.5 - y0) / bh - 1.0;
            if (!inside(sc.shape, u, v)) continue;
            for (int c = 0; c < 3; ++c) px[static_cast<std::size_t>((y * S + x) * 3 + c)] = col[c];
          }
        char row[256];
        std::snprintf(row, sizeof row, "%s,synth,%s,1,%.6f,%.6f,%.6f,%.6f,0,0,0,0,0\n", id, sc.mid,
                      static_cast<double>(x0) / S, static_cast<double>(x0 + bw) / S,
                      static_cast<double>(y0) / S, static_cast<double>(y0 + bh) / S);
        csv += row;
        ++boxes;
        break;
      }
    }
    const std::string path = dir + "/" + id + ".jpg";
    if (!stbi_write_jpg(path.c_str(), S, S, 3, px.data(), 92)) {
      std::fprintf(stderr, "detkit-synth: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::string cls;
  for (long k = 0; k < nclasses; ++k)
    cls += std::string(classes_table[k].mid) + "," + classes_table[k].name + "\n";
  if (!detkit::try_write_file_atomically(out + "/boxes.csv", csv) ||
      !detkit::try_write_file_atomically(out + "/classes.csv", cls)) {
    std::fprintf(stderr, "detkit-synth: cannot write %s/boxes.csv or classes.csv\n", out.c_str());
    return 1;
  }
  std::printf("detkit-synth: %ld images %dx%d, %ld boxes, %ld classes (seed %llu) in %s\n", images,
              S, S, boxes, nclasses, seed, out.c_str());
  return 0;
}

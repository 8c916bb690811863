// bench_decode — JPEG → RGB for the training loader: libjpeg-turbo (Debian libjpeg62-turbo-dev)
// against stb_image on the 8 bundled real Open Images photos (683..1024 px), both through
// examples/train/image_decode.hpp, interleaved per round so machine load hits both alike.
// Prints ms/image per decoder (median of the rounds), the ratio, and a pixel checksum per decoder.
//
//   build/bench/bench_decode [--runs 15] [--dir DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "train/image_decode.hpp"

namespace dt = detkit_train;

int main(int argc, char** argv) {
  int runs = 15;
  std::string dir = DETKIT_PHOTOS_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  if (!dt::have_libjpeg_turbo()) {
    std::printf("bench_decode: built without libjpeg-turbo; nothing to compare\n");
    return 0;
  }
  const char* ids[] = {"105433f9d808d18e", "41e2356b97f775c4", "53912158f0b7dfce",
                       "a6fa6e875d6ae7fd", "52c33abf081b58ce", "3b3a23644d0ba4b1",
                       "69974d01b659acfe", "c9ebd63bc789073a"};
  std::vector<std::string> paths;
  for (const char* id : ids) paths.push_back(dir + "/" + id + ".jpg");
  const dt::jpeg_decoder which[2] = {dt::jpeg_decoder::libjpeg_turbo, dt::jpeg_decoder::stb};
  const char* names[2] = {"libjpeg-turbo", "stb_image"};
  std::vector<double> ms[2];
  unsigned long long checksum[2] = {0, 0};
  double megapixels = 0;
  dt::rgb_image img;
  for (int r = 0; r < runs; ++r)
    for (int d = 0; d < 2; ++d) {
      const auto t0 = std::chrono::steady_clock::now();
      unsigned long long sum = 0;
      double mp = 0;
      for (const std::string& p : paths) {
        dt::decode_rgb(p, img, which[d]);
        for (std::size_t i = 0; i < img.pixels.size(); i += 97) sum += img.pixels[i];
        mp += img.width * 1e-6 * img.height;
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ms[d].push_back(1e3 * s / static_cast<double>(paths.size()));
      checksum[d] = sum;
      megapixels = mp;
    }
  double median[2];
  for (int d = 0; d < 2; ++d) {
    std::sort(ms[d].begin(), ms[d].end());
    median[d] = ms[d][ms[d].size() / 2];
    std::printf(
        "%-14s %.2f ms/image (median of %d rounds of %zu photos, %.1f MP/s), sampled "
        "pixel sum %llu\n",
        names[d], median[d], runs, paths.size(),
        megapixels / static_cast<double>(paths.size()) / (median[d] * 1e-3), checksum[d]);
  }
  std::printf("libjpeg-turbo is %.2fx stb_image\n", median[1] / median[0]);
  return 0;
}

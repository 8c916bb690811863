// The loader's decoder (examples/train/image_decode.hpp): libjpeg-turbo and stb_image on the 8
// real Open Images photos (dimensions from SOURCES.md, pixels within IDCT/upsampling rounding of
// each other), strict refusal of truncated and non-image files naming the file, PNG through stb.
#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_support.hpp"
#include "train/image_decode.hpp"

namespace dt = detkit_train;
using detkit_test::fixture;
using detkit_test::read_text;
using detkit_test::work_dir;
using detkit_test::write_text;

namespace {
struct photo {
  const char* id;
  int w, h;
};
// tests/fixtures/openimages/SOURCES.md, read there from the JPEG SOF markers.
const photo photos[] = {{"105433f9d808d18e", 1024, 1024}, {"41e2356b97f775c4", 1024, 1024},
                        {"53912158f0b7dfce", 683, 1024},  {"a6fa6e875d6ae7fd", 1024, 680},
                        {"52c33abf081b58ce", 731, 1024},  {"3b3a23644d0ba4b1", 1024, 640},
                        {"69974d01b659acfe", 688, 1024},  {"c9ebd63bc789073a", 1024, 768}};

std::string photo_path(const photo& p) {
  return fixture(std::string("openimages/images/") + p.id + ".jpg");
}

std::string thrown_by(const std::string& path, dt::jpeg_decoder which) {
  dt::rgb_image img;
  try {
    dt::decode_rgb(path, img, which);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("image decode: both decoders agree on the 8 real photos") {
  for (const photo& p : photos) {
    dt::rgb_image a, b;
    dt::decode_rgb(photo_path(p), b, dt::jpeg_decoder::stb);
    CHECK(b.width == p.w);
    CHECK(b.height == p.h);
    if (!dt::have_libjpeg_turbo()) continue;
    dt::decode_rgb(photo_path(p), a, dt::jpeg_decoder::libjpeg_turbo);
    REQUIRE(a.width == p.w);
    REQUIRE(a.height == p.h);
    REQUIRE(a.pixels.size() == b.pixels.size());
    double sum = 0;
    int worst = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) {
      const int d = std::abs(int{a.pixels[i]} - int{b.pixels[i]});
      sum += d;
      worst = std::max(worst, d);
    }
    const double mean = sum / static_cast<double>(a.pixels.size());
    std::printf("%s %dx%d: libjpeg-turbo vs stb_image mean |diff| %.4f, max %d\n", p.id, p.w, p.h,
                mean, worst);
    // Two IDCT / chroma-upsampling implementations: rounding-level differences, never a shift
    // or a colour swap (which would give means of tens).
    CHECK(mean < 0.25);  // measured 0.017 .. 0.095
    CHECK(worst <= 20);  // measured 3 .. 13
  }
  if (!dt::have_libjpeg_turbo()) WARN("built without libjpeg-turbo: only stb_image checked");
}

TEST_CASE("image decode: truncated and non-image files are refused, naming the file") {
  const std::string dir = work_dir("image_decode");
  const std::string whole = read_text(photo_path(photos[0]));
  const std::string cut = dir + "/truncated.jpg";
  write_text(cut, whole.substr(0, whole.size() / 2));
  const std::string automatic = thrown_by(cut, dt::jpeg_decoder::automatic);
  CHECK(automatic.find(cut) != std::string::npos);
  if (dt::have_libjpeg_turbo()) {
    // libjpeg alone would warn and fill the rest with grey: silent data loss.
    CHECK(automatic.find("libjpeg-turbo") != std::string::npos);
    CHECK(automatic.find("Premature end") != std::string::npos);
  }
  const std::string text = dir + "/not-an-image.jpg";
  write_text(text, "ImageID,XMin\n");
  CHECK(thrown_by(text, dt::jpeg_decoder::automatic).find(text) != std::string::npos);
  const std::string missing = dir + "/missing.jpg";
  CHECK(thrown_by(missing, dt::jpeg_decoder::automatic).find(missing + ": cannot open") !=
        std::string::npos);
}

TEST_CASE("image decode: PNG goes through stb_image, pixels exact") {
  const std::string path = work_dir("image_decode") + "/tiny.png";
  const unsigned char px[2 * 3 * 3] = {1, 2, 3, 40, 50, 60, 255, 0,   128,
                                       7, 8, 9, 10, 11, 12, 200, 201, 202};
  REQUIRE(stbi_write_png(path.c_str(), 3, 2, 3, px, 9) != 0);
  dt::rgb_image img;
  dt::decode_rgb(path, img);
  REQUIRE(img.width == 3);
  REQUIRE(img.height == 2);
  CHECK(std::equal(img.pixels.begin(), img.pixels.end(), px));
}

// tests/test_detectron2_json.cpp — mirrors include/detkit/detectron2_json.hpp: the exact text of
// a small document, strings escaped, floats that read back to the same float32 bit for bit
// (checked with simdjson here and with Python's json module in check_detectron2_json.py), and an
// atomic write.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#ifdef DETKIT_TEST_HAVE_SIMDJSON
#include <simdjson.h>
#endif

#include "detkit/detail/checksum.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/split.hpp"
#include "test_support.hpp"

namespace {

detkit::label_set small_set() {
  detkit::label_set ls;
  ls.classes = {{"/m/03ssj5", "Bed"}, {"/m/02crq1", "Couch"}};
  detkit::image_record a;
  a.image_id = "000a1249af2bc5f0";
  a.file_name = "000a1249af2bc5f0.jpg";
  a.size = {1024, 683};
  detkit::label_box b;
  b.rel = {0.0125f, 0.182f, 0.9985229f, 1.0f};
  b.abs = detkit::to_xyxy_abs(b.rel, a.size);
  b.category_id = 1;
  a.boxes.push_back(b);
  b.abs = {0.0f, 1e-45f, 123.456f, 3.4028235e38f};
  b.category_id = 0;
  a.boxes.push_back(b);
  detkit::image_record c;
  c.image_id = "00aa2ba3d7ef4c4f";
  c.file_name = "a \"q\" \\ b\n\x01\xc3\xbc.jpg";
  c.size = {640, 480};
  ls.images = {a, c};
  return ls;
}

// Random finite floats over the whole exponent range plus pixel-like values.
std::vector<float> test_floats(std::size_t n) {
  std::vector<float> out = {0.0f,     -0.0f,   1e-45f,     1.17549435e-38f, 3.4028235e38f,
                            0.1f,     1024.0f, 123.456f,   0.0020833334f,   682.99994f,
                            1.0f / 3, 1e-7f,   16777217.0f};
  detkit::detail::split_rng rng(99);
  while (out.size() < n) {
    const auto bits = static_cast<std::uint32_t>(rng.next());
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isfinite(f)) continue;
    out.push_back(f);
    // and a pixel coordinate as to_xyxy_abs makes them
    out.push_back(static_cast<float>(static_cast<double>(rng.below(1000000)) / 1e6 * 1024.0));
  }
  return out;
}

detkit::label_set set_with_floats(const std::vector<float>& v) {
  detkit::label_set ls;
  ls.classes = {{"/m/a", "A"}};
  for (std::size_t i = 0; i + 4 <= v.size(); i += 4) {
    if (i % 40 == 0) {
      detkit::image_record r;
      char id[17];
      std::snprintf(id, sizeof id, "%016zx", i);
      r.image_id = id;
      r.file_name = r.image_id + ".jpg";
      r.size = {1024, 768};
      ls.images.push_back(r);
    }
    detkit::label_box b;
    b.abs = {v[i], v[i + 1], v[i + 2], v[i + 3]};
    b.category_id = static_cast<std::int32_t>(i % 7);
    ls.images.back().boxes.push_back(b);
  }
  return ls;
}

std::string hex_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", b);
  return buf;
}

}  // namespace

TEST_CASE("detectron2_json: exact text of a small document", "[detectron2_json]") {
  const std::string expected =
      "[\n"
      "{\"file_name\": \"000a1249af2bc5f0.jpg\", \"image_id\": \"000a1249af2bc5f0\", \"height\": "
      "683, \"width\": 1024, \"annotations\": [{\"bbox\": [12.8, 124.306, 1022.4874, 683], "
      "\"bbox_mode\": \"XYXY_ABS\", \"category_id\": 1}, {\"bbox\": [0, 1e-45, 123.456, "
      "3.4028235e+38], \"bbox_mode\": \"XYXY_ABS\", \"category_id\": 0}]},\n"
      "{\"file_name\": \"a \\\"q\\\" \\\\ b\\n\\u0001\xc3\xbc.jpg\", \"image_id\": "
      "\"00aa2ba3d7ef4c4f\", \"height\": 480, \"width\": 640, \"annotations\": []}\n"
      "]\n";
  CHECK(detkit::to_detectron2_json(small_set()) == expected);
  CHECK(detkit::to_detectron2_json(detkit::label_set{}) == "[]\n");
  // NaN and inf are not JSON: they become null (the label cache never holds them anyway).
  auto ls = small_set();
  ls.images[0].boxes[0].abs.x1 = std::numeric_limits<float>::quiet_NaN();
  ls.images[0].boxes[0].abs.y1 = -std::numeric_limits<float>::infinity();
  CHECK(detkit::to_detectron2_json(ls).find("\"bbox\": [null, null, 1022.4874, 683]") !=
        std::string::npos);

  const std::string dir = detkit_test::work_dir("detectron2_json");
  REQUIRE(detkit::try_write_detectron2_json(dir + "/small.json", small_set()).has_value());
  CHECK(detkit_test::read_text(dir + "/small.json") == expected);
}

TEST_CASE("detectron2_json: a failed write leaves nothing", "[detectron2_json]") {
  const std::string dir = detkit_test::work_dir("detectron2_json_fail");
  auto r = detkit::try_write_detectron2_json(dir + "/missing/x.json", small_set());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == detkit::errc::io_write);
  CHECK_FALSE(detkit_test::file_exists(dir + "/missing/x.json"));
  CHECK_THROWS_AS(detkit::write_detectron2_json(dir + "/missing/x.json", small_set()),
                  detkit::parse_error);
}

TEST_CASE("detectron2_json: input for the Python json check", "[detectron2_json]") {
  // Fixed path (not per process): check_detectron2_json.py reads it in the next ctest test.
  const std::string dir = std::string(DETKIT_TEST_WORK_DIR) + "/detectron2_json_for_python";
  REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
  auto ls = set_with_floats(test_floats(4000));
  ls.images.push_back(small_set().images[1]);  // the escaping case
  REQUIRE(detkit::try_write_detectron2_json(dir + "/labels.json", ls).has_value());
  // expected.tsv: image_id, file_name (hex of its bytes), height, width, then per box the four
  // coordinates as float32 bit patterns and the category id.
  std::string tsv;
  for (const auto& img : ls.images) {
    std::string name_hex;
    for (unsigned char ch : img.file_name) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02x", ch);
      name_hex += buf;
    }
    tsv += img.image_id + "\t" + name_hex + "\t" + std::to_string(img.size.height) + "\t" +
           std::to_string(img.size.width);
    for (const auto& b : img.boxes) {
      tsv += "\t" + hex_bits(b.abs.x1) + "," + hex_bits(b.abs.y1) + "," + hex_bits(b.abs.x2) + "," +
             hex_bits(b.abs.y2) + "," + std::to_string(b.category_id);
    }
    tsv += "\n";
  }
  detkit_test::write_text(dir + "/expected.tsv", tsv);
}

#ifdef DETKIT_TEST_HAVE_SIMDJSON
TEST_CASE("detectron2_json: simdjson reads back every float bit for bit", "[detectron2_json]") {
  const auto ls = set_with_floats(test_floats(40000));
  const std::string text = detkit::to_detectron2_json(ls);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(text);
  auto doc = parser.iterate(padded);
  std::size_t i = 0, boxes = 0, mismatches = 0;
  for (auto img : doc.get_array()) {
    REQUIRE(i < ls.images.size());
    const auto& rec = ls.images[i++];
    std::string_view name = img["file_name"].get_string();
    CHECK(name == rec.file_name);
    std::string_view id = img["image_id"].get_string();
    CHECK(id == rec.image_id);
    CHECK(std::int64_t(img["height"]) == rec.size.height);
    CHECK(std::int64_t(img["width"]) == rec.size.width);
    std::size_t k = 0;
    for (auto ann : img["annotations"].get_array()) {
      REQUIRE(k < rec.boxes.size());
      const auto& b = rec.boxes[k++];
      float got[4];
      int j = 0;
      for (auto v : ann["bbox"].get_array()) got[j++] = static_cast<float>(double(v));
      REQUIRE(j == 4);
      const float want[4] = {b.abs.x1, b.abs.y1, b.abs.x2, b.abs.y2};
      if (std::memcmp(got, want, sizeof got) != 0) ++mismatches;
      std::string_view mode = ann["bbox_mode"].get_string();
      CHECK(mode == "XYXY_ABS");
      CHECK(std::int64_t(ann["category_id"]) == b.category_id);
      ++boxes;
    }
    CHECK(k == rec.boxes.size());
  }
  CHECK(i == ls.images.size());
  CHECK(boxes == 10000);
  CHECK(mismatches == 0);
}
#endif

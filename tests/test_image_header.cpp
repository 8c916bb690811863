// tests/test_image_header.cpp — mirrors include/detkit/image_header.hpp: the 8 real Open Images
// JPEGs give the sizes listed in tests/fixtures/openimages/SOURCES.md, and damaged headers give
// their exact messages.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>

#include "detkit/image_header.hpp"
#include "test_support.hpp"

using detkit::errc;
using detkit_test::fixture;

namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s += static_cast<char>(b);
  return s;
}

// The "Image list" table of SOURCES.md: | ImageID | Class | W x H | boxes | MD5 |
std::map<std::string, detkit::image_size> sizes_from_sources_md() {
  std::map<std::string, detkit::image_size> out;
  std::istringstream in(detkit_test::read_text(fixture("openimages/SOURCES.md")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 20 || line[0] != '|' || line[1] != ' ') continue;
    const std::string id = line.substr(2, 16);
    if (id.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    // cells: "", " id ", " Class ", " WxH ", ...
    const std::string wxh = cells.at(3);
    const auto x = wxh.find('x');
    out[id] = {std::stoi(wxh.substr(0, x)), std::stoi(wxh.substr(x + 1))};
  }
  return out;
}

std::string message_of(const detkit::result<detkit::image_size>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().to_string();
}

}  // namespace

TEST_CASE("image_header: the 8 real JPEGs give the sizes in SOURCES.md", "[image_header]") {
  const auto expected = sizes_from_sources_md();
  REQUIRE(expected.size() == 8);
  for (const auto& [id, size] : expected) {
    INFO(id);
    const std::string path = fixture("openimages/images/" + id + ".jpg");
    auto r = detkit::try_read_image_size(path);
    REQUIRE(r.has_value());
    CHECK(r->width == size.width);
    CHECK(r->height == size.height);
    // The in-memory form agrees, and the header alone (first 1 KB) is enough.
    const std::string all = detkit_test::read_text(path);
    auto m = detkit::try_read_image_size(std::string_view(all), id);
    REQUIRE(m.has_value());
    CHECK(m->width == size.width);
    CHECK(m->height == size.height);
    auto head = detkit::try_read_image_size(std::string_view(all).substr(0, 1024), id);
    REQUIRE(head.has_value());
    CHECK(head->width == size.width);
    CHECK(detkit::is_complete_jpeg(all));
    CHECK_FALSE(detkit::is_complete_jpeg(std::string_view(all).substr(0, all.size() - 1)));
  }
  // Spot values straight from the table, so a parse slip in the helper cannot hide a bug.
  auto r = detkit::read_image_size(fixture("openimages/images/53912158f0b7dfce.jpg"));
  CHECK(r.width == 683);
  CHECK(r.height == 1024);
  r = detkit::read_image_size(fixture("openimages/images/3b3a23644d0ba4b1.jpg"));
  CHECK(r.width == 1024);
  CHECK(r.height == 640);
}

TEST_CASE("image_header: every SOFn variant is a frame header, DHT/JPG/DAC are not",
          "[image_header]") {
  for (int marker = 0xC0; marker <= 0xCF; ++marker) {
    INFO(marker);
    // SOI, then the marker with an 8-byte SOF-shaped payload (height 0x0102, width 0x0304), then
    // a SOF0 saying 5x6: a non-SOF marker is skipped and the SOF0 wins.
    const std::string jpeg =
        bytes({0xFF, 0xD8, 0xFF, marker, 0x00, 0x08, 8,    0x01, 0x02, 0x03, 0x04,
               1,    0xFF, 0xC0, 0x00,   0x08, 8,    0x00, 0x06, 0x00, 0x05, 1});
    auto r = detkit::try_read_image_size(std::string_view(jpeg), "t.jpg");
    REQUIRE(r.has_value());
    if (marker == 0xC4 || marker == 0xC8 || marker == 0xCC) {
      CHECK(r->width == 5);
      CHECK(r->height == 6);
    } else {
      CHECK(r->width == 0x0304);
      CHECK(r->height == 0x0102);
    }
  }
}

TEST_CASE("image_header: APPn segments are skipped by length, even with SOF bytes inside",
          "[image_header]") {
  // APP1 holding a decoy "FF C0 ... 9999x9999", fill bytes, COM, RST-style standalone marker.
  std::string jpeg = bytes(
      {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0C, 0xFF, 0xC0, 0x00, 0x08, 8, 0x27, 0x0F, 0x27, 0x0F, 1});
  jpeg += bytes({0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x04, 'h', 'i', 0xFF, 0xD0});
  jpeg += bytes({0xFF, 0xC2, 0x00, 0x11, 8, 0x01, 0xE0, 0x02, 0x80, 3});
  auto r = detkit::try_read_image_size(std::string_view(jpeg), "t.jpg");
  REQUIRE(r.has_value());
  CHECK(r->width == 640);
  CHECK(r->height == 480);

  // A 60 KB APP2 (ICC-profile sized) before the frame header, read from a file: the walk jumps
  // over it by its length instead of scanning it.
  std::string big = bytes({0xFF, 0xD8, 0xFF, 0xE2, 0xEA, 0x60});
  big += std::string(0xEA60 - 2, '\xC0');
  big += bytes({0xFF, 0xC0, 0x00, 0x11, 8, 0x00, 0x10, 0x00, 0x20, 3});
  const std::string dir = detkit_test::work_dir("image_header");
  detkit_test::write_text(dir + "/big_app.jpg", big);
  auto f = detkit::try_read_image_size(dir + "/big_app.jpg");
  REQUIRE(f.has_value());
  CHECK(f->width == 32);
  CHECK(f->height == 16);
}

TEST_CASE("image_header: damaged JPEGs give exact messages", "[image_header]") {
  auto msg = [](const std::string& b) {
    return message_of(detkit::try_read_image_size(std::string_view(b), "x.jpg"));
  };
  CHECK(msg("") ==
        "x.jpg: byte 0: error: empty file (0 bytes): not a JPEG or PNG [detkit.image.corrupt]");
  CHECK(msg("GIF89a\x01\x00") ==
        "x.jpg: byte 0: error: not a JPEG or PNG: starts with 47 49 46 38 (a JPEG starts with FF "
        "D8, a PNG with 89 50 4E 47) [detkit.image.corrupt]");
  // Truncated SOF: the frame header stops after the precision byte.
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01})) ==
        "x.jpg: byte 2: error: truncated JPEG: the SOF0 frame header needs 8 bytes after its "
        "marker, the file ends first [detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xC1, 0x00, 0x05, 0x08, 0x01, 0x00})) ==
        "x.jpg: byte 2: error: truncated JPEG: the SOF1 frame header needs 8 bytes after its "
        "marker, the segment length is 5 [detkit.image.corrupt]");
  // Zero size.
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x00, 0x10, 3})) ==
        "x.jpg: byte 2: error: JPEG SOF0 frame header says 16 x 0 pixels: a zero size is invalid "
        "(the header is damaged) [detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8})) ==
        "x.jpg: byte 2: error: truncated JPEG: the file ends at a marker before any frame header "
        "(SOFn) [detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00})) ==
        "x.jpg: byte 2: error: truncated JPEG: the file ends inside the length of segment FF E0 "
        "[detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10})) ==
        "x.jpg: byte 20: error: truncated JPEG: the file ends at a marker before any frame header "
        "(SOFn) [detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0x12, 0x34})) ==
        "x.jpg: byte 2: error: corrupt JPEG: expected a marker (FF xx), got 12 34 "
        "[detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xD9})) ==
        "x.jpg: byte 2: error: corrupt JPEG: end of image (EOI) before any frame header (SOFn) "
        "[detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08})) ==
        "x.jpg: byte 2: error: corrupt JPEG: scan data (SOS) before any frame header (SOFn) "
        "[detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01})) ==
        "x.jpg: byte 4: error: corrupt JPEG: segment FF E0 has length 1 (at least 2) "
        "[detkit.image.corrupt]");
  CHECK(msg(bytes({0xFF, 0xD8, 0xFF, 0xD8})) ==
        "x.jpg: byte 2: error: corrupt JPEG: a second start-of-image marker (FF D8) "
        "[detkit.image.corrupt]");
  // A length that loops back cannot hang the walk: scan limit.
  detkit::image_header_options small;
  small.max_scan_bytes = 100;
  std::string loop = bytes({0xFF, 0xD8});
  for (int i = 0; i < 40; ++i) loop += bytes({0xFF, 0xE0, 0x00, 0x02});
  auto r = detkit::try_read_image_size(std::string_view(loop), "x.jpg", small);
  CHECK(message_of(r) ==
        "x.jpg: byte 102: error: no JPEG frame header (SOFn) within the first 100 bytes "
        "[detkit.image.corrupt]");
}

TEST_CASE("image_header: PNG IHDR", "[image_header]") {
  const std::string sig = bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
  auto png = [&](std::uint32_t w, std::uint32_t h) {
    std::string s = sig + bytes({0, 0, 0, 13, 'I', 'H', 'D', 'R'});
    for (std::uint32_t v : {w, h}) {
      for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((v >> sh) & 0xFF);
    }
    return s + bytes({8, 2, 0, 0, 0, 0, 0, 0, 0});
  };
  auto r = detkit::try_read_image_size(std::string_view(png(640, 480)), "x.png");
  REQUIRE(r.has_value());
  CHECK(r->width == 640);
  CHECK(r->height == 480);
  auto msg = [](const std::string& b) {
    return message_of(detkit::try_read_image_size(std::string_view(b), "x.png"));
  };
  CHECK(msg(sig + bytes({0, 0, 0, 13, 'I', 'H'})) ==
        "x.png: byte 8: error: truncated PNG: the file ends inside the IHDR chunk "
        "[detkit.image.corrupt]");
  std::string not_ihdr = png(1, 1);
  not_ihdr[12] = 'X';
  CHECK(msg(not_ihdr) ==
        "x.png: byte 8: error: corrupt PNG: the first chunk is not a 13-byte IHDR "
        "[detkit.image.corrupt]");
  CHECK(msg(png(0, 5)) ==
        "x.png: byte 16: error: PNG IHDR chunk says 0 x 5 pixels: a zero size is invalid (the "
        "header is damaged) [detkit.image.corrupt]");
  CHECK(msg(png((1u << 24) + 1, 2)) ==
        "x.png: byte 16: error: image is 16777217 x 2 pixels, over the limit of 16777216 per side "
        "(image_header_options::max_dimension) [detkit.image.too_large]");
  CHECK(msg(png(0xFFFFFFFFu, 2)) ==
        "x.png: byte 16: error: image is 4294967295 x 2 pixels, over the limit of 16777216 per "
        "side (image_header_options::max_dimension) [detkit.image.too_large]");
  CHECK(msg(png(100000, 100000)) ==
        "x.png: byte 16: error: image is 100000 x 100000 = 10000000000 pixels, over the limit of "
        "1073741824 (image_header_options::max_pixels) [detkit.image.too_large]");
  CHECK(detkit::sniff_image_format(png(1, 1)) == detkit::image_format::png);
  CHECK(detkit::sniff_image_format(bytes({0xFF, 0xD8, 0xFF})) == detkit::image_format::jpeg);
  CHECK(detkit::sniff_image_format("GIF8") == detkit::image_format::unknown);
}

TEST_CASE("image_header: files — missing, limits, directory", "[image_header]") {
  auto r = detkit::try_read_image_size(std::string("/nonexistent/dir/0000000000000000.jpg"));
  CHECK(message_of(r) ==
        "/nonexistent/dir/0000000000000000.jpg: error: image file not found "
        "[detkit.image.missing]");
  CHECK(r.error().code == errc::image_missing);

  detkit::image_header_options opt;
  opt.max_dimension = 1000;
  const std::string path = fixture("openimages/images/c9ebd63bc789073a.jpg");
  auto big = detkit::try_read_image_size(path, opt);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().code == errc::image_too_large);
  CHECK(big.error().message ==
        "image is 1024 x 768 pixels, over the limit of 1000 per side "
        "(image_header_options::max_dimension)");

  const std::string dir = detkit_test::work_dir("image_header_dir");
  auto d = detkit::try_read_image_size(dir);
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().code == errc::io_read);

  // A JPEG cut right after its frame header still gives its size from a file (only the header
  // is read), while is_complete_jpeg tells the downloader it is incomplete.
  const std::string all = detkit_test::read_text(path);
  detkit_test::write_text(dir + "/cut.jpg", all.substr(0, 700));
  auto cut = detkit::try_read_image_size(dir + "/cut.jpg");
  REQUIRE(cut.has_value());
  CHECK(cut->width == 1024);
  CHECK(cut->height == 768);
  CHECK_FALSE(detkit::is_complete_jpeg(all.substr(0, 700)));

  CHECK_THROWS_AS(detkit::read_image_size(dir + "/missing.jpg"), detkit::parse_error);
}

TEST_CASE("image_header: is_complete_jpeg", "[image_header]") {
  CHECK(detkit::is_complete_jpeg(bytes({0xFF, 0xD8, 0xFF, 0xD9})));
  CHECK_FALSE(detkit::is_complete_jpeg(bytes({0xFF, 0xD8, 0xD9})));
  CHECK_FALSE(detkit::is_complete_jpeg(""));
  CHECK_FALSE(detkit::is_complete_jpeg(bytes({0xFF, 0xD8, 0xFF, 0xD9, 0x00})));
  CHECK_FALSE(detkit::is_complete_jpeg(bytes({0x00, 0xD8, 0xFF, 0xD9})));
}

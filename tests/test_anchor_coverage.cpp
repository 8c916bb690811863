// tests/test_anchor_coverage.cpp — examples/subset/anchor_coverage.cpp (the detkit-subset
// --anchor-report): torchvision's resize, best IoU over the default RetinaNet anchors (from
// cuda/ops/anchors), buckets. Writes <work>/anchor_coverage_for_torchvision/cases.tsv for
// check_anchor_coverage.py, which recomputes every case with torchvision itself
// (GeneralizedRCNNTransform, the RetinaNet AnchorGenerator, box_iou).
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "anchors.hpp"
#include "detkit/image_header.hpp"
#include "detkit/open_images.hpp"
#include "subset/anchor_coverage.hpp"
#include "test_support.hpp"

using detkit_test::fixture;
namespace ds = detkit_subset;

TEST_CASE("anchor coverage: torchvision's resize by hand", "[subset]") {
  // 1024x680: scale = min(800/680, 1333/1024) = 800/680 -> 1204x800, padded 1216x800.
  auto r = ds::torchvision_resize(1024, 680);
  CHECK(r.w == 1204);
  CHECK(r.h == 800);
  CHECK(r.padded_w == 1216);
  CHECK(r.padded_h == 800);
  // 3000x500: the long side limits; torchvision 0.14.1's float32 scale gives 1332x222 (not 1333),
  // padded 1344x224 (checked with torchvision's GeneralizedRCNNTransform).
  auto l = ds::torchvision_resize(3000, 500);
  CHECK(l.w == 1332);
  CHECK(l.h == 222);
  CHECK(l.padded_w == 1344);
  CHECK(l.padded_h == 224);
}

TEST_CASE("anchor coverage: a box equal to an anchor, and a tiny box", "[subset]") {
  // Level 0, size 32, ratio 1 cell anchor is [-16,-16,16,16]; at (y, x) = (10, 20) with stride 8
  // it is [144, 64, 176, 96].
  const float exact[4] = {144, 64, 176, 96};
  CHECK(ds::best_anchor_iou(exact, 800, 1216) == Approx(1.0));
  const float tiny[4] = {100, 100, 104, 104};  // 4x4 px: best IoU 16/1024 with a 32x32 anchor
  CHECK(ds::best_anchor_iou(tiny, 800, 1216) < 0.5);
  const float thin[4] = {0, 400, 1200, 410};  // 1200x10: no anchor shape comes close
  CHECK(ds::best_anchor_iou(thin, 800, 1216) < 0.2);
}

TEST_CASE("anchor coverage: cases for torchvision, and the buckets add up", "[subset]") {
  // The 8 real fixture images with their real Apple/Orange boxes and sizes ...
  auto table =
      detkit::read_class_descriptions(fixture("openimages/class-descriptions-boxable.v4.csv"));
  auto targets = detkit::try_resolve_classes(table, {"Apple", "Orange"});
  REQUIRE(targets);
  detkit::label_set ls;
  for (int k = 0; k < 2; ++k) {
    detkit::join_options jo;
    jo.label_for_all = (*targets)[static_cast<std::size_t>(k)].mid;
    auto r = detkit::try_join_boxes_file(
        fixture(std::string("openimages/images/") + (k ? "Orange" : "Apple") + ".csv"), *targets,
        jo, ls);
    REQUIRE(r);
  }
  detkit::normalize_label_set(ls);
  for (auto& img : ls.images) {
    auto s = detkit::try_read_image_size(fixture("openimages/images/" + img.file_name));
    REQUIRE(s);
    img.size = *s;
    detkit::fill_absolute(img);
  }
  // ... plus seeded synthetic boxes: tiny, elongated, large, on odd image sizes.
  std::uint64_t st = 99;
  auto u = [&st](double lo, double hi) {
    st = st * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(st >> 11) / 9007199254740992.0;
  };
  const int sizes[][2] = {{640, 480}, {1024, 683}, {333, 1024}, {3000, 500}, {801, 799}};
  for (int i = 0; i < 40; ++i) {
    detkit::image_record rec;
    rec.image_id = "synthetic" + std::to_string(i);
    rec.size = {sizes[i % 5][0], sizes[i % 5][1]};
    detkit::label_box b;
    b.category_id = i % 2;
    const double w = std::exp(u(std::log(0.005), std::log(0.9)));
    const double h = std::exp(u(std::log(0.005), std::log(0.9)));
    const double x = u(0, 1 - w), y = u(0, 1 - h);
    b.rel = {static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + w),
             static_cast<float>(y + h)};
    rec.boxes.push_back(b);
    detkit::fill_absolute(rec);
    ls.images.push_back(rec);
  }
  const auto rep = ds::anchor_coverage(ls);
  std::uint64_t boxes = 0, by_size = 0, by_aspect = 0, by_class = 0, covered = 0;
  for (const auto& img : ls.images) boxes += img.boxes.size();
  for (const auto& k : rep.by_size) by_size += k.boxes;
  for (const auto& k : rep.by_aspect) by_aspect += k.boxes;
  for (const auto& k : rep.by_class) by_class += k.boxes;
  for (const auto& k : rep.by_size) covered += k.covered;
  CHECK(rep.total.boxes == boxes);
  CHECK(by_size == boxes);
  CHECK(by_aspect == boxes);
  CHECK(by_class == boxes);
  CHECK(covered == rep.total.covered);
  CHECK(rep.by_size[0].covered < rep.by_size[0].boxes + 1);
  const std::string table_text = ds::coverage_table(rep, ls);
  CHECK(table_text.find("class\tOrange\t") != std::string::npos);

  // One line per box: image w, h, box x1 y1 x2 y2 (original pixels), then what detkit computed:
  // resized w, h, padded w, h, resized box, best IoU.
  std::string out;
  char buf[512];
  for (const auto& img : ls.images) {
    const auto r = ds::torchvision_resize(img.size.width, img.size.height);
    for (const auto& b : img.boxes) {
      const auto rb = ds::resize_box(b, img.size.width, img.size.height, r);
      const float* box = rb.xyxy;
      std::snprintf(
          buf, sizeof buf,
          "%d\t%d\t%.9g\t%.9g\t%.9g\t%.9g\t%d\t%d\t%d\t%d\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n",
          img.size.width, img.size.height, static_cast<double>(b.abs.x1),
          static_cast<double>(b.abs.y1), static_cast<double>(b.abs.x2),
          static_cast<double>(b.abs.y2), r.w, r.h, r.padded_w, r.padded_h,
          static_cast<double>(box[0]), static_cast<double>(box[1]), static_cast<double>(box[2]),
          static_cast<double>(box[3]), ds::best_anchor_iou(box, r.padded_h, r.padded_w));
      out += buf;
    }
  }
  const std::string dir = std::string(DETKIT_TEST_WORK_DIR) + "/anchor_coverage_for_torchvision";
  std::system(("mkdir -p '" + dir + "'").c_str());
  detkit_test::write_text(dir + "/cases.tsv", out);
}

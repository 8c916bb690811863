// tests/test_subset_exports.cpp — export_coco.hpp, export_yolo.hpp, export_voc.hpp (and the
// existing Detectron2 JSON) on real labels: the 8 fixture images with their real Apple/Orange
// boxes and sizes read from the JPEG headers, the 125 real Bed rows (given a size), one
// verified-negative image without boxes, and a class name that needs XML escaping. The files are
// left in <work>/subset_exports_for_python with expected.tsv; check_subset_exports.py reads them
// back with Python's json and xml.etree (ctest fixture: it runs after this test).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "detkit/detectron2_json.hpp"
#include "detkit/export_coco.hpp"
#include "detkit/export_voc.hpp"
#include "detkit/export_yolo.hpp"
#include "detkit/image_header.hpp"
#include "detkit/open_images.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

const std::string oi = "openimages/";

detkit::label_set real_labels() {
  auto table = detkit::read_class_descriptions(fixture(oi + "class-descriptions-boxable.v4.csv"));
  auto targets =
      detkit::try_resolve_classes(table, {"Apple", "Orange", "Bed", "Kitchen & dining room table"});
  if (!targets) throw std::runtime_error(targets.error().to_string());
  detkit::label_set ls;
  for (const char* name : {"Apple", "Orange"}) {
    detkit::join_options jo;
    jo.label_for_all = (*targets)[name[0] == 'A' ? 0 : 1].mid;
    auto r = detkit::try_join_boxes_file(fixture(oi + "images/" + name + ".csv"), *targets, jo, ls);
    if (!r) throw std::runtime_error(r.error().to_string());
  }
  auto r = detkit::try_join_boxes_file(fixture(oi + "validation-annotations-bbox.v5.bed.csv"),
                                       *targets, {}, ls);
  if (!r) throw std::runtime_error(r.error().to_string());
  detkit::normalize_label_set(ls);
  std::size_t bed_images = 0;
  for (auto& img : ls.images) {
    auto s = detkit::try_read_image_size(fixture(oi + "images/" + img.file_name));
    if (s) {
      img.size = *s;
    } else {
      // A Bed image (not in the fixtures): alternate two real Open Images sizes.
      img.size = (bed_images++ % 2) ? detkit::image_size{1024, 683} : detkit::image_size{683, 1024};
    }
    detkit::fill_absolute(img);
  }
  // One Bed box becomes the '&' class, and a verified negative without boxes.
  // (an image with several boxes: two classes in one label file).
  detkit::image_record* two = nullptr;
  for (auto& img : ls.images) {
    if (img.boxes.size() >= 2 && img.boxes[0].category_id == 2) two = &img;
  }
  if (two == nullptr) throw std::runtime_error("no Bed image with two boxes");
  two->boxes.back().category_id = 3;
  detkit::image_record neg;
  neg.image_id = "000002b66c9c498e";
  neg.image_id_u64 = 0x000002b66c9c498eULL;
  neg.file_name = neg.image_id + ".jpg";
  neg.size = {1024, 768};
  ls.images.insert(ls.images.begin(), neg);
  return ls;
}

std::string f32(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace

TEST_CASE("subset exports: COCO, YOLO, VOC and Detectron2 files for Python", "[subset]") {
  const auto ls = real_labels();
  std::size_t boxes = 0, sized = 0;
  for (const auto& img : ls.images) {
    boxes += img.boxes.size();
    sized += img.size.width > 0 ? 1 : 0;
  }
  REQUIRE(boxes == 23 + 125);  // 8 images' real Apple/Orange boxes + the Bed rows
  REQUIRE(sized == ls.images.size());
  const std::string dir = std::string(DETKIT_TEST_WORK_DIR) + "/subset_exports_for_python";
  std::system(("rm -rf '" + dir + "'").c_str());
  REQUIRE(detkit::try_write_coco_json(dir + "/coco.json", ls).error().code ==
          detkit::errc::io_write);  // the folder does not exist yet: an error, nothing written
  REQUIRE(detkit::try_write_yolo_labels(dir + "/yolo", ls));
  REQUIRE(detkit::try_write_voc_xml(dir + "/voc", ls));
  REQUIRE(detkit::try_write_coco_json(dir + "/coco.json", ls));
  REQUIRE(detkit::try_write_detectron2_json(dir + "/detectron2.json", ls,
                                            detkit::bbox_mode_text::integer));
  REQUIRE(detkit::try_write_detectron2_json(dir + "/detectron2_names.json", ls));
  std::string exp;
  for (const auto& c : ls.classes) exp += "class\t" + c.mid + "\t" + c.name + "\n";
  for (const auto& img : ls.images) {
    exp += "image\t" + img.image_id + "\t" + img.file_name + "\t" + std::to_string(img.size.width) +
           "\t" + std::to_string(img.size.height) + "\n";
    for (const auto& b : img.boxes) {
      exp += "box\t" + std::to_string(b.category_id);
      for (float v :
           {b.abs.x1, b.abs.y1, b.abs.x2, b.abs.y2, b.rel.x1, b.rel.y1, b.rel.x2, b.rel.y2})
        exp += "\t" + f32(v);
      exp += "\t" + std::to_string(static_cast<int>(b.flags.group_of)) + "\t" +
             std::to_string(static_cast<int>(b.flags.occluded)) + "\t" +
             std::to_string(static_cast<int>(b.flags.truncated)) + "\n";
    }
  }
  detkit_test::write_text(dir + "/expected.tsv", exp);
  // The YOLO text of one image, checked here too.
  const detkit::image_record* two = nullptr;
  for (const auto& img : ls.images) {
    if (!img.boxes.empty() && img.boxes.back().category_id == 3) two = &img;
  }
  REQUIRE(two != nullptr);
  const auto& first_bed = *two;
  const std::string y = detkit::to_yolo_text(first_bed);
  CHECK(std::count(y.begin(), y.end(), '\n') == static_cast<long>(first_bed.boxes.size()));
  CHECK(y.rfind("3 ", 0) == std::string::npos);  // category 3 is the last box, not the first
  CHECK(y.find("\n3 ") != std::string::npos);
  // The '&' class is escaped in VOC.
  CHECK(detkit::to_voc_xml(first_bed, ls.classes).find("Kitchen &amp; dining room table") !=
        std::string::npos);
}

TEST_CASE("subset exports: images without a size are refused, nothing half-written", "[subset]") {
  auto ls = real_labels();
  ls.images[1].size = {};
  const std::string dir = detkit_test::work_dir("subset_exports_nosize");
  auto c = detkit::try_write_coco_json(dir + "/coco.json", ls);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == detkit::errc::usage);
  CHECK(c.error().message.find(ls.images[1].image_id) != std::string::npos);
  CHECK_FALSE(detkit_test::file_exists(dir + "/coco.json"));
  auto v = detkit::try_write_voc_xml(dir + "/voc", ls);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == detkit::errc::usage);
  CHECK_FALSE(detkit_test::file_exists(dir + "/voc"));
  // YOLO uses the relative boxes: no size needed.
  CHECK(detkit::try_write_yolo_labels(dir + "/yolo", ls));
  // A folder that cannot be created (a file is in the way) is a located io_write error.
  detkit_test::write_text(dir + "/file", "x");
  auto bad = detkit::try_write_yolo_labels(dir + "/file/yolo", ls);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == detkit::errc::io_write);
}

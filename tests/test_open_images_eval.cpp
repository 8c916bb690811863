// tests/test_open_images_eval.cpp — the Open Images metric (open_images_eval.hpp) on hand-computed
// cases: plain matching, hierarchy expansion of boxes and labels, group-of boxes, verified-absent
// classes, unverified classes; and the predictions CSV / per-image text readers.
#include <catch2/catch.hpp>
#include <cmath>

#include "detkit/detection_files.hpp"
#include "detkit/open_images_eval.hpp"
#include "test_support.hpp"

using detkit::box_xyxy_rel;
using detkit::oi_detection;
using detkit::oi_gt_box;
using detkit::oi_image_label;

namespace {
// Classes: 0 Animal (parent of 1 and 2), 1 Dog, 2 Cat, 3 Table (no relation).
detkit::oi_class_relations animal_tree() {
  return detkit::make_class_relations({{}, {0}, {0}, {}});
}
const box_xyxy_rel left{0.0f, 0.0f, 0.5f, 0.5f};
const box_xyxy_rel right{0.5f, 0.5f, 1.0f, 1.0f};
}  // namespace

TEST_CASE("open_images_eval: VOC all-point AP of TP, FP, TP", "[open_images_eval]") {
  std::vector<oi_gt_box> gt = {{1, 3, left, false}, {1, 3, right, false}};
  std::vector<oi_detection> dt = {
      {1, 3, 0.9, left}, {1, 3, 0.8, {0.1f, 0.6f, 0.2f, 0.7f}}, {1, 3, 0.7, right}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                            {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  // precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 → envelope 1, 2/3, 2/3 → AP = .5*1 + .5*(2/3).
  CHECK(r->per_class[3].ap == Approx(0.5 + 0.5 * 2.0 / 3.0).epsilon(1e-15));
  CHECK(r->per_class[3].true_positives == 2);
  CHECK(r->per_class[3].false_positives == 1);
  CHECK(std::isnan(r->per_class[0].ap));  // no GT: skipped
  CHECK(r->map == r->per_class[3].ap);
}

TEST_CASE("open_images_eval: a second detection on a matched box is a false positive",
          "[open_images_eval]") {
  std::vector<oi_gt_box> gt = {{1, 3, left, false}};
  std::vector<oi_detection> dt = {{1, 3, 0.9, left}, {1, 3, 0.95, left}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                            {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  CHECK(r->per_class[3].ap == 1.0);  // the higher score takes the box; the other is a later FP
  CHECK(r->per_class[3].false_positives == 1);
}

TEST_CASE("open_images_eval: hierarchy expansion of GT boxes", "[open_images_eval]") {
  const auto rel = animal_tree();
  REQUIRE(rel.ancestors[1] == std::vector<std::uint32_t>{0});
  REQUIRE(rel.descendants[0] == std::vector<std::uint32_t>{1, 2});
  // A Dog box; the model says Animal at the same place (and Dog too).
  std::vector<oi_gt_box> gt = {{1, 1, left, false}};
  std::vector<oi_detection> dt = {{1, 0, 0.8, left}, {1, 1, 0.7, left}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, &rel);
  REQUIRE(r);
  CHECK(r->per_class[0].num_gt == 1.0);  // the Dog box counts for Animal too
  CHECK(r->per_class[0].ap == 1.0);
  CHECK(r->per_class[1].ap == 1.0);
  CHECK(std::isnan(r->per_class[2].ap));
  // Without expansion, Animal is not labelled in the image: its detection is dropped.
  auto flat = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                               {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(flat);
  CHECK(std::isnan(flat->per_class[0].ap));
  CHECK(flat->detections_not_evaluatable == 1);
  CHECK(flat->map == 1.0);
}

TEST_CASE("open_images_eval: a group-of box counts once, by IoA", "[open_images_eval]") {
  // Group-of box over the left half; three small detections inside (IoU < 0.5, IoA = 1).
  const box_xyxy_rel half{0.0f, 0.0f, 0.5f, 1.0f};
  std::vector<oi_gt_box> gt = {{1, 3, half, true}};
  std::vector<oi_detection> dt = {{1, 3, 0.6, {0.0f, 0.0f, 0.1f, 0.1f}},
                                  {1, 3, 0.9, {0.1f, 0.1f, 0.2f, 0.2f}},
                                  {1, 3, 0.7, {0.2f, 0.2f, 0.3f, 0.3f}}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                            {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  CHECK(r->per_class[3].num_gt == 1.0);
  CHECK(r->per_class[3].true_positives == 1);
  CHECK(r->per_class[3].false_positives == 0);
  CHECK(r->detections_group_of == 3);
  CHECK(r->per_class[3].ap == 1.0);
  // A detection outside (IoA 0) scored above the group entry (0.9): FP first → AP = 1/2.
  dt.push_back({1, 3, 0.95, {0.6f, 0.6f, 0.9f, 0.9f}});
  r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                       {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  CHECK(r->per_class[3].ap == 0.5);
  // V2 metric (group_of_weight 0): group-of boxes neither count nor absorb TPs.
  r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                       {0.5, 0.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  CHECK(std::isnan(r->per_class[3].ap));
}

TEST_CASE("open_images_eval: verified-absent classes give false positives, unverified are dropped",
          "[open_images_eval]") {
  const auto rel = animal_tree();
  // Image 1: a Dog box. Image 2: Animal verified absent (expands to Dog and Cat).
  // Image 3: nothing verified about Cat.
  std::vector<oi_gt_box> gt = {{1, 1, left, false}};
  std::vector<oi_image_label> labels = {{2, 0, false}, {3, 3, true}};
  std::vector<oi_detection> dt = {
      {1, 1, 0.8, left},   // TP
      {2, 1, 0.9, left},   // Dog in an image where Animal is verified absent → FP (expanded)
      {2, 2, 0.5, left},   // Cat there too → FP for Cat (no GT anywhere: Cat AP NaN)
      {3, 1, 0.99, left},  // Dog in image 3: not verified → dropped
      {4, 1, 0.99, left},  // image 4 has no GT entry at all → dropped
  };
  auto r = detkit::try_evaluate_open_images(gt, labels, dt, 4, &rel);
  REQUIRE(r);
  // Dog ranking: FP 0.9, TP 0.8 → precision 1/2 at recall 1 → AP 0.5.
  CHECK(r->per_class[1].ap == 0.5);
  CHECK(r->per_class[1].false_positives == 1);
  CHECK(r->per_class[2].false_positives == 1);
  CHECK(std::isnan(r->per_class[2].ap));
  CHECK(r->detections_not_evaluatable == 1);
  CHECK(r->detections_image_without_gt == 1);
  // mAP over classes with GT: Animal (the Dog box expanded, no Animal detections) and Dog.
  CHECK(r->per_class[0].ap == 0.0);
  CHECK(r->map == 0.25);
  // A positive label expands to ancestors: Dog present in image 3 makes Animal evaluatable there.
  labels.push_back({3, 1, true});
  dt.push_back({3, 0, 0.3, right});
  r = detkit::try_evaluate_open_images(gt, labels, dt, 4, &rel);
  REQUIRE(r);
  CHECK(r->per_class[0].false_positives == 1);
}

TEST_CASE("open_images_eval: equal scores rank as in TF with a stable argsort(...)[::-1]",
          "[open_images_eval]") {
  // Each AP below is also what the TF code gives with numpy's argsort made stable.
  const detkit::oi_eval_options flat{0.5, 1.0, detkit::hierarchy_expansion::none};
  // One image, two equal detections on one box: the later one is matched first (TP), and the final
  // ranking puts the later list entry first, so the FP comes before the TP → AP 1/2, not 1.
  std::vector<oi_gt_box> gt = {{1, 3, left, false}};
  std::vector<oi_detection> dt = {{1, 3, 0.8, left}, {1, 3, 0.8, left}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr, flat);
  REQUIRE(r);
  CHECK(r->per_class[3].ap == 0.5);
  CHECK(r->per_class[3].true_positives == 1);
  // Images are ranked in ImageID order, whatever the input order: image 1 (TP) is listed before
  // image 2 (FP), so at equal score image 2's FP ranks first → precision 1/2 at recall 1/2.
  gt = {{2, 3, left, false}, {1, 3, left, false}};
  dt = {{2, 3, 0.7, right}, {1, 3, 0.7, left}};
  r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr, flat);
  REQUIRE(r);
  CHECK(r->per_class[3].ap == 0.25);
  // Within an image a group-of entry follows the detections, so at equal score it ranks before
  // the image's FP → precision 1 at recall 1/2 (GT: the group plus an unmatched box).
  gt = {{1, 3, {0.0f, 0.0f, 0.5f, 1.0f}, true}, {1, 3, right, false}};
  dt = {{1, 3, 0.9, {0.0f, 0.0f, 0.1f, 0.1f}}, {1, 3, 0.9, {0.6f, 0.0f, 0.9f, 0.3f}}};
  r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr, flat);
  REQUIRE(r);
  CHECK(r->per_class[3].num_gt == 2.0);
  CHECK(r->per_class[3].ap == 0.5);
}

TEST_CASE("open_images_eval: invalid boxes are dropped and counted; bad class index is an error",
          "[open_images_eval]") {
  std::vector<oi_gt_box> gt = {{1, 3, left, false}};
  std::vector<oi_detection> dt = {{1, 3, 0.9, {0.5f, 0.5f, 0.4f, 0.6f}}, {1, 3, 0.8, left}};
  auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                            {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(r);
  CHECK(r->detections_invalid_box == 1);
  CHECK(r->per_class[3].ap == 1.0);
  dt.push_back({1, 9, 0.5, left});
  auto bad = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                              {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == detkit::errc::eval_unknown_category);
}

TEST_CASE("detection_files: predictions CSV and per-image text files", "[open_images_eval]") {
  const std::string dir = detkit_test::work_dir("detection_files");
  detkit_test::write_text(dir + "/pred.csv",
                          "ImageID,LabelName,Score,XMin,XMax,YMin,YMax\n"
                          "0001eeaf4aed83f9,/m/0cmf2,0.5,0.1,0.9,0.2,0.8\n");
  auto p = detkit::try_read_oi_predictions(dir + "/pred.csv");
  REQUIRE(p);
  REQUIRE(p->size() == 1);
  CHECK((*p)[0].image_id == 0x0001eeaf4aed83f9ull);
  CHECK((*p)[0].box.x2 == 0.9f);
  CHECK((*p)[0].box.y1 == 0.2f);
  detkit_test::write_text(dir + "/bad.csv",
                          "ImageID,LabelName,Score,XMin,XMax,YMin,YMax\n"
                          "0001eeaf4aed83f9,/m/0cmf2,high,0.1,0.9,0.2,0.8\n");
  auto bad = detkit::try_read_oi_predictions(dir + "/bad.csv");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 2);
  CHECK(bad.error().field == "Score");

  auto t = detkit::try_parse_text_detections("# comment\nbed 0.9 1 2 30 40\n\nchair 0.5 0 0 1 1\n",
                                             "dets/img7.txt");
  REQUIRE(t);
  REQUIRE(t->size() == 2);
  CHECK((*t)[0].image == "img7");
  CHECK((*t)[1].label == "chair");
  CHECK((*t)[0].y2 == 40.0);
  auto tb = detkit::try_parse_text_detections("bed 0.9 1 2 x 40\n", "dets/img7.txt");
  REQUIRE_FALSE(tb);
  CHECK(
      tb.error().to_string() ==
      "dets/img7.txt:1:13: error: field 'x2': expected a number, got 'x' [detkit.csv.bad_number]");
}

TEST_CASE("open_images_eval: a NaN or infinite score is refused, not ranked",
          "[open_images_eval]") {
  std::vector<oi_gt_box> gt = {{1, 3, left, false}};
  for (double bad : {std::nan(""), HUGE_VAL}) {
    std::vector<oi_detection> dt = {{1, 3, 0.9, left}, {1, 3, bad, right}};
    auto r = detkit::try_evaluate_open_images(gt, {}, dt, 4, nullptr,
                                              {0.5, 1.0, detkit::hierarchy_expansion::none});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::eval_bad_value);
  }
}

TEST_CASE("open_images_eval: score_cutoff evaluates exactly the detections a filter would keep",
          "[open_images_eval]") {
  // Two images; the cutoff 0.75 removes a TP (0.7) and an FP (0.6), keeps the rest.
  const std::vector<oi_gt_box> gt = {
      {1, 3, left, false}, {1, 3, right, false}, {2, 3, left, false}};
  const std::vector<oi_detection> all = {{1, 3, 0.9, left},
                                         {1, 3, 0.6, {0.1f, 0.6f, 0.2f, 0.7f}},
                                         {1, 3, 0.7, right},
                                         {2, 3, 0.8, {0.6f, 0.6f, 0.9f, 0.9f}},
                                         {2, 3, 0.75, left}};
  detkit::oi_eval_options opt{0.5, 1.0, detkit::hierarchy_expansion::none};
  opt.score_cutoff = 0.75;
  auto cut = detkit::try_evaluate_open_images(gt, {}, all, 4, nullptr, opt);
  REQUIRE(cut);
  // By hand: kept 0.9 TP (image 1), 0.8 FP and 0.75 TP (image 2) of 3 GT: precision 1, 1/2, 2/3
  // at recall 1/3, 1/3, 2/3 -> AP = 1/3 * 1 + 1/3 * 2/3.
  CHECK(cut->per_class[3].ap == Approx(1.0 / 3.0 + 2.0 / 9.0).epsilon(1e-15));
  CHECK(cut->per_class[3].true_positives == 2);
  CHECK(cut->per_class[3].false_positives == 1);
  CHECK(cut->detections_read == 5);
  CHECK(cut->detections_below_score_cutoff == 2);

  std::vector<oi_detection> kept;
  for (const auto& d : all)
    if (d.score >= 0.75) kept.push_back(d);
  auto filtered = detkit::try_evaluate_open_images(gt, {}, kept, 4, nullptr,
                                                   {0.5, 1.0, detkit::hierarchy_expansion::none});
  REQUIRE(filtered);
  CHECK(filtered->per_class[3].ap == cut->per_class[3].ap);
  CHECK(filtered->map == cut->map);

  opt.score_cutoff = std::nan("");
  auto nan = detkit::try_evaluate_open_images(gt, {}, all, 4, nullptr, opt);
  REQUIRE_FALSE(nan);
  CHECK(nan.error().code == detkit::errc::eval_bad_params);
}

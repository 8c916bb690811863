#include <catch2/catch.hpp>

#include "detkit/box.hpp"

using namespace detkit;

TEST_CASE("box: Open Images XXYY_REL to XYXY_ABS", "[box]") {
  // Real row of the Bed fixture: 0.182,0.9985229,0.3,0.95 on a 1024x683 image.
  const box_xxyy_rel oi{0.25f, 0.75f, 0.1f, 0.9f};
  const box_xyxy_abs b = to_xyxy_abs(oi, image_size{1024, 683});
  CHECK(b.x1 == 256.0f);
  CHECK(b.x2 == 768.0f);
  CHECK(b.y1 == Approx(68.3));
  CHECK(b.y2 == Approx(614.7));
}

TEST_CASE("box: recipe rounding is float32 multiply + round half to even", "[box]") {
  // 0.5 * 5 = 2.5 → 2 (half to even); 0.7 * 5 = 3.5 → 4; 0.1 * 15 = 1.5 → 2.
  const box_xyxy_rel r{0.5f, 0.7f, 0.1f, 0.3f};
  const box_xyxy_abs b = to_xyxy_abs(r, image_size{5, 5}, rounding_policy::detectron2_recipe);
  CHECK(b.x1 == 2.0f);
  CHECK(b.y1 == 4.0f);
  const box_xyxy_abs c = to_xyxy_abs(box_xyxy_rel{0.1f, 0.1f, 0.1f, 0.1f}, image_size{15, 15},
                                     rounding_policy::detectron2_recipe);
  // float32(0.1)*15 = 1.5000000223 → 2
  CHECK(c.x1 == 2.0f);
  const box_xyxy_abs n = to_xyxy_abs(r, image_size{5, 5});
  CHECK(n.x1 == 2.5f);
}

TEST_CASE("box: XYWH round trip, area, IoU, IoA", "[box]") {
  const box_xyxy_abs a{10, 20, 30, 60};
  const box_xywh_abs w = to_xywh_abs(a);
  CHECK(w.w == 20.0f);
  CHECK(w.h == 40.0f);
  const box_xyxy_abs back = to_xyxy_abs(w);
  CHECK(back.x2 == 30.0f);
  CHECK(area(a) == 800.0);
  CHECK(area(box_xyxy_abs{5, 5, 4, 9}) == 0.0);
  CHECK(iou(a, a) == 1.0);
  const box_xyxy_abs b{20, 20, 40, 60};  // overlaps half of a
  CHECK(iou(a, b) == Approx(400.0 / 1200.0));
  CHECK(ioa(box_xyxy_abs{0, 0, 10, 10}, box_xyxy_abs{5, 0, 100, 100}) == 0.5);
  CHECK(iou(a, box_xyxy_abs{100, 100, 110, 110}) == 0.0);
  CHECK(box_mode_name(box_mode::xyxy_abs) == "XYXY_ABS");
  CHECK(static_cast<int>(box_mode::xywh_abs) == 1);  // Detectron2's BoxMode numbering
}

TEST_CASE("box: absolute to relative", "[box]") {
  const box_xyxy_rel r = to_xyxy_rel(box_xyxy_abs{256, 0, 768, 683}, image_size{1024, 683});
  CHECK(r.x1 == 0.25f);
  CHECK(r.y2 == 1.0f);
  const box_xyxy_rel z = to_xyxy_rel(box_xyxy_abs{1, 1, 2, 2}, image_size{0, 0});
  CHECK(z.x2 == 0.0f);
}

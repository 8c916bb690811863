// detkit/box.hpp — box modes as types, conversions between them, area and IoU.
//
// Mirrors Detectron2's BoxMode (XYXY_ABS, XYWH_ABS, XYXY_REL) plus Open Images' own column order
// XMin,XMax,YMin,YMax (XXYY_REL). The mode is in the type, so passing a relative box where an
// absolute one is required does not compile. Conversions follow continuous coordinates (no +1 pixel).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE

/// Runtime names of the modes, numbered as Detectron2's BoxMode so that JSON written by either
/// tool means the same thing.
enum class box_mode : std::uint8_t {
  xyxy_abs = 0,   // Detectron2 BoxMode.XYXY_ABS
  xywh_abs = 1,   // Detectron2 BoxMode.XYWH_ABS (COCO)
  xyxy_rel = 2,   // Detectron2 BoxMode.XYXY_REL
  xxyy_rel = 100  // Open Images CSV column order; not a Detectron2 mode
};

/// "XYXY_ABS", "XYWH_ABS", "XYXY_REL", "XXYY_REL".
constexpr std::string_view box_mode_name(box_mode m) noexcept {
  switch (m) {
    case box_mode::xyxy_abs:
      return "XYXY_ABS";
    case box_mode::xywh_abs:
      return "XYWH_ABS";
    case box_mode::xyxy_rel:
      return "XYXY_REL";
    case box_mode::xxyy_rel:
      return "XXYY_REL";
  }
  return "?";
}

/// Image size in pixels.
struct image_size {
  std::int32_t width = 0;   // px
  std::int32_t height = 0;  // px
};

struct box_xyxy_abs {
  float x1, y1, x2, y2;  // px; (x1,y1) top-left, (x2,y2) bottom-right
};
struct box_xywh_abs {
  float x, y, w, h;  // px; top-left corner and size (COCO)
};
struct box_xyxy_rel {
  float x1, y1, x2, y2;  // fractions of width/height in [0,1]
};
struct box_xxyy_rel {
  float x_min, x_max, y_min, y_max;  // Open Images CSV order, fractions in [0,1]
};

/// How relative coordinates become pixels.
enum class rounding_policy : std::uint8_t {
  none,              // exact product in double, stored as float (default)
  detectron2_recipe  // float32 multiply, then round half to even: reproduces the recipe's
                     // `np.round(np.float32([XMin,YMin,XMax,YMax]) * [W,H,W,H])` labels
};

DETKIT_HD box_xyxy_rel to_xyxy_rel(box_xxyy_rel b) { return {b.x_min, b.y_min, b.x_max, b.y_max}; }

namespace detail {
DETKIT_HD float scale_coordinate(float rel, std::int32_t size, rounding_policy policy) {
  if (policy == rounding_policy::detectron2_recipe) {
    // rintf rounds half to even in the default rounding mode, as np.round does.
    return std::rint(rel * static_cast<float>(size));
  }
  return static_cast<float>(static_cast<double>(rel) * static_cast<double>(size));
}
}  // namespace detail

/// Relative → absolute pixels.
DETKIT_HD box_xyxy_abs to_xyxy_abs(box_xyxy_rel b, image_size s,
                                   rounding_policy policy = rounding_policy::none) {
  return {detail::scale_coordinate(b.x1, s.width, policy),
          detail::scale_coordinate(b.y1, s.height, policy),
          detail::scale_coordinate(b.x2, s.width, policy),
          detail::scale_coordinate(b.y2, s.height, policy)};
}
DETKIT_HD box_xyxy_abs to_xyxy_abs(box_xxyy_rel b, image_size s,
                                   rounding_policy policy = rounding_policy::none) {
  return to_xyxy_abs(to_xyxy_rel(b), s, policy);
}
DETKIT_HD box_xyxy_abs to_xyxy_abs(box_xywh_abs b) { return {b.x, b.y, b.x + b.w, b.y + b.h}; }

DETKIT_HD box_xywh_abs to_xywh_abs(box_xyxy_abs b) {
  return {b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1};
}

/// Absolute → relative (divides by the image size; a zero size gives zeros, never inf).
DETKIT_HD box_xyxy_rel to_xyxy_rel(box_xyxy_abs b, image_size s) {
  const double w = s.width > 0 ? 1.0 / s.width : 0.0;
  const double h = s.height > 0 ? 1.0 / s.height : 0.0;
  return {static_cast<float>(static_cast<double>(b.x1) * w),
          static_cast<float>(static_cast<double>(b.y1) * h),
          static_cast<float>(static_cast<double>(b.x2) * w),
          static_cast<float>(static_cast<double>(b.y2) * h)};
}

namespace detail {
DETKIT_HD double as_double(float v) { return static_cast<double>(v); }
// Overlap of [a1,a2] and [b1,b2]; negative when disjoint.
DETKIT_HD double overlap(float a1, float a2, float b1, float b2) {
  return std::fmin(as_double(a2), as_double(b2)) - std::fmax(as_double(a1), as_double(b1));
}
}  // namespace detail

/// Area in px²; an inverted box has area 0.
DETKIT_HD double area(box_xyxy_abs b) {
  const double w = detail::as_double(b.x2) - detail::as_double(b.x1);
  const double h = detail::as_double(b.y2) - detail::as_double(b.y1);
  return (w > 0 && h > 0) ? w * h : 0.0;
}
DETKIT_HD double area(box_xywh_abs b) {
  return (b.w > 0 && b.h > 0) ? detail::as_double(b.w) * detail::as_double(b.h) : 0.0;
}

/// Intersection over union on continuous coordinates; 0 when the union is empty.
DETKIT_HD double iou(box_xyxy_abs a, box_xyxy_abs b) {
  const double iw = detail::overlap(a.x1, a.x2, b.x1, b.x2);
  const double ih = detail::overlap(a.y1, a.y2, b.y1, b.y2);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni = area(a) + area(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

/// Intersection over the area of `det` (Open Images group-of matching).
DETKIT_HD double ioa(box_xyxy_abs det, box_xyxy_abs gt) {
  const double iw = detail::overlap(det.x1, det.x2, gt.x1, gt.x2);
  const double ih = detail::overlap(det.y1, det.y2, gt.y1, gt.y2);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double a = area(det);
  return a > 0 ? iw * ih / a : 0.0;
}

DETKIT_END_NAMESPACE

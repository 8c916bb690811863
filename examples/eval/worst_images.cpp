// examples/eval/worst_images.cpp — see worst_images.hpp.
#include "eval/worst_images.hpp"

#include <cstdio>

#include "common/palette.hpp"

#if DETKIT_EVAL_HAS_STB
#include <stb_image.h>
#include <stb_image_write.h>
#endif

namespace detkit_eval {

namespace {

// Each box's kind decides its colour; its label says the kind, the class and (detections) the
// score, and a legend names the colours, so a miss reads differently from a false positive.

detkit_draw::rgb kind_color(box_kind k) {
  switch (k) {
    case box_kind::matched_gt:
      return detkit_cli::palette_rgb(2);  // green
    case box_kind::missed_gt:
      return detkit_cli::palette_rgb(1);  // orange
    case box_kind::true_positive:
      return detkit_cli::palette_rgb(0);  // blue
    case box_kind::false_positive:
      break;
  }
  return detkit_cli::palette_rgb(3);  // red
}

// A COCO [x, y, w, h] box as drawing corners (float pixels are plenty for a picture).
detkit::box_xyxy_abs corners(const detkit::coco_bbox& b) {
  return detkit::to_xyxy_abs(detkit::box_xywh_abs{static_cast<float>(b.x), static_cast<float>(b.y),
                                                  static_cast<float>(b.w),
                                                  static_cast<float>(b.h)});
}

}  // namespace

detkit_draw::labelled_box worst_box(const detkit::coco_bbox& box, box_kind kind,
                                    const std::string& class_name, double score) {
  static const char* const tags[] = {"GT", "MISSED", "TP", "FP"};
  std::string text = class_name;
  if (kind == box_kind::true_positive || kind == box_kind::false_positive) {
    char s[16];
    std::snprintf(s, sizeof s, " %.2f", score);
    text += s;
  }
  text += std::string(" ") + tags[static_cast<int>(kind)];
  const detkit::box_xyxy_abs b = corners(box);
  return {b.x1, b.y1, b.x2, b.y2, kind_color(kind), text};
}

// Returns false (with a message on stderr) when the image cannot be drawn.
bool draw_image(const std::string& in, const std::string& out,
                const std::vector<detkit_draw::labelled_box>& boxes) {
#if DETKIT_EVAL_HAS_STB
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load(in.c_str(), &w, &h, &n, 3);
  if (!px) {
    std::fprintf(stderr, "detkit-eval: %s: cannot read image (%s); not drawn\n", in.c_str(),
                 stbi_failure_reason());
    return false;
  }
  // The legend's strip is added under the picture, scaled for the picture's own size.
  std::vector<unsigned char> pixels(
      px, px + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  stbi_image_free(px);
  detkit_draw::draw_labelled_boxes(pixels.data(), w, h, boxes);
  detkit_draw::append_legend(pixels, w, h,
                             {{"GT MATCHED", kind_color(box_kind::matched_gt)},
                              {"GT MISSED", kind_color(box_kind::missed_gt)},
                              {"DETECTION TP", kind_color(box_kind::true_positive)},
                              {"DETECTION FP", kind_color(box_kind::false_positive)}});
  const std::string tmp = out + ".tmp";
  if (!stbi_write_png(tmp.c_str(), w, h, 3, pixels.data(), w * 3) ||
      std::rename(tmp.c_str(), out.c_str()) != 0) {
    std::remove(tmp.c_str());
    std::fprintf(stderr, "detkit-eval: %s: cannot write PNG\n", out.c_str());
    return false;
  }
  return true;
#else
  (void)in;
  (void)out;
  (void)boxes;
  std::fprintf(stderr, "detkit-eval: built without stb (libstb-dev): images not drawn\n");
  return false;
#endif
}

}  // namespace detkit_eval

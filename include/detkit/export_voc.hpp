// detkit/export_voc.hpp — a label_set as Pascal VOC annotation XML: one `<image stem>.xml` per
// image with all its objects (the layout of VOCdevkit's Annotations/ folder, read by
// torchvision.datasets.VOCDetection, mmdetection's XMLDataset and labelImg).
//
//   <annotation><folder/><filename>ID.jpg</filename><source><database>Open Images</database>
//   </source><size><width/><height/><depth>3</depth></size><segmented>0</segmented>
//   <object><name>Bed</name><pose>Unspecified</pose><truncated>0|1</truncated>
//   <occluded>0|1</occluded><difficult>0</difficult>
//   <bndbox><xmin/><ymin/><xmax/><ymax/></bndbox></object>...</annotation>
//
// Coordinates are detkit's XYXY_ABS pixel edges written as float32 text (shortest round trip),
// not VOC's rounded 1-based integers: rounding would move boxes by up to a pixel and readers
// (mmdetection: int(float(text)), torchvision: strings) accept decimals. truncated/occluded are
// 1 only when Open Images says 1 (-1 = unknown is written as 0 and is the VOC default).
// Every image needs its size (errc::usage otherwise). Names are XML-escaped
// ("Kitchen &amp; dining room table"). Each file is written through atomic_file.
#pragma once

#include <string>
#include <string_view>

#include "detkit/atomic_file.hpp"
#include "detkit/detail/export_files.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

namespace detail {

inline void xml_append_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace detail

/// The VOC XML of one image. `classes` gives the object names (category id = index).
inline std::string to_voc_xml(const image_record& img, const std::vector<class_info>& classes) {
  std::string out = "<annotation>\n  <folder></folder>\n  <filename>";
  detail::xml_append_text(out, img.file_name);
  out += "</filename>\n  <source><database>Open Images</database><image_id>";
  detail::xml_append_text(out, img.image_id);
  out += "</image_id></source>\n  <size><width>";
  detail::json_append_int(out, img.size.width);
  out += "</width><height>";
  detail::json_append_int(out, img.size.height);
  out += "</height><depth>3</depth></size>\n  <segmented>0</segmented>\n";
  for (const label_box& b : img.boxes) {
    out += "  <object>\n    <name>";
    const auto c = static_cast<std::size_t>(b.category_id);
    detail::xml_append_text(
        out, c < classes.size() ? std::string_view(classes[c].name) : std::string_view("?"));
    out += "</name>\n    <pose>Unspecified</pose>\n    <truncated>";
    out += b.flags.truncated == tri_flag::yes ? '1' : '0';
    out += "</truncated>\n    <occluded>";
    out += b.flags.occluded == tri_flag::yes ? '1' : '0';
    out += "</occluded>\n    <difficult>0</difficult>\n    <bndbox><xmin>";
    detail::json_append_float(out, b.abs.x1);
    out += "</xmin><ymin>";
    detail::json_append_float(out, b.abs.y1);
    out += "</ymin><xmax>";
    detail::json_append_float(out, b.abs.x2);
    out += "</xmax><ymax>";
    detail::json_append_float(out, b.abs.y2);
    out += "</ymax></bndbox>\n  </object>\n";
  }
  out += "</annotation>\n";
  return out;
}

/// Writes `<dir>/<stem>.xml` for every image (folders created). Errors: usage (an image without
/// a size, a category id outside the class list, two images with one stem), io_write.
[[nodiscard]] inline result<void> try_write_voc_xml(const std::string& dir,
                                                    const label_set& labels) {
  if (auto r = detail::try_require_sizes(labels, "VOC XML"); !r) return r;
  for (const auto& img : labels.images) {
    for (const auto& b : img.boxes) {
      if (b.category_id < 0 || static_cast<std::size_t>(b.category_id) >= labels.classes.size()) {
        return make_error(errc::usage, "image '" + img.image_id + "': category_id " +
                                           std::to_string(b.category_id) +
                                           " is outside the class list");
      }
    }
  }
  return detail::try_write_per_image_files(dir, labels, ".xml", [&](const image_record& img) {
    return to_voc_xml(img, labels.classes);
  });
}

DETKIT_END_NAMESPACE

// detkit/export_yolo.hpp — a label_set as YOLO (darknet / ultralytics) labels: one
// `<image stem>.txt` per image with all its boxes, one line each,
//   `<class> <x_center> <y_center> <width> <height>`   (fractions of the image size, in [0,1])
// and a names file (one class name per line, line k = class k), as darknet's `.names` and
// ultralytics' `names:` list expect. Images without boxes (verified negatives) get an empty
// file: YOLO trainers read that as a background image. Boxes come from the relative coordinates
// Open Images publishes, so no image size is needed. Values are float32, shortest round-trip text.
// Each file is written through atomic_file (never half-written).
#pragma once

#include <string>

#include "detkit/atomic_file.hpp"
#include "detkit/detail/export_files.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// The YOLO text of one image (one line per box).
inline std::string to_yolo_text(const image_record& img) {
  std::string out;
  for (const label_box& b : img.boxes) {
    const float cx = (b.rel.x1 + b.rel.x2) * 0.5f, cy = (b.rel.y1 + b.rel.y2) * 0.5f;
    const float w = b.rel.x2 - b.rel.x1, h = b.rel.y2 - b.rel.y1;
    detail::json_append_int(out, b.category_id);
    for (float v : {cx, cy, w, h}) {
      out += ' ';
      detail::json_append_float(out, v);
    }
    out += '\n';
  }
  return out;
}

/// Writes `<dir>/<stem>.txt` for every image and `<dir>/<names_file>` (folders created).
/// Errors: usage (two images with the same file stem), io_write.
///
///     detkit::try_write_yolo_labels("yolo/labels", labels, "classes.names");
[[nodiscard]] inline result<void> try_write_yolo_labels(
    const std::string& dir, const label_set& labels,
    const std::string& names_file = "classes.names") {
  if (auto r = detail::try_write_per_image_files(dir, labels, ".txt", to_yolo_text); !r) return r;
  std::string names;
  for (const auto& c : labels.classes) names += c.name + "\n";
  return try_write_file_atomically(dir + "/" + names_file, names);
}

DETKIT_END_NAMESPACE

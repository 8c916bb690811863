// detkit/export_coco.hpp — a label_set as a COCO "instances" JSON file (images, annotations,
// categories), the format pycocotools, Detectron2's register_coco_instances, mmdetection and
// YOLOX read.
//
// Mapping (COCO's data format page, https://cocodataset.org/#format-data):
//   images[k]      = {"id": k + 1, "file_name", "width", "height", "oi_image_id": ImageID}
//   annotations[j] = {"id": j + 1, "image_id", "category_id": detkit category + 1,
//                     "bbox": [x, y, w, h] (XYWH_ABS, float32 text), "area": w * h,
//                     "iscrowd": 0, "oi_group_of": 0|1|-1}
//   categories[c]  = {"id": c + 1, "name", "supercategory": "none", "oi_mid": MID}
// Ids start at 1 because pycocotools treats 0 as "no id" in places. Group-of boxes are NOT
// written as iscrowd = 1: COCO crowd regions change how IoU is computed in evaluation, Open
// Images' group-of rule is different; the flag is kept as "oi_group_of" for whoever needs it.
// All of an image's classes are in the one file. Every image needs its size (COCO has no
// relative boxes): an image without one is an errc::usage error naming it.
// Floats are shortest round-trip float32 text (detectron2_json.hpp's writer), and the file is
// written through atomic_file: all or nothing.
#pragma once

#include <string>

#include "detkit/atomic_file.hpp"
#include "detkit/detail/export_files.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// Writes `labels` as COCO instances JSON to `path`. Errors: usage (an image without a size),
/// io_write.
///
///     if (auto r = detkit::try_write_coco_json("instances_train.json", labels); !r) ...
[[nodiscard]] inline result<void> try_write_coco_json(const std::string& path,
                                                      const label_set& labels) {
  if (auto r = detail::try_require_sizes(labels, "COCO JSON"); !r) return r;
  atomic_file out;
  if (auto r = out.try_open(path); !r) return r;
  constexpr std::size_t flush_at = 1u << 20;
  std::string buf = "{\"images\": [";
  for (std::size_t i = 0; i < labels.images.size(); ++i) {
    const image_record& img = labels.images[i];
    buf += i ? ",\n" : "\n";
    buf += "{\"id\": ";
    detail::json_append_int(buf, static_cast<std::int64_t>(i + 1));
    buf += ", \"file_name\": ";
    detail::json_append_string(buf, img.file_name);
    buf += ", \"width\": ";
    detail::json_append_int(buf, img.size.width);
    buf += ", \"height\": ";
    detail::json_append_int(buf, img.size.height);
    buf += ", \"oi_image_id\": ";
    detail::json_append_string(buf, img.image_id);
    buf += '}';
    if (buf.size() >= flush_at) {
      out.write(buf);
      buf.clear();
    }
  }
  buf += "],\n\"annotations\": [";
  std::int64_t ann_id = 0;
  for (std::size_t i = 0; i < labels.images.size(); ++i) {
    for (const label_box& b : labels.images[i].boxes) {
      const float w = b.abs.x2 - b.abs.x1, h = b.abs.y2 - b.abs.y1;
      buf += ann_id ? ",\n" : "\n";
      buf += "{\"id\": ";
      detail::json_append_int(buf, ++ann_id);
      buf += ", \"image_id\": ";
      detail::json_append_int(buf, static_cast<std::int64_t>(i + 1));
      buf += ", \"category_id\": ";
      detail::json_append_int(buf, b.category_id + 1);
      buf += ", \"bbox\": [";
      detail::json_append_float(buf, b.abs.x1);
      buf += ", ";
      detail::json_append_float(buf, b.abs.y1);
      buf += ", ";
      detail::json_append_float(buf, w);
      buf += ", ";
      detail::json_append_float(buf, h);
      buf += "], \"area\": ";
      detail::json_append_float(buf, w * h);
      buf += ", \"iscrowd\": 0, \"oi_group_of\": ";
      detail::json_append_int(buf, static_cast<std::int64_t>(b.flags.group_of));
      buf += '}';
      if (buf.size() >= flush_at) {
        out.write(buf);
        buf.clear();
      }
    }
  }
  buf += "],\n\"categories\": [";
  for (std::size_t c = 0; c < labels.classes.size(); ++c) {
    buf += c ? ",\n" : "\n";
    buf += "{\"id\": ";
    detail::json_append_int(buf, static_cast<std::int64_t>(c + 1));
    buf += ", \"name\": ";
    detail::json_append_string(buf, labels.classes[c].name);
    buf += ", \"supercategory\": \"none\", \"oi_mid\": ";
    detail::json_append_string(buf, labels.classes[c].mid);
    buf += '}';
  }
  buf += "]}\n";
  out.write(buf);
  return out.commit();
}

/// Throwing spelling of try_write_coco_json.
inline void write_coco_json(const std::string& path, const label_set& labels) {
  try_write_coco_json(path, labels).value();
}

DETKIT_END_NAMESPACE

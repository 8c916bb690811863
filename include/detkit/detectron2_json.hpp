// detkit/detectron2_json.hpp — a label_set as Detectron2-style dataset dicts in JSON.
//
// Mirrors what the recipe saved with json.dump (notebook 07, get_image_dicts):
//   [{"file_name": ..., "image_id": "<Open Images ImageID>", "height": H, "width": W,
//     "annotations": [{"bbox": [x1, y1, x2, y2], "bbox_mode": "XYXY_ABS", "category_id": k}]}]
// bbox_mode is written as the name by default (a loader does BoxMode[d["bbox_mode"]]), or as
// Detectron2's enum integer with bbox_mode_text::integer, which needs no mapping (see there). Floats are printed with std::to_chars
// (shortest text that reads back to the same float32), so np.float32(json value) == the stored
// box, bit for bit. The file is written through atomic_file: all or nothing.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "detkit/atomic_file.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// How "bbox_mode" is written. name: "XYXY_ABS" (readable; a loader maps it with
/// BoxMode[d["bbox_mode"]]). integer: 0, Detectron2's BoxMode.XYXY_ABS value — its dataset docs ask
/// for "bbox_mode (int)", json.dump(BoxMode.XYXY_ABS) writes 0, and after json.load the 0 compares
/// equal to the IntEnum in BoxMode.convert, so the file feeds DatasetMapper with no mapping step
/// (a string there raises NotImplementedError).
enum class bbox_mode_text : std::uint8_t { name, integer };

namespace detail {

inline void json_append_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
      }
    } else {
      out += ch;  // UTF-8 passes through
    }
  }
  out += '"';
}

// Shortest round-trip text of a float32; JSON has no NaN/inf, those become null.
inline void json_append_float(std::string& out, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  if (r.ec != std::errc() || text.find_first_of("ni") != std::string_view::npos) {
    out += "null";
    return;
  }
  // "-0" is an integer to Python's json module and loses its sign; "-0.0" keeps it.
  out += text == "-0" ? std::string_view("-0.0") : text;
}

inline void json_append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

inline void json_append_image(std::string& out, const image_record& img,
                              bbox_mode_text mode = bbox_mode_text::name) {
  out += "{\"file_name\": ";
  json_append_string(out, img.file_name);
  out += ", \"image_id\": ";
  json_append_string(out, img.image_id);
  out += ", \"height\": ";
  json_append_int(out, img.size.height);
  out += ", \"width\": ";
  json_append_int(out, img.size.width);
  out += ", \"annotations\": [";
  for (std::size_t b = 0; b < img.boxes.size(); ++b) {
    const label_box& box = img.boxes[b];
    if (b) out += ", ";
    out += "{\"bbox\": [";
    json_append_float(out, box.abs.x1);
    out += ", ";
    json_append_float(out, box.abs.y1);
    out += ", ";
    json_append_float(out, box.abs.x2);
    out += ", ";
    json_append_float(out, box.abs.y2);
    out += mode == bbox_mode_text::name ? "], \"bbox_mode\": \"XYXY_ABS\", \"category_id\": "
                                        : "], \"bbox_mode\": 0, \"category_id\": ";
    json_append_int(out, box.category_id);
    out += '}';
  }
  out += "]}";
}

}  // namespace detail

/// The whole JSON document as a string (one image per line, for diffs and grep).
inline std::string to_detectron2_json(const label_set& labels,
                                      bbox_mode_text mode = bbox_mode_text::name) {
  std::string out = "[";
  for (std::size_t i = 0; i < labels.images.size(); ++i) {
    out += i ? ",\n" : "\n";
    detail::json_append_image(out, labels.images[i], mode);
  }
  out += labels.images.empty() ? "]\n" : "\n]\n";
  return out;
}

/// Writes the JSON to `path` atomically (temp file + rename), streaming in ~1 MiB pieces so the
/// 1.7M-image train split never exists as one string. Errors: io_write.
///
///     if (auto r = detkit::try_write_detectron2_json("train.json", labels); !r) ...
[[nodiscard]] inline result<void> try_write_detectron2_json(
    const std::string& path, const label_set& labels, bbox_mode_text mode = bbox_mode_text::name) {
  atomic_file out;
  if (auto r = out.try_open(path); !r) return r;
  std::string buf = "[";
  constexpr std::size_t flush_at = 1u << 20;
  for (std::size_t i = 0; i < labels.images.size(); ++i) {
    buf += i ? ",\n" : "\n";
    detail::json_append_image(buf, labels.images[i], mode);
    if (buf.size() >= flush_at) {
      out.write(buf);
      buf.clear();
    }
  }
  buf += labels.images.empty() ? "]\n" : "\n]\n";
  out.write(buf);
  return out.commit();
}

/// Throwing spelling of try_write_detectron2_json.
inline void write_detectron2_json(const std::string& path, const label_set& labels,
                                  bbox_mode_text mode = bbox_mode_text::name) {
  try_write_detectron2_json(path, labels, mode).value();
}

DETKIT_END_NAMESPACE

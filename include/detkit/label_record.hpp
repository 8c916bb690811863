// detkit/label_record.hpp — per-image label records: what detkit-prepare produces, the label cache
// stores, and training/evaluation read. Mirrors a Detectron2 dataset dict (file_name, image_id,
// height, width, annotations[{bbox, bbox_mode=XYXY_ABS, category_id}]) with Open Images' extras.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "detkit/box.hpp"

DETKIT_BEGIN_NAMESPACE

/// Open Images attribute flag: 1 present, 0 absent, -1 unknown (kept distinct from 0).
enum class tri_flag : std::int8_t { unknown = -1, no = 0, yes = 1 };

struct box_flags {
  tri_flag occluded = tri_flag::unknown;   // IsOccluded
  tri_flag truncated = tri_flag::unknown;  // IsTruncated
  tri_flag group_of = tri_flag::unknown;   // IsGroupOf
  tri_flag depiction = tri_flag::unknown;  // IsDepiction
  tri_flag inside = tri_flag::unknown;     // IsInside
};

/// One box of one image.
struct label_box {
  box_xyxy_rel rel{};  // as read from the CSV, fractions in [0,1]
  box_xyxy_abs abs{};  // XYXY_ABS in pixels; valid when the image size is known (width > 0)
  std::int32_t category_id = -1;  // index into label_set::classes (the user's class order)
  box_flags flags{};
};

/// All labels of one image.
struct image_record {
  std::string image_id;            // Open Images ImageID, 16 lowercase hex digits
  std::uint64_t image_id_u64 = 0;  // the same ID as a 64-bit number (fast joins)
  std::string file_name;  // path of the image file (relative to the image folder), may be empty
  image_size size{};      // from the JPEG/PNG header; {0,0} when no image was read
  std::vector<label_box> boxes;
};

/// One target class: its position in `label_set::classes` is its category id.
struct class_info {
  std::string mid;   // Freebase MID, e.g. "/m/03ssj5"
  std::string name;  // display name, e.g. "Bed"
};

/// A whole split's labels.
struct label_set {
  std::vector<class_info> classes;   // category id = index (the order of the user's class list)
  std::vector<image_record> images;  // sorted by image_id
};

DETKIT_END_NAMESPACE

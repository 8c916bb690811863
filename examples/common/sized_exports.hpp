// examples/common/sized_exports.hpp — which images go into an export that needs pixel boxes
// (Detectron2 JSON, COCO, VOC) or image files (YOLO). An image whose file was missing or unreadable
// when the sizes were read stays in the label cache flagged unsized (size 0 x 0), but a record
// with width 0, height 0 and boxes [0, 0, 0, 0] is one no trainer can use: the exports leave such
// images out and the program says how many.
#pragma once

#include <cstdio>
#include <string>

#include "detkit/detail/export_files.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

namespace detkit_cli {

inline bool has_size(const detkit::image_record& img) {
  return img.size.width > 0 && img.size.height > 0;
}

inline std::size_t count_unsized(const detkit::label_set& labels) {
  std::size_t n = 0;
  for (const auto& img : labels.images) n += has_size(img) ? 0 : 1;
  return n;
}

/// What an export needs of an image: its pixel size (Detectron2, COCO, VOC), or only its file
/// (YOLO's boxes are fractions; an unsized image among sized ones is one whose file is missing).
enum class export_needs { pixel_size, image_file };

/// Calls `write(labels)` with the images an export can take. When some images have a size and
/// others do not, the unsized ones are left out and "<program>: <what>: N of M images left out
/// ..." goes to stderr. When none has a size, a pixel_size export fails with the library's usage
/// error naming the first image (give the image folder); an image_file export takes them all.
template <class Write>
detkit::result<void> write_sized_images(const char* program, const std::string& what,
                                        const detkit::label_set& labels, export_needs needs,
                                        Write&& write) {
  const std::size_t unsized = count_unsized(labels);
  if (unsized == 0) return write(labels);
  if (unsized == labels.images.size()) {
    if (needs == export_needs::image_file) return write(labels);
    return detkit::detail::try_require_sizes(labels, what.c_str());
  }
  detkit::label_set sized;
  sized.classes = labels.classes;
  sized.images.reserve(labels.images.size() - unsized);
  for (const auto& img : labels.images)
    if (has_size(img)) sized.images.push_back(img);
  std::fprintf(
      stderr, "%s: %s: %zu of %zu images left out (no size: the image was missing or unreadable)\n",
      program, what.c_str(), unsized, labels.images.size());
  return write(sized);
}

}  // namespace detkit_cli

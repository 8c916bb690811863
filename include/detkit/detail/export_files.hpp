// detkit/detail/export_files.hpp — what the per-image exporters (YOLO, VOC) share: creating the
// output folder and the per-image file name (not API).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "detkit/atomic_file.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

/// Creates `dir` and its missing parents (mkdir -p). Errors: io_write naming the folder.
[[nodiscard]] inline result<void> try_make_directories(const std::string& dir) {
  std::string part;
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) {
        error e = make_error(errc::io_write,
                             std::string("cannot create folder: ") + std::strerror(errno));
        e.file = part;
        return e;
      }
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error e = make_error(errc::io_write, "not a folder");
    e.file = dir;
    return e;
  }
  return {};
}

/// The per-image label file's stem: file_name without folders and extension, or the ImageID.
inline std::string label_file_stem(const image_record& img) {
  std::string s = img.file_name.empty() ? img.image_id : img.file_name;
  const auto slash = s.find_last_of('/');
  if (slash != std::string::npos) s.erase(0, slash + 1);
  const auto dot = s.find_last_of('.');
  if (dot != std::string::npos && dot > 0) s.resize(dot);
  return s.empty() ? img.image_id : s;
}

/// Writes `<dir>/<stem><ext>` = render(image) for every image, each atomically, after creating
/// `dir`. Errors: usage (two images with the same stem), io_write.
template <class Render>
[[nodiscard]] result<void> try_write_per_image_files(const std::string& dir,
                                                     const label_set& labels, const char* ext,
                                                     Render render) {
  if (auto r = try_make_directories(dir); !r) return r;
  std::string prev;
  for (const auto& img : labels.images) {
    const std::string stem = label_file_stem(img);
    if (stem == prev) {
      return make_error(errc::usage, "two label files would be named '" + stem + ext + "'");
    }
    prev = stem;
    if (auto r = try_write_file_atomically(dir + "/" + stem + ext, render(img)); !r) return r;
  }
  return {};
}

/// Every image has a size (formats with pixel boxes need it). Errors: usage naming the image.
[[nodiscard]] inline result<void> try_require_sizes(const label_set& labels, const char* format) {
  for (const auto& img : labels.images) {
    if (img.size.width <= 0 || img.size.height <= 0) {
      return make_error(errc::usage, "image '" + img.image_id + "' has no size: " + format +
                                         " needs pixel boxes (read the sizes from the image "
                                         "folder first)");
    }
  }
  return {};
}

}  // namespace detail
DETKIT_END_NAMESPACE

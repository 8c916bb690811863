// detkit/detection_files.hpp — detector outputs that are not COCO JSON: the Open Images
// predictions CSV of the official challenge script (oid_challenge_evaluation.py) and per-image
// text files (`class score x1 y1 x2 y2` per line, one file per image, as darknet / the
// Cartucho mAP tool write them). Errors are located (file:line:column, field).
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detkit/box.hpp"
#include "detkit/csv.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/detail/parse_number.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// One row of `ImageID,LabelName,Score,XMin,XMax,YMin,YMax` (columns found by name).
struct oi_prediction {
  std::uint64_t image_id = 0;  // 16 hex digits as a number
  std::string label;           // MID as written
  double score = 0;
  box_xyxy_rel box{};  // from XMin, YMin, XMax, YMax
};

/// Parses an Open Images predictions CSV (csv_file::from_memory or try_open). Numbers must be
/// finite; ImageID 16 hex digits.
template <class = void>
[[nodiscard]] result<std::vector<oi_prediction>> try_parse_oi_predictions(const csv_file* f,
                                                                          csv_options opt = {}) {
  opt.header = header_mode::present;
  auto layout = try_read_layout(*f, opt);
  if (!layout) return std::move(layout).error();
  const char* names[7] = {"ImageID", "LabelName", "Score", "XMin", "XMax", "YMin", "YMax"};
  std::size_t c[7];
  for (int i = 0; i < 7; ++i) {
    auto idx = layout->try_find(names[i]);
    if (!idx) return std::move(idx).error();
    c[i] = *idx;
  }
  std::vector<oi_prediction> out;
  auto rep = try_scan(*f, *layout, opt, no_prefilter{}, [&](const csv_record& r, row_error& e) {
    oi_prediction p;
    if (!detail::parse_hex16(r[c[0]], p.image_id)) {
      e = {errc::oi_bad_image_id, c[0],
           "expected 16 hex digits, got '" + std::string(r[c[0]]) + "'"};
      return row_action::fail;
    }
    p.label = std::string(r[c[1]]);
    if (p.label.empty()) {
      e = {errc::csv_bad_value, c[1], "empty LabelName"};
      return row_action::fail;
    }
    if (detail::parse_double(r[c[2]], p.score) != errc::ok) {
      e = {errc::csv_bad_number, c[2], "expected a number, got '" + std::string(r[c[2]]) + "'"};
      return row_action::fail;
    }
    float v[4];
    for (int i = 0; i < 4; ++i) {
      const errc ec = detail::parse_float(r[c[3 + i]], v[i]);
      if (ec != errc::ok) {
        e = {ec, c[3 + i], "expected a number, got '" + std::string(r[c[3 + i]]) + "'"};
        return row_action::fail;
      }
    }
    p.box = {v[0], v[2], v[1], v[3]};  // XMin, YMin, XMax, YMax
    out.push_back(std::move(p));
    return row_action::keep;
  });
  if (!rep) return std::move(rep).error();
  return out;
}

/// Reads an Open Images predictions CSV `ImageID,LabelName,Score,XMin,XMax,YMin,YMax`.
template <class = void>
[[nodiscard]] result<std::vector<oi_prediction>> try_read_oi_predictions(const std::string& path,
                                                                         csv_options opt = {}) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  return try_parse_oi_predictions(&*f, std::move(opt));
}

/// One line of a per-image text file.
struct text_detection {
  std::string image;  // the file's name without directory and extension
  std::string label;  // class name, MID or numeric id as written (no spaces)
  double score = 0;
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // XYXY in the ground truth's coordinate system
};

namespace detail {
inline bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

// Parses one text file's bytes; `image` is its stem.
template <class = void>
result<void> parse_text_detections(std::string_view bytes, const std::string& file,
                                   const std::string& image, std::vector<text_detection>& out) {
  std::uint64_t line = 0;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    ++line;
    std::size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    const std::string_view text = bytes.substr(pos, end - pos);
    const std::size_t line_start = pos;
    pos = end + 1;
    std::string_view tok[7];
    std::size_t tok_col[7] = {0, 0, 0, 0, 0, 0, 0};
    std::size_t n = 0, i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_space(text[i])) ++i;
      if (i >= text.size()) break;
      const std::size_t s = i;
      while (i < text.size() && !is_space(text[i])) ++i;
      if (n < 7) {
        tok[n] = text.substr(s, i - s);
        tok_col[n] = s + 1;
      }
      ++n;
    }
    if (n == 0 || tok[0][0] == '#') continue;
    auto fail = [&](errc code, std::size_t col, std::string field, std::string msg) {
      error e = make_error(code, std::move(msg), std::move(field));
      e.file = file;
      e.line = line;
      e.column = col;
      (void)line_start;
      return e;
    };
    if (n != 6)
      return fail(errc::csv_field_count, 1, {},
                  "expected 6 fields 'class score x1 y1 x2 y2', got " + std::to_string(n));
    text_detection d;
    d.image = image;
    d.label = std::string(tok[0]);
    double* dst[5] = {&d.score, &d.x1, &d.y1, &d.x2, &d.y2};
    const char* field[5] = {"score", "x1", "y1", "x2", "y2"};
    for (int k = 0; k < 5; ++k) {
      if (parse_double(tok[k + 1], *dst[k]) != errc::ok)
        return fail(errc::csv_bad_number, tok_col[k + 1], field[k],
                    "expected a number, got '" + std::string(tok[k + 1]) + "'");
    }
    out.push_back(std::move(d));
  }
  return {};
}

inline std::string file_stem(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}
}  // namespace detail

/// Parses one per-image text file held in memory (image = stem of `file`).
template <class = void>
[[nodiscard]] result<std::vector<text_detection>> try_parse_text_detections(
    std::string_view bytes, const std::string& file) {
  std::vector<text_detection> out;
  auto r = detail::parse_text_detections(bytes, file, detail::file_stem(file), out);
  if (!r) return r.error();
  return out;
}

/// Reads every `*.txt` file of a directory (sorted by name), or one file.
template <class = void>
[[nodiscard]] result<std::vector<text_detection>> try_read_text_detections(
    const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error e = make_error(errc::io_open, "cannot open: no such file or directory");
    e.file = path;
    return e;
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(path.c_str());
    if (!dir) {
      error e = make_error(errc::io_open, "cannot open directory");
      e.file = path;
      return e;
    }
    while (dirent* ent = ::readdir(dir)) {
      const std::string name = ent->d_name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0)
        files.push_back(path + "/" + name);
    }
    ::closedir(dir);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<text_detection> out;
  for (const auto& f : files) {
    auto m = detail::mapped_file::try_open(f);
    if (!m) return std::move(m).error();
    auto r = detail::parse_text_detections(m->view(), f, detail::file_stem(f), out);
    if (!r) return r.error();
  }
  return out;
}

DETKIT_END_NAMESPACE

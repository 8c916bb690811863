// detkit/open_images_boxes.hpp — the Open Images box join: bbox CSV rows ⨝ target classes
// (exact MIDs) ⨝ optional image list → a label_set (per-image records, category ids in the order
// of the user's class list, flags with -1 = unknown kept distinct).
//
// Mirrors the recipe's preprocessing.py steps (read boxes, keep the target classes, map MIDs to
// names, keep the images in the folder), without its pitfalls:
// joins on whole LabelName fields (Bear /m/01dws never matches Waffle /m/01dwsz), category ids never
// depend on which classes happen to be present, -1 flags are not turned into True, and bad rows are
// located errors (strict) or counted skips (lenient), never silently dropped.
// Columns are found by name, so the 8-, 13- and 21-column headers all work, and so does the
// OIDv4_ToolKit layout `ImageID,XMin,XMax,YMin,YMax` (give join_options::label_for_all).
// Speed (csv.md §3): the LabelName field is checked before anything else is parsed (filter-first),
// the body is scanned by N threads, and only kept rows are converted (std::from_chars).
//
//     detkit::label_set labels;
//     detkit::join_options jo;  jo.csv.threads = 2;
//     auto report = detkit::try_join_boxes_file("train-annotations-bbox.csv", targets, jo, labels);
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detkit/box.hpp"
#include "detkit/csv.hpp"
#include "detkit/detail/id_set.hpp"
#include "detkit/detail/parse_number.hpp"
#include "detkit/label_record.hpp"
#include "detkit/open_images_classes.hpp"

DETKIT_BEGIN_NAMESPACE

/// A set of 64-bit ImageIDs (the image-list join).
using image_id_set = detail::u64_set;

/// How one attribute flag filters rows.
enum class flag_rule : std::uint8_t {
  any,          // keep every row (default)
  exclude_yes,  // drop rows where the flag is 1 (e.g. no group-of boxes)
  require_yes,  // keep only rows where the flag is 1
  require_no    // keep only rows where the flag is 0 (drops 1 and -1 = unknown)
};

/// Attribute filters, one rule per Open Images flag column.
struct attribute_filter {
  flag_rule occluded = flag_rule::any;
  flag_rule truncated = flag_rule::any;
  flag_rule group_of = flag_rule::any;
  flag_rule depiction = flag_rule::any;
  flag_rule inside = flag_rule::any;
};

struct join_options {
  csv_options csv{};  // threads, strict/lenient, limits, progress
  /// Keep only these images (nullptr: all).
  const image_id_set* images = nullptr;
  attribute_filter attributes{};
  /// When set, a LabelName that is not in this table is an oi_unknown_mid error (or skip) instead
  /// of a filtered row. Costs one extra hash lookup per rejected row.
  const class_table* known_classes = nullptr;
  /// For files without a LabelName column (OIDv4_ToolKit's `ImageID,XMin,XMax,YMin,YMax`): the MID
  /// every row belongs to. Ignored when the file has a LabelName column.
  std::string label_for_all;
};

namespace detail {

struct box_columns {
  std::size_t image_id = csv_layout::npos, label = csv_layout::npos;
  std::size_t x_min = csv_layout::npos, x_max = csv_layout::npos;
  std::size_t y_min = csv_layout::npos, y_max = csv_layout::npos;
  std::size_t flags[5] = {csv_layout::npos, csv_layout::npos, csv_layout::npos, csv_layout::npos,
                          csv_layout::npos};
};

inline const char* const flag_names[5] = {"IsOccluded", "IsTruncated", "IsGroupOf", "IsDepiction",
                                          "IsInside"};

inline bool parse_tri_flag(std::string_view s, tri_flag& out) noexcept {
  if (s == "0") {
    out = tri_flag::no;
  } else if (s == "1") {
    out = tri_flag::yes;
  } else if (s == "-1") {
    out = tri_flag::unknown;
  } else {
    return false;
  }
  return true;
}

inline bool flag_passes(flag_rule rule, tri_flag f) noexcept {
  switch (rule) {
    case flag_rule::any:
      return true;
    case flag_rule::exclude_yes:
      return f != tri_flag::yes;
    case flag_rule::require_yes:
      return f == tri_flag::yes;
    case flag_rule::require_no:
      return f == tri_flag::no;
  }
  return true;
}

// Per-chunk output: records in the chunk's file order.
struct join_chunk {
  std::vector<image_record> images;
};

inline void fail_row(row_error& e, errc code, std::size_t field, std::string message) {
  e.code = code;
  e.field = field;
  e.message = std::move(message);
}

}  // namespace detail

/// Sorts records by ImageID and merges records of the same image (boxes keep their file order).
/// Files are ImageID-sorted, so this is usually a no-op check.
template <class = void>
void normalize_label_set(label_set& set) {
  auto& v = set.images;
  auto less = [](const image_record& a, const image_record& b) {
    return a.image_id_u64 < b.image_id_u64;
  };
  if (!std::is_sorted(v.begin(), v.end(), less)) std::stable_sort(v.begin(), v.end(), less);
  std::size_t w = 0;
  for (std::size_t r = 0; r < v.size(); ++r) {
    if (w > 0 && v[w - 1].image_id_u64 == v[r].image_id_u64) {
      auto& dst = v[w - 1].boxes;
      dst.insert(dst.end(), v[r].boxes.begin(), v[r].boxes.end());
      continue;
    }
    if (w != r) v[w] = std::move(v[r]);
    ++w;
  }
  v.resize(w);
}

/// Fills every box's XYXY_ABS coordinates of `rec` from rec.size (no-op when the size is unknown).
inline void fill_absolute(image_record& rec, rounding_policy policy = rounding_policy::none) {
  if (rec.size.width <= 0 || rec.size.height <= 0) return;
  for (auto& b : rec.boxes) b.abs = to_xyxy_abs(b.rel, rec.size, policy);
}

/// Joins one bbox CSV with the target classes (category id = index in `targets`) and appends the
/// result to `out` (out.classes must be empty or equal to `targets`). Returns the read report.
template <class = void>
[[nodiscard]] result<read_report> try_join_boxes(const csv_file& file,
                                                 const std::vector<class_info>& targets,
                                                 const join_options& opt, label_set& out) {
  if (out.classes.empty()) {
    out.classes = targets;
  } else {
    bool same = out.classes.size() == targets.size();
    for (std::size_t i = 0; same && i < targets.size(); ++i)
      same = out.classes[i].mid == targets[i].mid;
    if (!same) {
      return make_error(errc::other, "try_join_boxes: label_set already holds another class list");
    }
  }
  csv_options copt = opt.csv;
  copt.header = header_mode::present;
  copt.pages = page_release::release;  // rows are copied out, so scanned pages can go
  auto layout = try_read_layout(file, copt);
  if (!layout) return std::move(layout).error();
  detail::box_columns col;
  for (auto [name, slot] : {std::pair<const char*, std::size_t*>{"ImageID", &col.image_id},
                            {"XMin", &col.x_min},
                            {"XMax", &col.x_max},
                            {"YMin", &col.y_min},
                            {"YMax", &col.y_max}}) {
    auto idx = layout->try_find(name);
    if (!idx) return std::move(idx).error();
    *slot = *idx;
  }
  col.label = layout->find("LabelName");
  if (col.label == csv_layout::npos && opt.label_for_all.empty()) {
    auto idx = layout->try_find("LabelName");
    error e = std::move(idx).error();
    e.message +=
        "; for files without LabelName (e.g. OIDv4_ToolKit's per-class CSVs) give the "
        "class of every row";
    return e;
  }
  for (int i = 0; i < 5; ++i) col.flags[i] = layout->find(detail::flag_names[i]);

  detail::short_key_map target_ids;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (target_ids.find(targets[i].mid) == detail::short_key_map::absent) {
      target_ids.insert(targets[i].mid, static_cast<std::int32_t>(i));
    }
  }
  std::int32_t fixed_category = -1;
  if (col.label == csv_layout::npos) {
    fixed_category = target_ids.find(opt.label_for_all);
    if (fixed_category < 0) {
      error e =
          make_error(errc::oi_unknown_class, "the class given for every row (" + opt.label_for_all +
                                                 ") is not among the target classes");
      e.file = file.name();
      return e;
    }
  }
  detail::short_key_map known;
  if (opt.known_classes) {
    for (const auto& c : opt.known_classes->classes) known.insert(c.mid, 0);
  }
  const bool check_known = opt.known_classes != nullptr;

  auto row = [&](detail::join_chunk& chunk, const csv_record& r, row_error& e) -> row_action {
    std::int32_t cat = fixed_category;
    if (col.label != csv_layout::npos) {
      cat = target_ids.find(r[col.label]);
      if (cat < 0) {  // only reached for unknown MIDs when check_known
        detail::fail_row(e, errc::oi_unknown_mid, col.label,
                         "'" + std::string(r[col.label]) + "' is not in the class descriptions");
        return row_action::fail;
      }
    }
    const std::string_view id = r[col.image_id];
    std::uint64_t id64 = 0;
    if (!detail::parse_hex16(id, id64)) {
      detail::fail_row(e, errc::oi_bad_image_id, col.image_id,
                       "expected 16 hex digits, got '" + std::string(id) + "'");
      return row_action::fail;
    }
    if (opt.images && !opt.images->contains(id64)) return row_action::filter;
    float v[4];
    const std::size_t cidx[4] = {col.x_min, col.x_max, col.y_min, col.y_max};
    for (int i = 0; i < 4; ++i) {
      const std::string_view s = r[cidx[i]];
      const errc pe = detail::parse_float(s, v[i]);
      if (pe != errc::ok || !(v[i] >= 0.0f && v[i] <= 1.0f)) {
        detail::fail_row(e, pe == errc::ok ? errc::csv_out_of_range : pe, cidx[i],
                         "expected a number in [0,1], got '" + std::string(s) + "'");
        return row_action::fail;
      }
    }
    if (v[0] > v[1] || v[2] > v[3]) {
      const bool x = v[0] > v[1];
      const std::size_t lo = x ? cidx[0] : cidx[2], hi = x ? cidx[1] : cidx[3];
      detail::fail_row(e, errc::oi_bad_box, lo,
                       std::string(x ? "XMin" : "YMin") + " (" + std::string(r[lo]) +
                           ") is greater than " + (x ? "XMax" : "YMax") + " (" +
                           std::string(r[hi]) + ")");
      return row_action::fail;
    }
    label_box box;
    box.rel = to_xyxy_rel(box_xxyy_rel{v[0], v[1], v[2], v[3]});
    box.category_id = cat;
    tri_flag* const flags[5] = {&box.flags.occluded, &box.flags.truncated, &box.flags.group_of,
                                &box.flags.depiction, &box.flags.inside};
    const flag_rule rules[5] = {opt.attributes.occluded, opt.attributes.truncated,
                                opt.attributes.group_of, opt.attributes.depiction,
                                opt.attributes.inside};
    bool pass = true;
    for (int i = 0; i < 5; ++i) {
      if (col.flags[i] == csv_layout::npos) continue;
      const std::string_view s = r[col.flags[i]];
      if (!detail::parse_tri_flag(s, *flags[i])) {
        detail::fail_row(e, errc::csv_bad_value, col.flags[i],
                         "expected -1, 0 or 1, got '" + std::string(s) + "'");
        return row_action::fail;
      }
      pass = pass && detail::flag_passes(rules[i], *flags[i]);
    }
    if (!pass) return row_action::filter;
    auto& imgs = chunk.images;
    if (imgs.empty() || imgs.back().image_id_u64 != id64) {
      imgs.emplace_back();
      imgs.back().image_id.assign(id);
      // Normalise to lower case so "ABCD..." and "abcd..." name one image and one file.
      for (char& c : imgs.back().image_id) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      }
      imgs.back().image_id_u64 = id64;
      imgs.back().file_name = imgs.back().image_id + ".jpg";
    }
    imgs.back().boxes.push_back(box);
    return row_action::keep;
  };

  std::vector<detail::join_chunk> chunks(csv_chunk_count(file, *layout, copt));
  result<read_report> rep = make_error(errc::other, "unreachable");
  if (col.label == csv_layout::npos) {
    rep = try_scan_parallel(file, *layout, copt, no_prefilter{}, chunks, row);
  } else {
    // Filter-first: a row whose LabelName is not a target never gets split or converted.
    auto keep = [&](std::string_view mid) {
      if (target_ids.find(mid) >= 0) return true;
      return check_known && known.find(mid) < 0;  // unknown MID: let the row callback report it
    };
    rep = try_scan_parallel(file, *layout, copt, make_prefilter(col.label, keep), chunks, row);
  }
  if (!rep) return rep;
  std::size_t total = out.images.size();
  for (const auto& c : chunks) total += c.images.size();
  out.images.reserve(total);
  for (auto& c : chunks) {
    for (auto& img : c.images) out.images.push_back(std::move(img));
  }
  normalize_label_set(out);
  return rep;
}

/// try_join_boxes on a file path (mmap'd).
template <class = void>
[[nodiscard]] result<read_report> try_join_boxes_file(const std::string& path,
                                                      const std::vector<class_info>& targets,
                                                      const join_options& opt, label_set& out) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  return try_join_boxes(*f, targets, opt, out);
}

/// Reads an image list: one ImageID per line (16 hex digits; an optional `split/` prefix and a
/// `.jpg` suffix are accepted, as in the official downloader's lists). Blank lines are skipped.
template <class = void>
[[nodiscard]] result<image_id_set> try_read_image_list(const std::string& path) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  image_id_set set;
  std::string_view rest = f->bytes();
  std::uint64_t line = 0;
  while (!rest.empty()) {
    ++line;
    const std::size_t nl = rest.find('\n');
    std::string_view s = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    if (s.empty()) continue;
    std::string_view id = s;
    const std::size_t slash = id.rfind('/');
    if (slash != std::string_view::npos) id.remove_prefix(slash + 1);
    if (id.size() > 4 && id.substr(id.size() - 4) == ".jpg") id.remove_suffix(4);
    std::uint64_t v = 0;
    if (!detail::parse_hex16(id, v)) {
      error e = make_error(errc::oi_bad_image_id,
                           "expected an ImageID of 16 hex digits, got '" + std::string(s) + "'");
      e.file = path;
      e.line = line;
      e.column = 1;
      return e;
    }
    set.insert(v);
  }
  return set;
}

DETKIT_END_NAMESPACE

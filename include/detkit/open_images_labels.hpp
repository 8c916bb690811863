// detkit/open_images_labels.hpp — Open Images image-level labels
// (`*-annotations-human-imagelabels[-boxable].csv`).
//
// Header `ImageID,Source,LabelName,Confidence` (columns found by name). Human-verified labels have
// Confidence 1 (present) or 0 (verified absent); machine labels have fractional confidence. The
// official metric needs both positive and negative labels (§4), so nothing is dropped here; a
// LabelName missing from the class table is an oi_unknown_mid error (or a counted skip).
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "detkit/csv.hpp"
#include "detkit/detail/id_set.hpp"
#include "detkit/detail/parse_number.hpp"
#include "detkit/open_images_classes.hpp"

DETKIT_BEGIN_NAMESPACE

/// Who produced an image-level label.
enum class label_source : std::uint8_t { verification, crowdsource_verification, machine, other };

/// One image-level label.
struct image_label {
  std::uint64_t image_id = 0;     // ImageID as a number (16 hex digits)
  std::int32_t class_index = -1;  // index into the class_table given to the reader
  float confidence = 0;           // 1 = present, 0 = verified absent (human labels)
  label_source source = label_source::other;
};

/// Reads an image-level label file. Rows are parsed in parallel (opt.threads); labels come back in
/// file order.
template <class = void>
[[nodiscard]] result<std::vector<image_label>> try_read_image_labels(const std::string& path,
                                                                     const class_table& classes,
                                                                     csv_options opt = {}) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  opt.header = header_mode::present;
  auto layout = try_read_layout(*f, opt);
  if (!layout) return std::move(layout).error();
  std::size_t c[4];
  const char* names[4] = {"ImageID", "Source", "LabelName", "Confidence"};
  for (int i = 0; i < 4; ++i) {
    auto idx = layout->try_find(names[i]);
    if (!idx) return std::move(idx).error();
    c[i] = *idx;
  }
  detail::short_key_map mids;
  for (std::size_t i = 0; i < classes.classes.size(); ++i) {
    mids.insert(classes.classes[i].mid, static_cast<std::int32_t>(i));
  }
  std::vector<std::vector<image_label>> parts(csv_chunk_count(*f, *layout, opt));
  auto rep = try_scan_parallel(
      *f, *layout, opt, no_prefilter{}, parts,
      [&](std::vector<image_label>& out, const csv_record& r, row_error& e) {
        image_label l;
        if (!detail::parse_hex16(r[c[0]], l.image_id)) {
          e = {errc::oi_bad_image_id, c[0],
               "expected 16 hex digits, got '" + std::string(r[c[0]]) + "'"};
          return row_action::fail;
        }
        const std::string_view src = r[c[1]];
        l.source = src == "verification"               ? label_source::verification
                   : src == "crowdsource-verification" ? label_source::crowdsource_verification
                   : src == "machine"                  ? label_source::machine
                                                       : label_source::other;
        l.class_index = mids.find(r[c[2]]);
        if (l.class_index < 0) {
          e = {errc::oi_unknown_mid, c[2],
               "'" + std::string(r[c[2]]) + "' is not in the class descriptions"};
          return row_action::fail;
        }
        const errc pe = detail::parse_float(r[c[3]], l.confidence);
        if (pe != errc::ok || !(l.confidence >= 0.0f && l.confidence <= 1.0f)) {
          e = {pe == errc::ok ? errc::csv_out_of_range : pe, c[3],
               "expected a number in [0,1], got '" + std::string(r[c[3]]) + "'"};
          return row_action::fail;
        }
        out.push_back(l);
        return row_action::keep;
      });
  if (!rep) return std::move(rep).error();
  std::vector<image_label> all;
  for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

DETKIT_END_NAMESPACE

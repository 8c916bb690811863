// detkit/open_images_metadata.hpp — Open Images image metadata files
// (`train-images-boxable-with-rotation.csv`, `validation-`/`test-images-with-rotation.csv`,
// `oidv6-train-images-with-labels-with-rotation.csv`).
//
// Twelve columns found by name: ImageID, Subset, OriginalURL, OriginalLandingURL, License,
// AuthorProfileURL, Author, Title, OriginalSize, OriginalMD5, Thumbnail300KURL, Rotation.
// Author and Title are free text with RFC 4180 quoting (commas, "", UTF-8, even line breaks), so
// this file is read with the quote-aware path (one thread). OriginalMD5 is the base64 of the
// 16-byte MD5 and is decoded; Rotation is 0/90/180/270 degrees counter-clockwise written as a
// float (`90.0`), or empty / `nan` when unknown.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detkit/csv.hpp"
#include "detkit/detail/parse_number.hpp"

DETKIT_BEGIN_NAMESPACE

/// One row of an image metadata file. Views point into the mapped file: valid during the callback.
struct image_metadata_view {
  std::string_view image_id;  // 16 hex digits
  std::uint64_t image_id_u64 = 0;
  std::string_view subset;  // train / validation / test
  std::string_view original_url, landing_url, license, author_profile_url, author, title;
  std::string_view thumbnail_url;               // may be empty
  std::uint64_t original_size = 0;              // bytes of the original Flickr file (not pixels)
  std::array<std::uint8_t, 16> original_md5{};  // decoded from base64
  std::int16_t rotation = -1;                   // 0, 90, 180, 270; -1 = unknown (empty or nan)
};

namespace detail {

inline int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Decodes the 24-character base64 of a 16-byte digest ("KFukvivpCM5QXl5SqKe41g==").
inline bool decode_base64_md5(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept {
  if (s.size() != 24 || s[22] != '=' || s[23] != '=') return false;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < 22; ++i) {
    const int v = base64_value(s[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<std::uint8_t>((acc >> bits) & 0xFFu);
    }
  }
  // 22 chars = 132 bits = 16 bytes + 4 padding bits, which must be zero in canonical base64.
  return n == 16 && (acc & ((1u << bits) - 1)) == 0;
}

}  // namespace detail

/// Calls fn(const image_metadata_view&) for every row of an image metadata file. Strict by
/// default; opt.mode = error_mode::lenient skips and counts bad rows instead.
template <class Fn>
[[nodiscard]] result<read_report> try_for_each_image_metadata(const csv_file& file, csv_options opt,
                                                              Fn&& fn) {
  opt.header = header_mode::present;
  opt.threads = 1;  // quoted free text may hold line breaks
  auto layout = try_read_layout(file, opt);
  if (!layout) return std::move(layout).error();
  const char* names[12] = {
      "ImageID",      "Subset",           "OriginalURL",      "OriginalLandingURL",
      "License",      "AuthorProfileURL", "Author",           "Title",
      "OriginalSize", "OriginalMD5",      "Thumbnail300KURL", "Rotation"};
  std::size_t c[12];
  for (int i = 0; i < 12; ++i) {
    auto idx = layout->try_find(names[i]);
    if (!idx) return std::move(idx).error();
    c[i] = *idx;
  }
  image_metadata_view v;
  return try_scan(file, *layout, opt, no_prefilter{}, [&](const csv_record& r, row_error& e) {
    v.image_id = r[c[0]];
    if (!detail::parse_hex16(v.image_id, v.image_id_u64)) {
      e = {errc::oi_bad_image_id, c[0],
           "expected 16 hex digits, got '" + std::string(v.image_id) + "'"};
      return row_action::fail;
    }
    v.subset = r[c[1]];
    v.original_url = r[c[2]];
    v.landing_url = r[c[3]];
    v.license = r[c[4]];
    v.author_profile_url = r[c[5]];
    v.author = r[c[6]];
    v.title = r[c[7]];
    v.thumbnail_url = r[c[10]];
    v.original_size = 0;
    if (!r[c[8]].empty() && detail::parse_int(r[c[8]], v.original_size) != errc::ok) {
      e = {errc::csv_bad_number, c[8], "expected a byte count, got '" + std::string(r[c[8]]) + "'"};
      return row_action::fail;
    }
    v.original_md5 = {};
    if (!r[c[9]].empty() && !detail::decode_base64_md5(r[c[9]], v.original_md5)) {
      e = {errc::csv_bad_value, c[9],
           "expected the base64 of a 16-byte MD5 (24 characters ending in '=='), got '" +
               std::string(r[c[9]]) + "'"};
      return row_action::fail;
    }
    const std::string_view rot = r[c[11]];
    v.rotation = -1;
    if (!rot.empty() && rot != "nan" && rot != "NaN") {
      double d = 0;
      if (detail::parse_double(rot, d) != errc::ok ||
          !(d == 0.0 || d == 90.0 || d == 180.0 || d == 270.0)) {
        e = {errc::csv_bad_value, c[11],
             "expected 0, 90, 180 or 270 (or empty), got '" + std::string(rot) + "'"};
        return row_action::fail;
      }
      v.rotation = static_cast<std::int16_t>(d);
    }
    fn(static_cast<const image_metadata_view&>(v));
    return row_action::keep;
  });
}

/// try_for_each_image_metadata on a file path.
template <class Fn>
[[nodiscard]] result<read_report> try_for_each_image_metadata(const std::string& path,
                                                              csv_options opt, Fn&& fn) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  return try_for_each_image_metadata(*f, std::move(opt), std::forward<Fn>(fn));
}

DETKIT_END_NAMESPACE

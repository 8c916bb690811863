// detkit/error.hpp — the one error type of the library: errc, error, result<T>, parse_error.
//
// Every reader has two spellings (simdjson's pattern): `try_read_x(...)` returns result<T> and never
// throws for bad data; `read_x(...)` returns try_read_x(...).value(), which throws parse_error.
// Errors render GCC-style so editors and CI can jump to them:
//   train.csv:1204:57: error: field 'XMin': expected a number in [0,1], got '1.2e' [detkit.csv.bad_number]
// Binary files report a byte offset instead of line:column:
//   labels.dkc: byte 4096: error: checksum mismatch ... [detkit.cache.checksum]
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE

/// Error codes, grouped by the part of the library that raises them. The id printed in brackets
/// is `detkit.` + errc_id(code).
enum class errc : std::uint16_t {
  ok = 0,
  // I/O and the file system
  io_open,   // cannot open / stat / map a file
  io_read,   // read failed or short
  io_write,  // write, flush or rename failed (disk full, permissions)
  // CSV
  csv_empty,             // file has no header / no rows
  csv_bom,               // unexpected byte-order mark
  csv_missing_column,    // a required column is not in the header
  csv_duplicate_column,  // a column name appears twice
  csv_field_count,       // row has a different number of fields than the header
  csv_unterminated_quote,
  csv_bad_quote,  // quote in the middle of an unquoted field, or junk after a closing quote
  csv_line_too_long,
  csv_truncated,     // last line has no newline and is incomplete
  csv_bad_number,    // not a number, or NaN/inf
  csv_out_of_range,  // a number outside its allowed range
  csv_bad_value,     // a field that is not one of the allowed values
  // Open Images semantics
  oi_unknown_class,   // a target class name not in the class descriptions (with "did you mean")
  oi_unknown_mid,     // a LabelName not in the class descriptions
  oi_duplicate_key,   // a MID or ImageID appears twice where it must be unique
  oi_bad_box,         // XMin > XMax, YMin > YMax, or degenerate
  oi_bad_image_id,    // not 16 hex digits
  oi_bad_hierarchy,   // malformed hierarchy JSON
  oi_bad_manifest,    // malformed subset manifest (detkit/manifest.hpp)
  oi_manifest_stale,  // an input of a manifest changed since it was written (size or hash)
  // Images
  image_missing,
  image_corrupt,  // not a JPEG/PNG we can read a header from
  image_too_large,
  // Label cache
  cache_bad_magic,
  cache_version,  // written by another format version
  cache_endianness,
  cache_layout,  // sizeof of stored types differs
  cache_truncated,
  cache_checksum,
  cache_stale,    // source files or class list changed since the cache was written
  cache_corrupt,  // section table or offsets inconsistent
  // JSON / evaluation inputs
  json_syntax,
  json_schema,         // a required member missing or of the wrong type
  eval_unknown_image,  // a detection names an image_id that is not in the ground truth
  eval_unknown_category,
  eval_bad_params,
  eval_duplicate_id,  // an image, category or annotation id appears twice
  eval_bad_value,     // NaN/inf coordinate or score, or a non-integer id
  eval_bad_state,     // an evaluation state file is truncated, corrupt or does not fit the others
  // Model / weights
  model_shape,
  model_weights,
  // Network / download
  net_transfer,
  net_http_status,
  // Command-line use
  usage,
  // Anything not classified above (keep last)
  other,
};

/// Short stable id used in messages and documentation, e.g. "csv.bad_number".
constexpr std::string_view errc_id(errc code) noexcept {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::io_open:
      return "io.open";
    case errc::io_read:
      return "io.read";
    case errc::io_write:
      return "io.write";
    case errc::csv_empty:
      return "csv.empty";
    case errc::csv_bom:
      return "csv.bom";
    case errc::csv_missing_column:
      return "csv.missing_column";
    case errc::csv_duplicate_column:
      return "csv.duplicate_column";
    case errc::csv_field_count:
      return "csv.field_count";
    case errc::csv_unterminated_quote:
      return "csv.unterminated_quote";
    case errc::csv_bad_quote:
      return "csv.bad_quote";
    case errc::csv_line_too_long:
      return "csv.line_too_long";
    case errc::csv_truncated:
      return "csv.truncated";
    case errc::csv_bad_number:
      return "csv.bad_number";
    case errc::csv_out_of_range:
      return "csv.out_of_range";
    case errc::csv_bad_value:
      return "csv.bad_value";
    case errc::oi_unknown_class:
      return "oi.unknown_class";
    case errc::oi_unknown_mid:
      return "oi.unknown_mid";
    case errc::oi_duplicate_key:
      return "oi.duplicate_key";
    case errc::oi_bad_box:
      return "oi.bad_box";
    case errc::oi_bad_image_id:
      return "oi.bad_image_id";
    case errc::oi_bad_hierarchy:
      return "oi.bad_hierarchy";
    case errc::oi_bad_manifest:
      return "oi.bad_manifest";
    case errc::oi_manifest_stale:
      return "oi.manifest_stale";
    case errc::image_missing:
      return "image.missing";
    case errc::image_corrupt:
      return "image.corrupt";
    case errc::image_too_large:
      return "image.too_large";
    case errc::cache_bad_magic:
      return "cache.bad_magic";
    case errc::cache_version:
      return "cache.version";
    case errc::cache_endianness:
      return "cache.endianness";
    case errc::cache_layout:
      return "cache.layout";
    case errc::cache_truncated:
      return "cache.truncated";
    case errc::cache_checksum:
      return "cache.checksum";
    case errc::cache_stale:
      return "cache.stale";
    case errc::cache_corrupt:
      return "cache.corrupt";
    case errc::json_syntax:
      return "json.syntax";
    case errc::json_schema:
      return "json.schema";
    case errc::eval_unknown_image:
      return "eval.unknown_image";
    case errc::eval_unknown_category:
      return "eval.unknown_category";
    case errc::eval_bad_params:
      return "eval.bad_params";
    case errc::eval_duplicate_id:
      return "eval.duplicate_id";
    case errc::eval_bad_value:
      return "eval.bad_value";
    case errc::eval_bad_state:
      return "eval.bad_state";
    case errc::model_shape:
      return "model.shape";
    case errc::model_weights:
      return "model.weights";
    case errc::net_transfer:
      return "net.transfer";
    case errc::net_http_status:
      return "net.http_status";
    case errc::usage:
      return "usage";
    case errc::other:
      return "other";
  }
  return "unknown";
}

/// A located error. Lines and columns count from 1 (0 = not known); the column is a byte column.
/// For binary files `line` is 0 and `byte_offset` says where.
struct error {
  errc code = errc::ok;
  std::string file;               // path as the user gave it; empty when not from a file
  std::uint64_t line = 0;         // 1-based, 0 = unknown / binary file
  std::uint64_t column = 0;       // 1-based byte column, 0 = unknown
  std::uint64_t byte_offset = 0;  // used when line == 0 and has_offset
  bool has_offset = false;
  std::string field;    // column or member name, e.g. "XMin"; empty when not about one field
  std::string message;  // what was expected and what was read

  /// GCC-style one-line rendering.
  std::string to_string() const {
    std::string out;
    if (!file.empty()) {
      out += file;
      if (line != 0) {
        out += ':';
        out += std::to_string(line);
        if (column != 0) {
          out += ':';
          out += std::to_string(column);
        }
      } else if (has_offset) {
        out += ": byte ";
        out += std::to_string(byte_offset);
      }
      out += ": ";
    }
    out += "error: ";
    if (!field.empty()) {
      out += "field '";
      out += field;
      out += "': ";
    }
    out += message;
    out += " [detkit.";
    out += errc_id(code);
    out += ']';
    return out;
  }
};

/// Builds an error without a location; callers attach file/line once at the top of a reader.
inline error make_error(errc code, std::string message, std::string field = {}) {
  error e;
  e.code = code;
  e.message = std::move(message);
  e.field = std::move(field);
  return e;
}

/// Thrown by the throwing spellings (`read_x`), and by result<T>::value() on an error.
class parse_error : public std::runtime_error {
 public:
  explicit parse_error(error e) : std::runtime_error(e.to_string()), error_(std::move(e)) {}
  const detkit::error& err() const noexcept { return error_; }
  errc code() const noexcept { return error_.code; }

 private:
  detkit::error error_;
};

namespace detail {
[[noreturn]] DETKIT_NOINLINE inline void throw_error(error e) { throw parse_error(std::move(e)); }
}  // namespace detail

/// Value or error, shaped like std::expected so moving to C++23 is mechanical.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  result(detkit::error e) : storage_(std::in_place_index<1>, std::move(e)) {}  // NOLINT: implicit

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    if (!has_value()) detail::throw_error(std::get<1>(storage_));
    return std::get<0>(storage_);
  }
  const T& value() const& {
    if (!has_value()) detail::throw_error(std::get<1>(storage_));
    return std::get<0>(storage_);
  }
  T&& value() && {
    if (!has_value()) detail::throw_error(std::get<1>(storage_));
    return std::get<0>(std::move(storage_));
  }
  T& operator*() & { return std::get<0>(storage_); }
  const T& operator*() const& { return std::get<0>(storage_); }
  T* operator->() { return &std::get<0>(storage_); }
  const T* operator->() const { return &std::get<0>(storage_); }

  const detkit::error& error() const& { return std::get<1>(storage_); }
  detkit::error&& error() && { return std::get<1>(std::move(storage_)); }

 private:
  std::variant<T, detkit::error> storage_;
};

/// result<void>: success or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(detkit::error e) : error_(std::move(e)), failed_(true) {}  // NOLINT: implicit

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const {
    if (failed_) detail::throw_error(error_);
  }
  const detkit::error& error() const& { return error_; }

 private:
  detkit::error error_;
  bool failed_ = false;
};

DETKIT_END_NAMESPACE

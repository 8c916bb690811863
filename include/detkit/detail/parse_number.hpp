// detkit/detail/parse_number.hpp — exact, allocation-free number parsing for CSV fields.
//
// Not API. Wraps std::from_chars (GCC >= 12 implements the floating-point overloads with
// fast_float, so this is both exact and fast). Accepts what the Open Images files contain:
// integers, any number of decimals, exponents (`0`, `1`, `0.182`, `0.9985229`, `4.4e-05`,
// `0.6979920000000001`) and an optional leading '+'. Rejects NaN/inf, empty fields, whitespace
// and trailing junk: the whole field must be the number. Returns errc::ok, csv_bad_number or
// csv_out_of_range (integer overflow, or a float beyond the type's range).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

namespace number_impl {
// from_chars does not take '+'; strtod and pandas do, so we accept exactly one leading '+'.
inline std::string_view strip_plus(std::string_view s) noexcept {
  if (s.size() >= 2 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}
}  // namespace number_impl

/// Parses a whole field as a finite double.
inline errc parse_double(std::string_view s, double& out) noexcept {
  s = number_impl::strip_plus(s);
  if (s.empty()) return errc::csv_bad_number;
  // from_chars accepts "nan", "inf", "infinity": they are never valid coordinates, and
  // checking the first character keeps hex-like junk ("0x1p3" is rejected by the format flag).
  const char c = s[0];
  if (!((c >= '0' && c <= '9') || c == '.' || c == '-')) return errc::csv_bad_number;
  const char* const first = s.data();
  const char* const last = first + s.size();
  double v = 0;
  const auto r = std::from_chars(first, last, v, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) return errc::csv_out_of_range;
  if (r.ec != std::errc() || r.ptr != last) return errc::csv_bad_number;
  if (!std::isfinite(v)) return errc::csv_bad_number;
  out = v;
  return errc::ok;
}

/// Parses a whole field as a double, then rounds it to float (as numpy's float32(float64) does,
/// which the Detectron2 recipe relies on). A value beyond float's range is out of range.
inline errc parse_float(std::string_view s, float& out) noexcept {
  double d = 0;
  const errc e = parse_double(s, d);
  if (e != errc::ok) return e;
  if (std::fabs(d) > static_cast<double>(3.4028234663852886e38)) return errc::csv_out_of_range;
  out = static_cast<float>(d);
  return errc::ok;
}

/// Parses a whole field as a base-10 integer of type Int (no decimals, no exponent).
template <class Int>
inline errc parse_int(std::string_view s, Int& out) noexcept {
  static_assert(std::is_integral_v<Int>, "parse_int needs an integer type");
  s = number_impl::strip_plus(s);
  if (s.empty()) return errc::csv_bad_number;
  const char* const first = s.data();
  const char* const last = first + s.size();
  Int v = 0;
  const auto r = std::from_chars(first, last, v, 10);
  if (r.ec == std::errc::result_out_of_range) return errc::csv_out_of_range;
  if (r.ec != std::errc() || r.ptr != last) return errc::csv_bad_number;
  out = v;
  return errc::ok;
}

/// Parses exactly 16 hex digits (either case) as a 64-bit number: an Open Images ImageID.
inline bool parse_hex16(std::string_view s, std::uint64_t& out) noexcept {
  if (s.size() != 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  out = v;
  return true;
}

}  // namespace detail
DETKIT_END_NAMESPACE

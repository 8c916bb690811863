// detkit/detail/format_hex.hpp — a 64-bit value as 16 lowercase hex digits (an Open Images
// ImageID, a checksum); the inverse of parse_number.hpp's parse_hex16 (not API).
#pragma once

#include <cstdint>
#include <string>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

inline std::string format_hex16(std::uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (std::size_t i = 0; i < 16; ++i) s[i] = digits[(v >> (60 - 4 * i)) & 15];
  return s;
}

}  // namespace detail
DETKIT_END_NAMESPACE

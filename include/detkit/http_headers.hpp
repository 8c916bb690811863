// detkit/http_headers.hpp — the few HTTP response headers a resumable download must read, parsed
// strictly and without allocation: Content-Range (RFC 9110 §14.4: "bytes 0-99/1000",
// "bytes 0-99/*", "bytes */1000" on a 416) and Retry-After (§10.2.3, delta-seconds form).
// A Range resume splices the body into an existing file, so a header that does not parse exactly
// is treated as absent (the caller then restarts from byte 0), never guessed at.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE

/// A parsed Content-Range value.
struct content_range {
  bool has_range = false;             // false for "bytes */N" (the 416 form)
  std::uint64_t first = 0;            // first byte position (valid when has_range)
  std::uint64_t last = 0;             // last byte position, inclusive (valid when has_range)
  std::int64_t complete_length = -1;  // N, or -1 for '*'
};

namespace detail {
inline std::string_view trim_http(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}
// Decimal digits only (no sign, no spaces), no overflow.
inline bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
inline char lower_ascii_char(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace detail

/// The value of a raw header line "Name: value\r\n" when its name is `name` (case-insensitive),
/// trimmed; nothing when the line is another header.
inline std::optional<std::string_view> header_value(std::string_view line,
                                                    std::string_view name) noexcept {
  if (line.size() <= name.size() || line[name.size()] != ':') return std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (detail::lower_ascii_char(line[i]) != detail::lower_ascii_char(name[i])) return std::nullopt;
  return detail::trim_http(line.substr(name.size() + 1));
}

/// Parses a Content-Range value. Nothing when malformed, when first > last, or when the range
/// does not fit in the complete length.
inline std::optional<content_range> parse_content_range(std::string_view v) noexcept {
  v = detail::trim_http(v);
  if (v.substr(0, 6) != "bytes ") return std::nullopt;
  v.remove_prefix(6);
  const auto slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  content_range r;
  const std::string_view range = v.substr(0, slash), total = v.substr(slash + 1);
  if (total != "*") {
    std::uint64_t n = 0;
    if (!detail::parse_u64(total, n) || n > static_cast<std::uint64_t>(INT64_MAX))
      return std::nullopt;
    r.complete_length = static_cast<std::int64_t>(n);
  }
  if (range == "*") return r.complete_length >= 0 ? std::optional<content_range>(r) : std::nullopt;
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  if (!detail::parse_u64(range.substr(0, dash), r.first) ||
      !detail::parse_u64(range.substr(dash + 1), r.last) || r.first > r.last)
    return std::nullopt;
  if (r.complete_length >= 0 && r.last >= static_cast<std::uint64_t>(r.complete_length))
    return std::nullopt;
  r.has_range = true;
  return r;
}

/// Parses a Retry-After value in its delta-seconds form ("120"); the HTTP-date form gives
/// nothing (the caller keeps its own backoff).
inline std::optional<double> parse_retry_after(std::string_view v) noexcept {
  std::uint64_t s = 0;
  if (!detail::parse_u64(detail::trim_http(v), s)) return std::nullopt;
  return static_cast<double>(s > 86400 ? 86400 : s);
}

DETKIT_END_NAMESPACE

// examples/common/json.hpp — the programs' JSON text: strings escaped by the library's one
// escaper (detkit/detectron2_json.hpp, RFC 8259: quote, backslash, control characters), numbers as
// the shortest text that reads back as the same double (what Python's repr prints).
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "detkit/detectron2_json.hpp"

namespace detkit_cli {

/// Appends `v` as the shortest decimal text that reads back as the same double (Python repr;
/// std::to_chars: the match log writes millions of them). NaN is null, infinities 1e999.
inline void append_num(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "null";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "1e999" : "-1e999";
    return;
  }
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  out += s;
  if (s.find_first_of(".en") == std::string_view::npos) out += ".0";
}
inline std::string num(double v) {
  std::string s;
  append_num(s, v);
  return s;
}

/// `s` as a quoted JSON string.
inline std::string json_string(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  detkit::detail::json_append_string(out, s);
  return out;
}

}  // namespace detkit_cli

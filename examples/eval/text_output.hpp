// examples/eval/text_output.hpp — the text helpers detkit-eval's outputs share: JSON numbers and
// strings (common/json.hpp), SVG text escaping and axes.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace detkit_eval {

using detkit_cli::append_num;
using detkit_cli::json_string;
using detkit_cli::num;

inline std::string svg_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

/// A unit-square plot's frame: grid every 0.1, tick labels, the box and the axis titles (already
/// SVG-escaped). The plot area is (L, T, pw, ph) inside a picture H high.
inline std::string svg_unit_axes(double L, double T, double pw, double ph, double H,
                                 const char* x_title, const char* y_title) {
  std::string s;
  char buf[512];
  for (int i = 0; i <= 10; ++i) {
    const double v = i / 10.0, x = L + v * pw, y = T + (1 - v) * ph;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#e5e5e5\"/>"
                  "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                  "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.1f</text>"
                  "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
                  x, T, x, T + ph, L, y, L + pw, y, x, T + ph + 16, v, L - 6, y + 4, v);
    s += buf;
  }
  std::snprintf(
      buf, sizeof buf,
      "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n"
      "<text x=\"18\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 18 %g)\">"
      "%s</text>\n",
      L, T, pw, ph, L + pw / 2, H - 20, x_title, T + ph / 2, T + ph / 2, y_title);
  return s + buf;
}

}  // namespace detkit_eval

// examples/common/palette.hpp — the one colour table of the programs' pictures: matplotlib's
// "tab10" (distinct, readable on white and on photos), as RGB for drawn images and as "#rrggbb"
// for SVG plots, so class k has the same colour in a drawing and in a curve.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace detkit_cli {

struct rgb {
  unsigned char r, g, b;
};

/// Colour i of the table (wraps around after 10).
inline rgb palette_rgb(std::size_t i) {
  static const rgb table[10] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34},  {23, 190, 207}};
  return table[i % 10];
}

/// The same colour as "#rrggbb".
inline std::string palette_hex(std::size_t i) {
  const rgb c = palette_rgb(i);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

}  // namespace detkit_cli

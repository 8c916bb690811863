// examples/common/draw.hpp — boxes with labels drawn into an 8-bit RGB image (detkit-detect's
// and detkit-eval's pictures): rectangle outlines, and text in a built-in 5x7 bitmap font (upper-case letters,
// digits, ". : - _ %"; lower case is drawn upper case, other characters as blanks) on a filled
// label bar, so class names and scores need no font library. draw_labelled_boxes and draw_legend
// are the one way both programs label their pictures.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/palette.hpp"

namespace detkit_draw {

using detkit_cli::rgb;

/// Glyph rows (5 bits each, MSB = leftmost column) for ' '..'Z' (ASCII 32..90); 0 = blank.
inline const std::uint8_t* glyph(char ch) {
  static const std::uint8_t font[59][7] = {
      {0, 0, 0, 0, 0, 0, 0},                       // ' '
      {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04},  // !
      {0},
      {0},
      {0},                                         // " # $
      {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},  // %
      {0},
      {0},
      {0},
      {0},
      {0},
      {0},                                         // & ' ( ) * +
      {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08},  // ,
      {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00},  // -
      {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c},  // .
      {0x01, 0x02, 0x02, 0x04, 0x08, 0x08, 0x10},  // /
      {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},  // 0
      {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},  // 1
      {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},  // 2
      {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},  // 3
      {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},  // 4
      {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},  // 5
      {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},  // 6
      {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
      {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},  // 8
      {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},  // 9
      {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00},  // :
      {0},
      {0},
      {0},
      {0},
      {0},
      {0},                                         // ; < = > ? @
      {0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11},  // A
      {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e},  // B
      {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e},  // C
      {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c},  // D
      {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f},  // E
      {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10},  // F
      {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f},  // G
      {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},  // H
      {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},  // I
      {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c},  // J
      {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},  // K
      {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f},  // L
      {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11},  // M
      {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},  // N
      {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},  // O
      {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10},  // P
      {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d},  // Q
      {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11},  // R
      {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e},  // S
      {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // T
      {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},  // U
      {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04},  // V
      {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a},  // W
      {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11},  // X
      {0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04},  // Y
      {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f},  // Z
  };
  static const std::uint8_t underscore[7] = {0, 0, 0, 0, 0, 0, 0x1f};
  if (ch == '_') return underscore;
  const int c = std::toupper(static_cast<unsigned char>(ch));
  return c >= 32 && c <= 90 ? font[c - 32] : font[0];
}

inline void put(unsigned char* px, int w, int h, int x, int y, rgb c) {
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  unsigned char* p =
      px +
      (static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)) * 3;
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

/// Rectangle outline `thick` pixels wide, inside (x1, y1)-(x2, y2). Corners are floored and
/// clamped to the image, so a box reaching past the border still shows its edge there.
inline void draw_box(unsigned char* px, int w, int h, double x1, double y1, double x2, double y2,
                     rgb c, int thick) {
  auto clampi = [](double v, int lo, int hi) {
    return static_cast<int>(std::max<double>(lo, std::min<double>(hi, std::floor(v))));
  };
  const int a = clampi(x1, 0, w - 1), b = clampi(y1, 0, h - 1);
  const int e = clampi(x2, 0, w - 1), f = clampi(y2, 0, h - 1);
  for (int t = 0; t < thick; ++t) {
    for (int x = a; x <= e; ++x) put(px, w, h, x, b + t, c), put(px, w, h, x, f - t, c);
    for (int y = b; y <= f; ++y) put(px, w, h, a + t, y, c), put(px, w, h, e - t, y, c);
  }
}

/// Width in pixels of draw_label's bar for `text`.
inline int label_width(const std::string& text, int scale) {
  return static_cast<int>(text.size()) * 6 * scale + 2 * scale;
}

/// Text at (x, y) (top left) with a filled background bar; `scale` pixels per font pixel.
inline void draw_label(unsigned char* px, int w, int h, int x, int y, const std::string& text,
                       rgb fg, rgb bg, int scale) {
  const int cw = 6 * scale, ch = 9 * scale;
  const int tw = label_width(text, scale);
  y = std::clamp(y, 0, std::max(0, h - ch));
  for (int yy = y; yy < y + ch; ++yy)
    for (int xx = x; xx < x + tw; ++xx) put(px, w, h, xx, yy, bg);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::uint8_t* g = glyph(text[i]);
    const int gx = x + scale + static_cast<int>(i) * cw, gy = y + scale;
    for (int r = 0; r < 7; ++r)
      for (int col = 0; col < 5; ++col)
        if (g[r] & (0x10 >> col))
          for (int sy = 0; sy < scale; ++sy)
            for (int sx = 0; sx < scale; ++sx)
              put(px, w, h, gx + col * scale + sx, gy + r * scale + sy, fg);
  }
}

/// A distinct colour per class index (the programs' one palette).
inline rgb class_color(int k) { return detkit_cli::palette_rgb(static_cast<std::size_t>(k)); }

/// Line thickness and font scale for an image of w x h pixels.
inline int line_thickness(int w, int h) { return std::max(2, std::min(w, h) / 200); }
inline int font_scale(int w, int h) { return std::max(1, std::min(w, h) / 300); }

/// A box in pixels (XYXY_ABS) with its colour and the text of its label bar.
struct labelled_box {
  double x1, y1, x2, y2;
  rgb color;
  std::string text;
};

/// Each box's outline, then its label (white on the box colour) just above its top-left corner.
inline void draw_labelled_boxes(unsigned char* px, int w, int h,
                                const std::vector<labelled_box>& boxes) {
  const int thick = line_thickness(w, h), scale = font_scale(w, h);
  for (const labelled_box& b : boxes) draw_box(px, w, h, b.x1, b.y1, b.x2, b.y2, b.color, thick);
  // Labels after all outlines, so no outline crosses a label.
  for (const labelled_box& b : boxes) {
    if (b.text.empty()) continue;
    draw_label(px, w, h, static_cast<int>(b.x1), static_cast<int>(b.y1) - 9 * scale, b.text,
               {255, 255, 255}, b.color, scale);
  }
}

/// Adds a white strip under the picture (so it hides no box) with the legend's entries side by
/// side, each its text on its colour; `pixels` (RGB, w x h) grows and `h` with it.
inline void append_legend(std::vector<unsigned char>& pixels, int w, int& h,
                          const std::vector<std::pair<std::string, rgb>>& entries) {
  const int scale = font_scale(w, h), strip = 11 * scale;
  pixels.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h + strip) * 3, 255);
  int x = scale;
  for (const auto& e : entries) {
    draw_label(pixels.data(), w, h + strip, x, h + scale, e.first, {255, 255, 255}, e.second,
               scale);
    x += label_width(e.first, scale) + 4 * scale;
  }
  h += strip;
}

}  // namespace detkit_draw

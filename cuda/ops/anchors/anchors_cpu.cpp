// cuda/ops/anchors/anchors_cpu.cpp — CPU twin of anchors.cu.
#include <cmath>
#include <stdexcept>

#include "anchors.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

anchor_options anchor_options::retinanet_default() {
  anchor_options o;
  for (int x : {32, 64, 128, 256, 512}) {
    // Python's int(x * 2 ** (k / 3.0)) in double: truncation, not rounding.
    o.sizes.push_back({static_cast<float>(x),
                       static_cast<float>(static_cast<int>(x * std::pow(2.0, 1.0 / 3.0))),
                       static_cast<float>(static_cast<int>(x * std::pow(2.0, 2.0 / 3.0)))});
  }
  return o;
}

std::vector<float> cell_anchors_cpu(const anchor_options& o, int level) {
  std::vector<float> cells;
  for (float ratio : o.aspect_ratios)
    for (float size : o.sizes.at(static_cast<std::size_t>(level))) {
      float a[4];
      cell_anchor(size, ratio, a);
      cells.insert(cells.end(), a, a + 4);
    }
  return cells;
}

std::vector<float> generate_anchors_cpu(const anchor_options& o, int image_h, int image_w,
                                        const std::vector<feature_size>& levels) {
  if (levels.size() != o.sizes.size())
    throw std::invalid_argument("generate_anchors: one size list per feature level is required");
  std::vector<float> out;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::vector<float> cells = cell_anchors_cpu(o, static_cast<int>(l));
    const int stride_h = image_h / levels[l].h, stride_w = image_w / levels[l].w;
    for (int y = 0; y < levels[l].h; ++y)
      for (int x = 0; x < levels[l].w; ++x)
        for (std::size_t a = 0; a < cells.size() / 4; ++a) {
          float box[4];
          shifted_anchor(&cells[4 * a], y, x, stride_h, stride_w, box);
          out.insert(out.end(), box, box + 4);
        }
  }
  return out;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

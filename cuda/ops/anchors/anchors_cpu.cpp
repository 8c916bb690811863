// cuda/ops/anchors/anchors_cpu.cpp — CPU twin of anchors.cu.
#include <cmath>
#include <string>

#include "anchors.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

anchor_options anchor_options::retinanet_default() {
  anchor_options o;
  for (int x : {32, 64, 128, 256, 512}) {
    // Python's int(x * 2 ** (k / 3.0)) in double: truncation, not rounding.
    o.sizes.push_back({static_cast<double>(x),
                       static_cast<double>(static_cast<int>(x * std::pow(2.0, 1.0 / 3.0))),
                       static_cast<double>(static_cast<int>(x * std::pow(2.0, 2.0 / 3.0)))});
  }
  return o;
}

anchor_options anchor_options::detectron2_retinanet() {
  anchor_options o;
  o.convention = anchor_convention::detectron2;
  for (int x : {32, 64, 128, 256, 512})
    o.sizes.push_back(
        {static_cast<double>(x), x * std::pow(2.0, 1.0 / 3.0), x * std::pow(2.0, 2.0 / 3.0)});
  return o;
}

std::vector<float> cell_anchors_cpu(const anchor_options& o, int level) {
  const std::vector<double>& sizes = o.sizes.at(static_cast<std::size_t>(level));
  std::vector<float> cells;
  if (o.convention == anchor_convention::torchvision) {
    for (double ratio : o.aspect_ratios)
      for (double size : sizes) {
        float a[4];
        cell_anchor(static_cast<float>(size), static_cast<float>(ratio), a);
        cells.insert(cells.end(), a, a + 4);
      }
  } else {
    // detectron2 generate_cell_anchors: Python floats, then torch.tensor -> float32.
    for (double size : sizes)
      for (double ratio : o.aspect_ratios) {
        const double w = std::sqrt(size * size / ratio), h = ratio * w;
        for (double v : {-w / 2.0, -h / 2.0, w / 2.0, h / 2.0})
          cells.push_back(static_cast<float>(v));
      }
  }
  return cells;
}

anchor_grid level_grid(const anchor_options& o, int image_h, int image_w, feature_size f,
                       int level) {
  anchor_grid g;
  if (o.convention == anchor_convention::torchvision) {
    g.stride_h = image_h / f.h;
    g.stride_w = image_w / f.w;
  } else {
    g.stride_h = g.stride_w = o.strides.at(static_cast<std::size_t>(level));
    g.offset = static_cast<float>(o.offset);
  }
  return g;
}

std::vector<float> generate_anchors_cpu(const anchor_options& o, int image_h, int image_w,
                                        const std::vector<feature_size>& levels) {
  if (levels.size() != o.sizes.size())
    ::detkit::detail::throw_error(
        make_error(errc::model_shape, "generate_anchors: " + std::to_string(o.sizes.size()) +
                                          " anchor size lists for " +
                                          std::to_string(levels.size()) + " feature levels"));
  std::vector<float> out;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::vector<float> cells = cell_anchors_cpu(o, static_cast<int>(l));
    const anchor_grid g = level_grid(o, image_h, image_w, levels[l], static_cast<int>(l));
    for (int y = 0; y < levels[l].h; ++y)
      for (int x = 0; x < levels[l].w; ++x)
        for (std::size_t a = 0; a < cells.size() / 4; ++a) {
          float box[4];
          shifted_anchor(&cells[4 * a], y, x, g, box);
          out.insert(out.end(), box, box + 4);
        }
  }
  return out;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/model/transform.cpp — see transform.hpp; the bilinear weights follow aten's CPU
// upsample_bilinear2d (compute_indices_weights_linear, area_pixel_compute_source_index).
#include "transform.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

DETKIT_BEGIN_NAMESPACE
namespace cuda {

resized_size transform_output_size(const transform_options& o, int h, int w) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("transform: empty image");
  const float short_side = static_cast<float>(std::min(h, w));
  const float long_side = static_cast<float>(std::max(h, w));
  // torch.min(self_min_size / min_size, self_max_size / max_size) in float32, then .item().
  // `python_float / tensor` is Tensor.__rtruediv__ = reciprocal() * number: two roundings, which
  // makes 800/480 come out as 1.66666675 (not 1.66666663), so 480 -> 800 and not 799.
  const float scale = std::min((1.0f / short_side) * static_cast<float>(o.min_size),
                               (1.0f / long_side) * static_cast<float>(o.max_size));
  const double s = static_cast<double>(scale);
  return {static_cast<int>(std::floor(static_cast<double>(h) * s)),
          static_cast<int>(std::floor(static_cast<double>(w) * s))};
}

namespace {
struct tap {
  int i0, i1;
  float w0, w1;
};
std::vector<tap> linear_taps(int in, int out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  std::vector<tap> taps(static_cast<std::size_t>(out));
  for (int d = 0; d < out; ++d) {
    // area_pixel_compute_source_index: scale * (dst + 0.5) - 0.5 (double literals), clamped at 0.
    float src = static_cast<float>(static_cast<double>(scale) * (d + 0.5) - 0.5);
    if (src < 0.0f) src = 0.0f;
    const int i0 = static_cast<int>(src);
    const int offset = i0 < in - 1 ? 1 : 0;
    const float l1 = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    taps[static_cast<std::size_t>(d)] = {i0, i0 + offset, 1.0f - l1, l1};
  }
  return taps;
}
}  // namespace

void normalize_and_resize(const transform_options& o, const float* chw, int h, int w,
                          resized_size out_size, float* out) {
  const std::size_t plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  std::vector<float> norm(plane);
  const std::vector<tap> ty = linear_taps(h, out_size.h), tx = linear_taps(w, out_size.w);
  for (int c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < plane; ++i) norm[i] = (chw[c * plane + i] - o.mean[c]) / o.std[c];
    float* dst = out + static_cast<std::size_t>(c) * static_cast<std::size_t>(out_size.h) *
                           static_cast<std::size_t>(out_size.w);
    for (int y = 0; y < out_size.h; ++y) {
      const tap& a = ty[static_cast<std::size_t>(y)];
      const float* r0 = &norm[static_cast<std::size_t>(a.i0) * static_cast<std::size_t>(w)];
      const float* r1 = &norm[static_cast<std::size_t>(a.i1) * static_cast<std::size_t>(w)];
      for (int x = 0; x < out_size.w; ++x) {
        const tap& b = tx[static_cast<std::size_t>(x)];
        const float top = r0[b.i0] * b.w0 + r0[b.i1] * b.w1;
        const float bottom = r1[b.i0] * b.w0 + r1[b.i1] * b.w1;
        dst[static_cast<std::size_t>(y) * static_cast<std::size_t>(out_size.w) +
            static_cast<std::size_t>(x)] = top * a.w0 + bottom * a.w1;
      }
    }
  }
}

image_batch make_batch(const transform_options& o, const std::vector<image_view>& images) {
  image_batch b;
  b.n = static_cast<int>(images.size());
  for (const image_view& v : images) {
    const resized_size s = transform_output_size(o, v.h, v.w);
    b.image_sizes.push_back(s);
    b.h = std::max(b.h, s.h);
    b.w = std::max(b.w, s.w);
  }
  const int d = o.size_divisible;
  b.h = (b.h + d - 1) / d * d;
  b.w = (b.w + d - 1) / d * d;
  const std::size_t img = 3 * static_cast<std::size_t>(b.h) * static_cast<std::size_t>(b.w);
  b.data.assign(img * images.size(), 0.0f);
  std::vector<float> tmp;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const resized_size s = b.image_sizes[i];
    tmp.resize(3 * static_cast<std::size_t>(s.h) * static_cast<std::size_t>(s.w));
    normalize_and_resize(o, images[i].chw, images[i].h, images[i].w, s, tmp.data());
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < s.h; ++y)
        std::copy_n(&tmp[(static_cast<std::size_t>(c) * static_cast<std::size_t>(s.h) +
                          static_cast<std::size_t>(y)) *
                         static_cast<std::size_t>(s.w)],
                    s.w,
                    &b.data[i * img + (static_cast<std::size_t>(c) * static_cast<std::size_t>(b.h) +
                                       static_cast<std::size_t>(y)) *
                                          static_cast<std::size_t>(b.w)]);
  }
  return b;
}

void resize_boxes(float* boxes, int count, int from_h, int from_w, int to_h, int to_w) {
  const float rh = static_cast<float>(to_h) / static_cast<float>(from_h);
  const float rw = static_cast<float>(to_w) / static_cast<float>(from_w);
  for (int i = 0; i < count; ++i) {
    boxes[4 * i + 0] *= rw;
    boxes[4 * i + 1] *= rh;
    boxes[4 * i + 2] *= rw;
    boxes[4 * i + 3] *= rh;
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

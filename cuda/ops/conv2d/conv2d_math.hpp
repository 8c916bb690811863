// cuda/ops/conv2d/conv2d_math.hpp — per-element bodies of conv2d (NCHW, no groups/dilation), shared
// by the CUDA kernels and the CPU twin: im2col and a gather-style col2im (Caffe/darknet's
// col2im_gpu_kernel: one output per input pixel, no atomics, deterministic).
#pragma once

#include "../../common/blocked_sum.hpp"
#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Input (n, c_in, h, w), weight (c_out, c_in, kh, kw), output (n, c_out, out_h, out_w).
struct conv2d_shape {
  int n = 0, c_in = 0, h = 0, w = 0;
  int c_out = 0, kh = 1, kw = 1, stride = 1, pad = 0;

  DETKIT_HD int out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  DETKIT_HD int out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  /// im2col matrix of one image: rows = c_in*kh*kw, cols = out_h*out_w.
  DETKIT_HD int col_rows() const { return c_in * kh * kw; }
  DETKIT_HD int col_cols() const { return out_h() * out_w(); }
  /// 1x1, stride 1, no padding: the im2col matrix is the image itself, so both directions skip it
  /// (AlexeyAB's condition; pjreddie's `size == 1` alone is wrong for the stride-2 downsample).
  DETKIT_HD bool is_pointwise() const { return kh == 1 && kw == 1 && stride == 1 && pad == 0; }
};

/// The bias gradient's reduction: one segment per output channel, one plane per image.
DETKIT_HD blocked_layout bias_grad_layout(const conv2d_shape& s) {
  blocked_layout l;
  l.segments = s.c_out;
  l.segment_stride = s.col_cols();
  l.planes = s.n;
  l.plane_stride = static_cast<long long>(s.c_out) * s.col_cols();
  l.plane_len = s.col_cols();
  return l;
}

/// Element (row, col) of one image's im2col matrix; row = (c*kh + ki)*kw + kj, col = oy*out_w + ox.
DETKIT_HD float im2col_value(const conv2d_shape& s, const float* x_img, int row, int col) {
  const int ow = s.out_w();
  const int kj = row % s.kw;
  const int ki = (row / s.kw) % s.kh;
  const int c = row / (s.kw * s.kh);
  const int oy = col / ow, ox = col % ow;
  const int iy = oy * s.stride - s.pad + ki, ix = ox * s.stride - s.pad + kj;
  if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) return 0.0f;
  return x_img[(static_cast<long long>(c) * s.h + iy) * s.w + ix];
}

/// Sum of every im2col entry that came from input pixel (c, iy, ix): the col2im gather.
DETKIT_HD float col2im_value(const conv2d_shape& s, const float* col_img, int c, int iy, int ix) {
  const int oh = s.out_h(), ow = s.out_w();
  const long long cols = static_cast<long long>(oh) * ow;
  float sum = 0.0f;
  for (int ki = 0; ki < s.kh; ++ki) {
    const int ty = iy + s.pad - ki;
    if (ty < 0 || ty % s.stride != 0) continue;
    const int oy = ty / s.stride;
    if (oy >= oh) continue;
    for (int kj = 0; kj < s.kw; ++kj) {
      const int tx = ix + s.pad - kj;
      if (tx < 0 || tx % s.stride != 0) continue;
      const int ox = tx / s.stride;
      if (ox >= ow) continue;
      const long long row = (static_cast<long long>(c) * s.kh + ki) * s.kw + kj;
      sum += col_img[row * cols + static_cast<long long>(oy) * ow + ox];
    }
  }
  return sum;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

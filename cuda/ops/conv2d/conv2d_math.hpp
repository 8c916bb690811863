// cuda/ops/conv2d/conv2d_math.hpp — per-element bodies of conv2d (NCHW, no groups/dilation), shared
// by the CUDA kernels and the CPU twin: a whole-batch im2col and a gather-style col2im
// (Caffe/darknet's col2im_gpu_kernel: one output per input pixel, no atomics, deterministic).
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
  /// Rows of the im2col matrix: c_in*kh*kw.
  DETKIT_HD int col_rows() const { return c_in * kh * kw; }
  /// Output pixels of one image: out_h*out_w.
  DETKIT_HD int col_cols() const { return out_h() * out_w(); }
  /// Columns of the whole-batch im2col matrix, image-major: j = image*col_cols() + pixel. One GEMM
  /// per layer then covers the batch (k = batch_cols() for the weight gradient).
  DETKIT_HD long long batch_cols() const { return static_cast<long long>(n) * col_cols(); }
  /// 1x1, stride 1, no padding: the im2col matrix is the image itself, so both directions skip it
  /// (AlexeyAB's condition; pjreddie's `size == 1` alone is wrong for the stride-2 downsample).
  DETKIT_HD bool is_pointwise() const { return kh == 1 && kw == 1 && stride == 1 && pad == 0; }
};

/// The bias gradient's reduction over dY (NCHW): one segment per output channel, one plane per image.
DETKIT_HD blocked_layout bias_grad_layout(const conv2d_shape& s) {
  blocked_layout l;
  l.segments = s.c_out;
  l.segment_stride = s.col_cols();
  l.planes = s.n;
  l.plane_stride = static_cast<long long>(s.c_out) * s.col_cols();
  l.plane_len = s.col_cols();
  return l;
}

/// Element (row, j) of the whole-batch im2col matrix (col_rows() x batch_cols()):
/// row = (c*kh + ki)*kw + kj, j = image*col_cols() + oy*out_w + ox.
DETKIT_HD float im2col_value(const conv2d_shape& s, const float* x, int row, long long j) {
  const int ow = s.out_w();
  const long long pixels = s.col_cols();
  const int img = static_cast<int>(j / pixels);
  const int p = static_cast<int>(j - img * pixels);
  const int kj = row % s.kw;
  const int ki = (row / s.kw) % s.kh;
  const int c = row / (s.kw * s.kh);
  const int oy = p / ow, ox = p % ow;
  const int iy = oy * s.stride - s.pad + ki, ix = ox * s.stride - s.pad + kj;
  if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) return 0.0f;
  return x[((static_cast<long long>(img) * s.c_in + c) * s.h + iy) * s.w + ix];
}

/// Sum of every whole-batch im2col entry that came from input pixel (img, c, iy, ix): the col2im
/// gather, in (ki, kj) order.
DETKIT_HD float col2im_value(const conv2d_shape& s, const float* col, int img, int c, int iy,
                             int ix) {
  const int oh = s.out_h(), ow = s.out_w();
  const long long ld = s.batch_cols();
  const long long base = static_cast<long long>(img) * oh * ow;
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
      sum += col[row * ld + base + static_cast<long long>(oy) * ow + ox];
    }
  }
  return sum;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

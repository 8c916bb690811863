// cuda/ops/conv2d/conv2d_cpu.cpp — CPU twin of conv2d.cu: whole-batch im2col/col2im and one GEMM per
// direction per batch (gemm_cpu: oneDNN or OpenBLAS). The loops below produce the same values as
// im2col_value / col2im_value, row by row so the inner loop is a copy, not a division per element.
#include <algorithm>

#include "../../common/blocked_sum.hpp"
#include "../../common/gemm.hpp"
#include "conv2d.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
using index = long long;

// Output columns [first, last) whose input column ox*stride - pad + kj lies inside [0, w).
void valid_columns(const conv2d_shape& s, int kj, int* first, int* last) {
  const int ow = s.out_w();
  int a = 0, b = ow;
  while (a < ow && a * s.stride - s.pad + kj < 0) ++a;
  while (b > a && (b - 1) * s.stride - s.pad + kj >= s.w) --b;
  *first = a;
  *last = b;
}

// col (col_rows x batch_cols) = im2col over every image of x.
void im2col_cpu(const conv2d_shape& s, const float* x, float* col) {
  const int oh = s.out_h(), ow = s.out_w();
  const index pixels = s.col_cols(), ld = s.batch_cols();
  for (int c = 0; c < s.c_in; ++c)
    for (int ki = 0; ki < s.kh; ++ki)
      for (int kj = 0; kj < s.kw; ++kj) {
        int ox0 = 0, ox1 = 0;
        valid_columns(s, kj, &ox0, &ox1);
        const index row = (static_cast<index>(c) * s.kh + ki) * s.kw + kj;
        for (int img = 0; img < s.n; ++img) {
          const float* xc = x + (static_cast<index>(img) * s.c_in + c) * s.h * s.w;
          float* dst = col + row * ld + img * pixels;
          for (int oy = 0; oy < oh; ++oy) {
            float* d = dst + static_cast<index>(oy) * ow;
            const int iy = oy * s.stride - s.pad + ki;
            if (iy < 0 || iy >= s.h) {
              std::fill(d, d + ow, 0.0f);
              continue;
            }
            const float* src = xc + static_cast<index>(iy) * s.w - s.pad + kj;
            std::fill(d, d + ox0, 0.0f);
            if (s.stride == 1)
              std::copy(src + ox0, src + ox1, d + ox0);
            else
              for (int ox = ox0; ox < ox1; ++ox) d[ox] = src[static_cast<index>(ox) * s.stride];
            std::fill(d + ox1, d + ow, 0.0f);
          }
        }
      }
}

// dx (+)= col2im(col). A scatter in row order: each input pixel receives its entries in (ki, kj)
// order, the order of col2im_value's gather.
void col2im_cpu(const conv2d_shape& s, const float* col, float* dx, grad_write mode) {
  if (mode == grad_write::overwrite)
    std::fill(dx, dx + static_cast<index>(s.n) * s.c_in * s.h * s.w, 0.0f);
  const int oh = s.out_h(), ow = s.out_w();
  const index pixels = s.col_cols(), ld = s.batch_cols();
  for (int c = 0; c < s.c_in; ++c)
    for (int ki = 0; ki < s.kh; ++ki)
      for (int kj = 0; kj < s.kw; ++kj) {
        int ox0 = 0, ox1 = 0;
        valid_columns(s, kj, &ox0, &ox1);
        const index row = (static_cast<index>(c) * s.kh + ki) * s.kw + kj;
        for (int img = 0; img < s.n; ++img) {
          float* xc = dx + (static_cast<index>(img) * s.c_in + c) * s.h * s.w;
          const float* src = col + row * ld + img * pixels;
          for (int oy = 0; oy < oh; ++oy) {
            const int iy = oy * s.stride - s.pad + ki;
            if (iy < 0 || iy >= s.h) continue;
            float* d = xc + static_cast<index>(iy) * s.w - s.pad + kj;
            const float* v = src + static_cast<index>(oy) * ow;
            for (int ox = ox0; ox < ox1; ++ox) d[static_cast<index>(ox) * s.stride] += v[ox];
          }
        }
      }
}

// (n, c, pixels) -> (c, n*pixels): the layout one GEMM over the batch reads and writes.
void to_channel_major(int n, int c, index pixels, const float* src, float* dst) {
  for (int img = 0; img < n; ++img)
    for (int ch = 0; ch < c; ++ch) {
      const float* from = src + (static_cast<index>(img) * c + ch) * pixels;
      std::copy(from, from + pixels, dst + (static_cast<index>(ch) * n + img) * pixels);
    }
}
}  // namespace

void conv2d_forward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* b,
                        float* y, float* col) {
  const int rows = s.col_rows();
  const index pixels = s.col_cols(), ld = s.batch_cols();
  const bool direct = s.is_pointwise() && s.n == 1;  // x is already the im2col matrix
  if (!direct) im2col_cpu(s, x, col);
  // One image: the GEMM writes NCHW itself. More: into (c_out, n*pixels), then back to NCHW.
  float* yt = s.n == 1 ? y : col + static_cast<index>(rows) * ld;
  gemm_cpu(transpose::no, transpose::no, s.c_out, static_cast<int>(ld), rows, 1.0f, w, rows,
           direct ? x : col, static_cast<int>(ld), 0.0f, yt, static_cast<int>(ld));
  for (int img = 0; img < s.n; ++img)
    for (int co = 0; co < s.c_out; ++co) {
      const float* from = yt + (static_cast<index>(co) * s.n + img) * pixels;
      float* to = y + (static_cast<index>(img) * s.c_out + co) * pixels;
      const float bias = b != nullptr ? b[co] : 0.0f;
      if (b != nullptr)
        for (index p = 0; p < pixels; ++p) to[p] = from[p] + bias;
      else if (from != to)
        std::copy(from, from + pixels, to);
    }
}

void conv2d_backward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db, float* col, grad_write dx_write,
                         grad_write param_write) {
  const int rows = s.col_rows();
  const index pixels = s.col_cols(), ld = s.batch_cols();
  const int ldi = static_cast<int>(ld);
  const bool direct = s.is_pointwise() && s.n == 1;
  const float param_beta = param_write == grad_write::overwrite ? 0.0f : 1.0f;
  // dY as (c_out, n*pixels), the k (dW) and n (dX) of one GEMM each.
  const float* dyt = dy;
  if (s.n > 1) {
    float* t = col + static_cast<index>(rows) * ld;
    to_channel_major(s.n, s.c_out, pixels, dy, t);
    dyt = t;
  }
  if (db != nullptr) {  // the device's blocked order (bias_grad_layout), so db is bit-equal
    const blocked_layout l = bias_grad_layout(s);
    for (int co = 0; co < s.c_out; ++co) {
      const float sum = static_cast<float>(
          blocked_segment_sum_cpu(l, co, [dy](long long begin, long long len, float* out) {
            std::copy(dy + begin, dy + begin + len, out);
          }));
      db[co] = param_write == grad_write::overwrite ? sum : db[co] + sum;
    }
  }
  if (dw != nullptr) {  // dW (+)= dY * col^T
    if (!direct) im2col_cpu(s, x, col);
    gemm_cpu(transpose::no, transpose::yes, s.c_out, rows, ldi, 1.0f, dyt, ldi, direct ? x : col,
             ldi, param_beta, dw, rows);
  }
  if (dx == nullptr) return;
  if (direct) {  // dx (+)= W^T * dY directly
    gemm_cpu(transpose::yes, transpose::no, rows, ldi, s.c_out, 1.0f, w, rows, dyt, ldi,
             dx_write == grad_write::overwrite ? 0.0f : 1.0f, dx, ldi);
    return;
  }
  // dcol = W^T * dY over the whole batch, then gathered back into the images.
  gemm_cpu(transpose::yes, transpose::no, rows, ldi, s.c_out, 1.0f, w, rows, dyt, ldi, 0.0f, col,
           ldi);
  col2im_cpu(s, col, dx, dx_write);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

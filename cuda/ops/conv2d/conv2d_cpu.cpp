// cuda/ops/conv2d/conv2d_cpu.cpp — CPU twin of conv2d.cu: the im2col/col2im bodies in a loop and
// CBLAS GEMMs (darknet's forward_convolutional_layer / backward_convolutional_layer order).
#include <algorithm>

#include "../../common/blocked_sum.hpp"
#include "../../common/gemm.hpp"
#include "conv2d.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
void im2col_cpu(const conv2d_shape& s, const float* x_img, float* col) {
  const int rows = s.col_rows(), cols = s.col_cols();
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      col[static_cast<long long>(r) * cols + c] = im2col_value(s, x_img, r, c);
}
}  // namespace

void conv2d_forward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* b,
                        float* y, float* col) {
  const int rows = s.col_rows(), cols = s.col_cols();
  const long long x_img = static_cast<long long>(s.c_in) * s.h * s.w;
  const long long y_img = static_cast<long long>(s.c_out) * cols;
  for (int n = 0; n < s.n; ++n) {
    const float* src = x + n * x_img;
    if (!s.is_pointwise()) {
      im2col_cpu(s, src, col);
      src = col;
    }
    float* yn = y + n * y_img;
    gemm_cpu(transpose::no, transpose::no, s.c_out, cols, rows, 1.0f, w, rows, src, cols, 0.0f, yn,
             cols);
    if (b != nullptr)
      for (int co = 0; co < s.c_out; ++co)
        for (int p = 0; p < cols; ++p) yn[static_cast<long long>(co) * cols + p] += b[co];
  }
}

void conv2d_backward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db, float* col) {
  const int rows = s.col_rows(), cols = s.col_cols();
  const long long x_img = static_cast<long long>(s.c_in) * s.h * s.w;
  const long long y_img = static_cast<long long>(s.c_out) * cols;
  if (db != nullptr) {  // the device's blocked order (bias_grad_layout), so db is bit-equal
    const blocked_layout l = bias_grad_layout(s);
    for (int co = 0; co < s.c_out; ++co)
      db[co] += static_cast<float>(
          blocked_segment_sum_cpu(l, co, [dy](long long begin, long long len, float* out) {
            std::copy(dy + begin, dy + begin + len, out);
          }));
  }
  for (int n = 0; n < s.n; ++n) {
    const float* dyn = dy + n * y_img;
    // dW += dY * col^T
    if (dw != nullptr) {
      const float* src = x + n * x_img;
      if (!s.is_pointwise()) {
        im2col_cpu(s, src, col);
        src = col;
      }
      gemm_cpu(transpose::no, transpose::yes, s.c_out, rows, cols, 1.0f, dyn, cols, src, cols, 1.0f,
               dw, rows);
    }
    if (dx == nullptr) continue;
    if (s.is_pointwise()) {  // dx += W^T * dY directly
      gemm_cpu(transpose::yes, transpose::no, rows, cols, s.c_out, 1.0f, w, rows, dyn, cols, 1.0f,
               dx + n * x_img, cols);
      continue;
    }
    // dcol = W^T * dY, then gather back into the image.
    gemm_cpu(transpose::yes, transpose::no, rows, cols, s.c_out, 1.0f, w, rows, dyn, cols, 0.0f,
             col, cols);
    float* dxn = dx + n * x_img;
    for (int c = 0; c < s.c_in; ++c)
      for (int iy = 0; iy < s.h; ++iy)
        for (int ix = 0; ix < s.w; ++ix)
          dxn[(static_cast<long long>(c) * s.h + iy) * s.w + ix] += col2im_value(s, col, c, iy, ix);
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

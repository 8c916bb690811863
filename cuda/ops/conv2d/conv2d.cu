// cuda/ops/conv2d/conv2d.cu — conv2d on the GPU: im2col kernel + cuBLAS SGEMM per image, gather
// col2im (no atomics), per-channel bias kernels. Same bodies as conv2d_cpu.cpp.
#include "../../common/blocked_sum.cuh"
#include "../../common/gpu_context.hpp"
#include "conv2d.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void conv2d_im2col_kernel(conv2d_shape s, const float* x_img, float* col) {
  const long long cols = s.col_cols();
  const long long total = static_cast<long long>(s.col_rows()) * cols;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total)
    col[i] = im2col_value(s, x_img, static_cast<int>(i / cols), static_cast<int>(i % cols));
}

__global__ void conv2d_col2im_add_kernel(conv2d_shape s, const float* col, float* dx_img) {
  const long long total = static_cast<long long>(s.c_in) * s.h * s.w;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const int ix = static_cast<int>(i % s.w);
    const int iy = static_cast<int>((i / s.w) % s.h);
    const int c = static_cast<int>(i / (static_cast<long long>(s.w) * s.h));
    dx_img[i] += col2im_value(s, col, c, iy, ix);
  }
}

__global__ void conv2d_bias_forward_kernel(int n, int c_out, int pixels, const float* b, float* y) {
  const long long total = static_cast<long long>(n) * c_out * pixels;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) y[i] += b[(i / pixels) % c_out];
}

// db[co] += the channel's blocked sum (blocked_sum.cuh), one thread per channel.
__global__ void conv2d_bias_backward_kernel(int c_out, const double* channel_sums, float* db) {
  const int co = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (co < c_out) db[co] += static_cast<float>(channel_sums[co]);
}
}  // namespace

void conv2d_forward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                    const float* b, float* y, float* col) {
  const int rows = s.col_rows(), cols = s.col_cols();
  const long long x_img = static_cast<long long>(s.c_in) * s.h * s.w;
  const long long y_img = static_cast<long long>(s.c_out) * cols;
  for (int n = 0; n < s.n; ++n) {
    const float* src = x + n * x_img;
    if (!s.is_pointwise()) {
      conv2d_im2col_kernel<<<blocks_for(static_cast<long long>(rows) * cols), 256, 0, ctx.stream>>>(
          s, src, col);
      DETKIT_CUDA_CHECK_LAUNCH();
      src = col;
    }
    gemm_row_major(ctx, transpose::no, transpose::no, s.c_out, cols, rows, 1.0f, w, rows, src, cols,
                   0.0f, y + n * y_img, cols);
  }
  if (b != nullptr) {
    conv2d_bias_forward_kernel<<<blocks_for(static_cast<long long>(s.n) * y_img), 256, 0,
                                 ctx.stream>>>(s.n, s.c_out, cols, b, y);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
}

void conv2d_backward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, float* col) {
  const int rows = s.col_rows(), cols = s.col_cols();
  const long long x_img = static_cast<long long>(s.c_in) * s.h * s.w;
  const long long y_img = static_cast<long long>(s.c_out) * cols;
  if (db != nullptr) {
    const double* sums = blocked_segment_sums(ctx, bias_grad_layout(s), dy);
    conv2d_bias_backward_kernel<<<blocks_for(s.c_out), 256, 0, ctx.stream>>>(s.c_out, sums, db);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
  for (int n = 0; n < s.n; ++n) {
    const float* dyn = dy + n * y_img;
    if (dw != nullptr) {
      const float* src = x + n * x_img;
      if (!s.is_pointwise()) {
        conv2d_im2col_kernel<<<blocks_for(static_cast<long long>(rows) * cols), 256, 0,
                               ctx.stream>>>(s, src, col);
        DETKIT_CUDA_CHECK_LAUNCH();
        src = col;
      }
      gemm_row_major(ctx, transpose::no, transpose::yes, s.c_out, rows, cols, 1.0f, dyn, cols, src,
                     cols, 1.0f, dw, rows);
    }
    if (dx == nullptr) continue;
    if (s.is_pointwise()) {  // dx += W^T * dY directly
      gemm_row_major(ctx, transpose::yes, transpose::no, rows, cols, s.c_out, 1.0f, w, rows, dyn,
                     cols, 1.0f, dx + n * x_img, cols);
      continue;
    }
    gemm_row_major(ctx, transpose::yes, transpose::no, rows, cols, s.c_out, 1.0f, w, rows, dyn,
                   cols, 0.0f, col, cols);
    conv2d_col2im_add_kernel<<<blocks_for(x_img), 256, 0, ctx.stream>>>(s, col, dx + n * x_img);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/conv2d/conv2d.cu — conv2d on the GPU, one GEMM per direction per batch: a whole-batch
// im2col kernel, one strided-batched cuBLAS SGEMM writing NCHW (forward), one SGEMM over every pixel
// of every image for dW, one for dX followed by a whole-batch gather col2im (no atomics), and
// per-channel bias kernels. Same bodies and layout as conv2d_cpu.cpp.
#include "../../common/blocked_sum.cuh"
#include "../../common/gemm_cuda.hpp"
#include "../../common/gpu_context.hpp"
#include "conv2d.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void conv2d_im2col_kernel(conv2d_shape s, const float* x, float* col) {
  const long long cols = s.batch_cols();
  const long long total = static_cast<long long>(s.col_rows()) * cols;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) col[i] = im2col_value(s, x, static_cast<int>(i / cols), i % cols);
}

__global__ void conv2d_col2im_kernel(conv2d_shape s, const float* col, float* dx, grad_write mode) {
  const long long total = static_cast<long long>(s.n) * s.c_in * s.h * s.w;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const int ix = static_cast<int>(i % s.w);
    const int iy = static_cast<int>((i / s.w) % s.h);
    const long long plane = i / (static_cast<long long>(s.w) * s.h);
    const int c = static_cast<int>(plane % s.c_in);
    const int img = static_cast<int>(plane / s.c_in);
    const float v = col2im_value(s, col, img, c, iy, ix);
    dx[i] = mode == grad_write::overwrite ? v : dx[i] + v;
  }
}

// (n, c, pixels) -> (c, n*pixels), the layout of one GEMM over the batch.
__global__ void conv2d_to_channel_major_kernel(int n, int c, long long pixels, const float* src,
                                               float* dst) {
  const long long total = static_cast<long long>(n) * c * pixels;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) {
    const long long p = i % pixels;
    const long long plane = i / pixels;  // img * c + ch
    const long long ch = plane % c, img = plane / c;
    dst[(ch * n + img) * pixels + p] = src[i];
  }
}

__global__ void conv2d_bias_forward_kernel(int n, int c_out, int pixels, const float* b, float* y) {
  const long long total = static_cast<long long>(n) * c_out * pixels;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) y[i] += b[(i / pixels) % c_out];
}

// db[co] (+)= the channel's blocked sum (blocked_sum.cuh), one thread per channel.
__global__ void conv2d_bias_backward_kernel(int c_out, const double* channel_sums, float* db,
                                            grad_write mode) {
  const int co = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (co >= c_out) return;
  const float sum = static_cast<float>(channel_sums[co]);
  db[co] = mode == grad_write::overwrite ? sum : db[co] + sum;
}
}  // namespace

void conv2d_forward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                    const float* b, float* y, float* col) {
  const int rows = s.col_rows(), pixels = s.col_cols();
  const long long ld = s.batch_cols();
  // y_i = W * (image i's columns of col): one strided-batched call; a pointwise conv reads x itself.
  const float* src = x;
  int ldb = pixels;
  long long stride_b = static_cast<long long>(s.c_in) * pixels;
  if (!s.is_pointwise()) {
    conv2d_im2col_kernel<<<blocks_for(rows * ld), 256, 0, ctx.stream>>>(s, x, col);
    DETKIT_CUDA_CHECK_LAUNCH();
    src = col;
    ldb = static_cast<int>(ld);
    stride_b = pixels;
  }
  gemm_row_major_strided_batched(ctx, transpose::no, transpose::no, s.c_out, pixels, rows, 1.0f, w,
                                 rows, 0, src, ldb, stride_b, 0.0f, y, pixels,
                                 static_cast<long long>(s.c_out) * pixels, s.n);
  if (b != nullptr) {
    conv2d_bias_forward_kernel<<<blocks_for(s.c_out * ld), 256, 0, ctx.stream>>>(s.n, s.c_out,
                                                                                 pixels, b, y);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
}

void conv2d_backward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, float* col,
                     grad_write dx_write, grad_write param_write) {
  const int rows = s.col_rows(), pixels = s.col_cols();
  const long long ld = s.batch_cols();
  const int ldi = static_cast<int>(ld);
  const bool direct = s.is_pointwise() && s.n == 1;
  if (db != nullptr) {
    const double* sums = blocked_segment_sums(ctx, bias_grad_layout(s), dy);
    conv2d_bias_backward_kernel<<<blocks_for(s.c_out), 256, 0, ctx.stream>>>(s.c_out, sums, db,
                                                                             param_write);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
  // dY as (c_out, n*pixels): the k of the one dW GEMM and the n of the one dX GEMM.
  const float* dyt = dy;
  if (s.n > 1) {
    float* t = col + static_cast<long long>(rows) * ld;
    conv2d_to_channel_major_kernel<<<blocks_for(s.c_out * ld), 256, 0, ctx.stream>>>(s.n, s.c_out,
                                                                                     pixels, dy, t);
    DETKIT_CUDA_CHECK_LAUNCH();
    dyt = t;
  }
  if (dw != nullptr) {  // dW (+)= dY * col^T
    if (!direct) {
      conv2d_im2col_kernel<<<blocks_for(rows * ld), 256, 0, ctx.stream>>>(s, x, col);
      DETKIT_CUDA_CHECK_LAUNCH();
    }
    gemm_row_major(ctx, transpose::no, transpose::yes, s.c_out, rows, ldi, 1.0f, dyt, ldi,
                   direct ? x : col, ldi, param_write == grad_write::overwrite ? 0.0f : 1.0f, dw,
                   rows);
  }
  if (dx == nullptr) return;
  if (direct) {  // dx (+)= W^T * dY directly
    gemm_row_major(ctx, transpose::yes, transpose::no, rows, ldi, s.c_out, 1.0f, w, rows, dyt, ldi,
                   dx_write == grad_write::overwrite ? 0.0f : 1.0f, dx, ldi);
    return;
  }
  gemm_row_major(ctx, transpose::yes, transpose::no, rows, ldi, s.c_out, 1.0f, w, rows, dyt, ldi,
                 0.0f, col, ldi);
  conv2d_col2im_kernel<<<blocks_for(static_cast<long long>(s.n) * s.c_in * s.h * s.w), 256, 0,
                         ctx.stream>>>(s, col, dx, dx_write);
  DETKIT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

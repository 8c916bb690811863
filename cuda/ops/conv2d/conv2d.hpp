// cuda/ops/conv2d/conv2d.hpp — 2-D convolution forward/backward (torch.nn.Conv2d semantics, NCHW,
// any kernel/stride/padding, including 1x1 stride 2 which darknet's pjreddie branch gets wrong).
// One GEMM per layer per batch in each direction: im2col over the whole batch (columns image-major),
// then a single GEMM for y (the GPU: one strided-batched call writing NCHW), one for dW (k = every
// pixel of every image) and one for dX (then a whole-batch col2im). CBLAS/oneDNN on the CPU,
// cuBLAS on the GPU.
#pragma once

#include <cstddef>

#include "conv2d_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// How a backward stores a gradient: added to what is there (a tensor used twice: residuals, the
/// head shared over five levels), or written over it by its first writer, so nobody has to clear
/// the buffer first.
enum class grad_write { accumulate, overwrite };

/// Floats of workspace both directions need: the whole batch's im2col matrix
/// (col_rows x batch_cols), then an output-shaped (c_out x batch_cols) transpose of y or dY.
inline std::size_t conv2d_workspace_floats(const conv2d_shape& s) {
  return (static_cast<std::size_t>(s.col_rows()) + static_cast<std::size_t>(s.c_out)) *
         static_cast<std::size_t>(s.batch_cols());
}

/// y = conv(x, w) + b. b may be null (no bias). col: conv2d_workspace_floats(s) floats.
void conv2d_forward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* b,
                        float* y, float* col);
/// Gradients of y = conv(x, w) + b given dy. dx (null: the input needs no gradient) is stored per
/// dx_write; dw and db (null: frozen, or no bias) per param_write.
void conv2d_backward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db, float* col,
                         grad_write dx_write = grad_write::accumulate,
                         grad_write param_write = grad_write::accumulate);

/// The same on device pointers.
void conv2d_forward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                    const float* b, float* y, float* col);
void conv2d_backward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, float* col,
                     grad_write dx_write = grad_write::accumulate,
                     grad_write param_write = grad_write::accumulate);

}  // namespace cuda
DETKIT_END_NAMESPACE

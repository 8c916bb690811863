// cuda/ops/conv2d/conv2d.hpp — 2-D convolution forward/backward (torch.nn.Conv2d semantics, NCHW,
// any kernel/stride/padding, including 1x1 stride 2 which darknet's pjreddie branch gets wrong).
// Both spellings: im2col + GEMM per image (CBLAS on the CPU, cuBLAS on the GPU).
#pragma once

#include <cstddef>

#include "conv2d_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// Floats of workspace both directions need: one image's im2col matrix.
inline std::size_t conv2d_workspace_floats(const conv2d_shape& s) {
  return static_cast<std::size_t>(s.col_rows()) * static_cast<std::size_t>(s.col_cols());
}

/// y = conv(x, w) + b. b may be null (no bias). col: conv2d_workspace_floats(s) floats.
void conv2d_forward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* b,
                        float* y, float* col);
/// Accumulates (+=) into dx (may be null: input needs no gradient), dw and db (may be null).
/// dw may be null too (frozen weight).
void conv2d_backward_cpu(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db, float* col);

/// The same on device pointers.
void conv2d_forward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                    const float* b, float* y, float* col);
void conv2d_backward(gpu_context& ctx, const conv2d_shape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, float* col);

}  // namespace cuda
DETKIT_END_NAMESPACE

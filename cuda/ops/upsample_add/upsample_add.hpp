// cuda/ops/upsample_add/upsample_add.hpp — nearest upsample of `top` to the lateral size, plus the
// lateral: FPN's `inner_lateral + F.interpolate(last_inner, size=..., mode="nearest")`.
#pragma once

#include "upsample_add_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// lateral, out: (n, c, h, w); top: (n, c, th, tw).
void upsample_add_forward_cpu(int n, int c, int h, int w, int th, int tw, const float* lateral,
                              const float* top, float* out);
/// dlateral += dout; dtop += the gathered gradient.
void upsample_add_backward_cpu(int n, int c, int h, int w, int th, int tw, const float* dout,
                               float* dlateral, float* dtop);

void upsample_add_forward(gpu_context& ctx, int n, int c, int h, int w, int th, int tw,
                          const float* lateral, const float* top, float* out);
void upsample_add_backward(gpu_context& ctx, int n, int c, int h, int w, int th, int tw,
                           const float* dout, float* dlateral, float* dtop);

}  // namespace cuda
DETKIT_END_NAMESPACE

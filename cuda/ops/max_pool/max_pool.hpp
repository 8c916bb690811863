// cuda/ops/max_pool/max_pool.hpp — 2-D max pooling forward (with argmax) and backward.
#pragma once

#include "max_pool_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// y and arg: (n, c, out_h, out_w); arg holds the winner's index within its input plane.
void max_pool_forward_cpu(const max_pool_shape& s, const float* x, float* y, int* arg);
/// dx += routed dy (gather per input pixel, deterministic).
void max_pool_backward_cpu(const max_pool_shape& s, const float* dy, const int* arg, float* dx);

void max_pool_forward(gpu_context& ctx, const max_pool_shape& s, const float* x, float* y,
                      int* arg);
void max_pool_backward(gpu_context& ctx, const max_pool_shape& s, const float* dy, const int* arg,
                       float* dx);

}  // namespace cuda
DETKIT_END_NAMESPACE

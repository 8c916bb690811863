// cuda/ops/relu/relu.hpp — elementwise ReLU forward/backward and add (residual connections,
// gradient accumulation). Counts are element counts.
#pragma once

#include "relu_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

/// y = max(x, 0); y may alias x.
void relu_forward_cpu(long long count, const float* x, float* y);
/// dx += (y > 0) * dy.
void relu_backward_cpu(long long count, const float* y, const float* dy, float* dx);
/// y = a + b (y may alias a or b).
void add_forward_cpu(long long count, const float* a, const float* b, float* y);
/// dst += src.
void accumulate_cpu(long long count, const float* src, float* dst);

void relu_forward(gpu_context& ctx, long long count, const float* x, float* y);
void relu_backward(gpu_context& ctx, long long count, const float* y, const float* dy, float* dx);
void add_forward(gpu_context& ctx, long long count, const float* a, const float* b, float* y);
void accumulate(gpu_context& ctx, long long count, const float* src, float* dst);

}  // namespace cuda
DETKIT_END_NAMESPACE

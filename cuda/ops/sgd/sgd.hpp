// cuda/ops/sgd/sgd.hpp — SGD with momentum and weight decay over a flat parameter block.
#pragma once

#include "sgd_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

void sgd_step_cpu(const sgd_options& o, long long count, const float* grad, float* param,
                  float* momentum_buf);
void sgd_step(gpu_context& ctx, const sgd_options& o, long long count, const float* grad,
              float* param, float* momentum_buf);

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/sgd/sgd.hpp — SGD with momentum and weight decay over a flat parameter block.
#pragma once

#include "sgd_math.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct gpu_context;

void sgd_step_cpu(const sgd_options& o, long long count, const float* grad, float* param,
                  float* momentum_buf);
/// Sum of squares of x (double accumulation on the CPU; cuBLAS Snrm2 squared on the GPU).
double sum_of_squares_cpu(long long count, const float* x);
double sum_of_squares(gpu_context& ctx, long long count, const float* x);
void sgd_step(gpu_context& ctx, const sgd_options& o, long long count, const float* grad,
              float* param, float* momentum_buf);

}  // namespace cuda
DETKIT_END_NAMESPACE

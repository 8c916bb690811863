// cuda/ops/sgd/sgd_cpu.cpp — CPU twin of sgd.cu.
#include "sgd.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void sgd_step_cpu(const sgd_options& o, long long count, const float* grad, float* param,
                  float* momentum_buf) {
  for (long long i = 0; i < count; ++i) sgd_update(o, grad[i], &param[i], &momentum_buf[i]);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

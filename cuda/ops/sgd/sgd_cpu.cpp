// cuda/ops/sgd/sgd_cpu.cpp — CPU twin of sgd.cu.
#include "sgd.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void sgd_step_cpu(const sgd_options& o, long long count, const float* grad, float* param,
                  float* momentum_buf) {
  for (long long i = 0; i < count; ++i) sgd_update(o, grad[i], &param[i], &momentum_buf[i]);
}

double sum_of_squares_cpu(long long count, const float* x) {
  double s = 0.0;
  for (long long i = 0; i < count; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return s;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

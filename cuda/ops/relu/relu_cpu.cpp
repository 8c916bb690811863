// cuda/ops/relu/relu_cpu.cpp — CPU twin of relu.cu.
#include "relu.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void relu_forward_cpu(long long count, const float* x, float* y) {
  for (long long i = 0; i < count; ++i) y[i] = relu_value(x[i]);
}
void relu_backward_cpu(long long count, const float* y, const float* dy, float* dx) {
  for (long long i = 0; i < count; ++i) dx[i] += relu_grad(y[i], dy[i]);
}
void add_forward_cpu(long long count, const float* a, const float* b, float* y) {
  for (long long i = 0; i < count; ++i) y[i] = a[i] + b[i];
}
void accumulate_cpu(long long count, const float* src, float* dst) {
  for (long long i = 0; i < count; ++i) dst[i] += src[i];
}

}  // namespace cuda
DETKIT_END_NAMESPACE

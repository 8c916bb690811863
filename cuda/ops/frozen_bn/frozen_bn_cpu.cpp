// cuda/ops/frozen_bn/frozen_bn_cpu.cpp — CPU twin of frozen_bn.cu.
#include "frozen_bn.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void frozen_bn_fold_cpu(int c, const float* weight, const float* bias, const float* running_mean,
                        const float* running_var, float eps, float* scale, float* shift) {
  for (int i = 0; i < c; ++i)
    frozen_bn_fold(weight[i], bias[i], running_mean[i], running_var[i], eps, &scale[i], &shift[i]);
}

void frozen_bn_forward_cpu(int n, int c, int pixels, const float* x, const float* scale,
                           const float* shift, float* y) {
  for (long long plane = 0; plane < static_cast<long long>(n) * c; ++plane) {
    const int ch = static_cast<int>(plane % c);
    for (long long p = plane * pixels; p < (plane + 1) * pixels; ++p)
      y[p] = affine_value(x[p], scale[ch], shift[ch]);
  }
}

void frozen_bn_backward_cpu(int n, int c, int pixels, const float* dy, const float* scale,
                            float* dx) {
  for (long long plane = 0; plane < static_cast<long long>(n) * c; ++plane) {
    const int ch = static_cast<int>(plane % c);
    for (long long p = plane * pixels; p < (plane + 1) * pixels; ++p)
      dx[p] = affine_grad_accumulate(dx[p], dy[p], scale[ch]);
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

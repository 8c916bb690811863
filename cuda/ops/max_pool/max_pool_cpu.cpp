// cuda/ops/max_pool/max_pool_cpu.cpp — CPU twin of max_pool.cu.
#include "max_pool.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void max_pool_forward_cpu(const max_pool_shape& s, const float* x, float* y, int* arg) {
  const int oh = s.out_h(), ow = s.out_w();
  for (long long plane = 0; plane < static_cast<long long>(s.n) * s.c; ++plane)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const long long o = (plane * oh + oy) * ow + ox;
        y[o] = max_pool_value(s, x + plane * s.h * s.w, oy, ox, &arg[o]);
      }
}

void max_pool_backward_cpu(const max_pool_shape& s, const float* dy, const int* arg, float* dx) {
  const long long out_plane = static_cast<long long>(s.out_h()) * s.out_w();
  for (long long plane = 0; plane < static_cast<long long>(s.n) * s.c; ++plane)
    for (int iy = 0; iy < s.h; ++iy)
      for (int ix = 0; ix < s.w; ++ix)
        dx[(plane * s.h + iy) * s.w + ix] +=
            max_pool_grad_value(s, dy + plane * out_plane, arg + plane * out_plane, iy, ix);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/upsample_add/upsample_add_cpu.cpp — CPU twin of upsample_add.cu.
#include "upsample_add.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void upsample_add_forward_cpu(int n, int c, int h, int w, int th, int tw, const float* lateral,
                              const float* top, float* out) {
  for (long long plane = 0; plane < static_cast<long long>(n) * c; ++plane)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const long long o = (plane * h + y) * w + x;
        out[o] = lateral[o] +
                 top[(plane * th + nearest_source(y, th, h)) * tw + nearest_source(x, tw, w)];
      }
}

void upsample_add_backward_cpu(int n, int c, int h, int w, int th, int tw, const float* dout,
                               float* dlateral, float* dtop) {
  const long long count = static_cast<long long>(n) * c * h * w;
  for (long long i = 0; i < count; ++i) dlateral[i] += dout[i];
  for (long long plane = 0; plane < static_cast<long long>(n) * c; ++plane)
    for (int ty = 0; ty < th; ++ty)
      for (int tx = 0; tx < tw; ++tx)
        dtop[(plane * th + ty) * tw + tx] +=
            upsample_grad_value(dout + plane * h * w, h, w, th, tw, ty, tx);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

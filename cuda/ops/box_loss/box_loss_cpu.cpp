// cuda/ops/box_loss/box_loss_cpu.cpp — CPU twin of box_loss.cu (double accumulation).
#include "../../common/foreground_norm.hpp"
#include "box_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

float box_loss_cpu(int n, int r, const box_loss_options& o, const float* deltas,
                   const float* targets, const float* anchors, const int* cls_target,
                   float grad_scale, float* ddeltas) {
  double total = 0.0;
  for (int img = 0; img < n; ++img) {
    const int* t = cls_target + static_cast<long long>(img) * r;
    const float norm = foreground_norm(t, r);
    const float w = grad_scale / (norm * static_cast<float>(n));
    double sum = 0.0;
    for (int a = 0; a < r; ++a) {
      const long long base = (static_cast<long long>(img) * r + a) * 4;
      float g[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      if (t[a] >= 0)
        sum += static_cast<double>(box_loss_anchor(
            o, deltas + base, targets + base, anchors == nullptr ? nullptr : anchors + 4 * a, g));
      for (int j = 0; j < 4; ++j) ddeltas[base + j] = g[j] * w;
    }
    total += sum / static_cast<double>(norm);
  }
  return static_cast<float>(total / n);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/focal_loss/focal_loss_cpu.cpp — CPU twin of focal_loss.cu (double accumulation).
#include "../../common/foreground_norm.hpp"
#include "focal_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

float focal_loss_cpu(int n, int r, int k, const float* logits, const int* cls_target,
                     const focal_options& o, float grad_scale, float* dlogits) {
  double total = 0.0;
  for (int img = 0; img < n; ++img) {
    const int* t = cls_target + static_cast<long long>(img) * r;
    const float norm = foreground_norm(t, r);
    const float w = grad_scale / (norm * static_cast<float>(n));
    double sum = 0.0;
    for (int a = 0; a < r; ++a) {
      const long long base = (static_cast<long long>(img) * r + a) * k;
      for (int c = 0; c < k; ++c) {
        if (t[a] == anchor_ignored) {
          dlogits[base + c] = 0.0f;
          continue;
        }
        const focal_term f = sigmoid_focal_term(logits[base + c], t[a] == c ? 1.0f : 0.0f, o);
        sum += static_cast<double>(f.loss);
        dlogits[base + c] = f.grad * w;
      }
    }
    total += sum / static_cast<double>(norm);
  }
  return static_cast<float>(total / n);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

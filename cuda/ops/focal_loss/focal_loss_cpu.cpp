// cuda/ops/focal_loss/focal_loss_cpu.cpp — CPU twin of focal_loss.cu: the same terms, summed in the
// GPU's blocked order (common/blocked_sum.hpp), so the loss differs only where the terms do.
#include <vector>

#include "../../common/blocked_sum.hpp"
#include "../../common/foreground_norm.hpp"
#include "focal_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

float focal_loss_cpu(int n, int r, int k, const float* logits, const int* cls_target,
                     const focal_options& o, float grad_scale, float* dlogits) {
  const long long per_image = static_cast<long long>(r) * k;
  blocked_layout l;
  l.segments = n;
  l.segment_stride = per_image;
  l.plane_len = per_image;
  std::vector<double> sums(static_cast<std::size_t>(n));
  std::vector<float> norms(static_cast<std::size_t>(n));
  for (int img = 0; img < n; ++img) {
    const int* t = cls_target + static_cast<long long>(img) * r;
    const float norm = foreground_norm(t, r);
    const float w = grad_scale / (norm * static_cast<float>(n));
    // One chunk of the image's (anchor, class) terms in memory order; writes their gradients.
    auto fill = [&](long long begin, long long len, float* out) {
      const long long local = begin - img * per_image;
      int a = static_cast<int>(local / k), c = static_cast<int>(local % k);
      for (long long j = 0; j < len; ++j) {
        const long long i = begin + j;
        if (t[a] == anchor_ignored) {
          dlogits[i] = 0.0f;
          out[j] = 0.0f;
        } else {
          const focal_term f = sigmoid_focal_term(logits[i], t[a] == c ? 1.0f : 0.0f, o);
          dlogits[i] = f.grad * w;
          out[j] = f.loss;
        }
        if (++c == k) {
          c = 0;
          ++a;
        }
      }
    };
    sums[static_cast<std::size_t>(img)] = blocked_segment_sum_cpu(l, img, fill);
    norms[static_cast<std::size_t>(img)] = norm;
  }
  return mean_of_normalised(n, sums.data(), norms.data());
}

}  // namespace cuda
DETKIT_END_NAMESPACE

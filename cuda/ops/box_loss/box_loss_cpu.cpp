// cuda/ops/box_loss/box_loss_cpu.cpp — CPU twin of box_loss.cu: one term per anchor (its 4
// coordinates summed in a fixed order), summed in the GPU's blocked order (common/blocked_sum.hpp).
#include <vector>

#include "../../common/blocked_sum.hpp"
#include "../../common/foreground_norm.hpp"
#include "box_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

float box_loss_cpu(int n, int r, const box_loss_options& o, const float* deltas,
                   const float* targets, const float* anchors, const int* cls_target,
                   float grad_scale, float* ddeltas) {
  blocked_layout l;
  l.segments = n;
  l.segment_stride = r;
  l.plane_len = r;
  std::vector<double> sums(static_cast<std::size_t>(n));
  std::vector<float> norms(static_cast<std::size_t>(n));
  for (int img = 0; img < n; ++img) {
    const int* t = cls_target + static_cast<long long>(img) * r;
    const float norm = foreground_norm(t, r);
    const float w = grad_scale / (norm * static_cast<float>(n));
    // One chunk of the image's anchors (i: index in the batch); writes their gradients.
    auto fill = [&](long long begin, long long len, float* out) {
      for (long long i = begin; i < begin + len; ++i) {
        const int a = static_cast<int>(i - static_cast<long long>(img) * r);
        float g[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        float sum = 0.0f;
        if (t[a] >= 0)
          sum = box_loss_anchor(o, deltas + 4 * i, targets + 4 * i,
                                anchors == nullptr ? nullptr : anchors + 4 * a, g);
        for (int j = 0; j < 4; ++j) ddeltas[4 * i + j] = g[j] * w;
        out[i - begin] = sum;
      }
    };
    sums[static_cast<std::size_t>(img)] = blocked_segment_sum_cpu(l, img, fill);
    norms[static_cast<std::size_t>(img)] = norm;
  }
  return mean_of_normalised(n, sums.data(), norms.data());
}

}  // namespace cuda
DETKIT_END_NAMESPACE

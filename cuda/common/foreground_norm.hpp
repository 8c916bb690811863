// cuda/common/foreground_norm.hpp — the two per-image steps the normalised losses (focal_loss,
// box_loss) share on both backends: the normaliser max(1, foreground anchors), and the mean over
// images of each image's summed terms / its normaliser (the sums come from blocked_sum.hpp).
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// max(1, number of the image's `r` anchor targets `t` that are a class (>= 0)), as a float.
inline float foreground_norm(const int* t, int r) {
  int fg = 0;
  for (int a = 0; a < r; ++a) fg += t[a] >= 0 ? 1 : 0;
  return static_cast<float>(fg > 1 ? fg : 1);
}

/// mean over the n images of sums[img] / norm[img], in double, images in order.
DETKIT_HD float mean_of_normalised(int n, const double* sums, const float* norm) {
  double total = 0.0;
  for (int img = 0; img < n; ++img) total += sums[img] / static_cast<double>(norm[img]);
  return static_cast<float>(total / n);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

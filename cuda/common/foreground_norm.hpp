// cuda/common/foreground_norm.hpp — the CPU twin of loss_reductions.cuh's count_fg_kernel, shared
// by focal_loss_cpu and box_loss_cpu: one image's loss normaliser max(1, foreground anchors).
#pragma once

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// max(1, number of the image's `r` anchor targets `t` that are a class (>= 0)), as a float.
inline float foreground_norm(const int* t, int r) {
  int fg = 0;
  for (int a = 0; a < r; ++a) fg += t[a] >= 0 ? 1 : 0;
  return static_cast<float>(fg > 1 ? fg : 1);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/model/permute_math.hpp — torchvision's head output layout change for one element:
// (N, A*K, H, W) -> view (N, A, K, H, W) -> permute (N, H, W, A, K) -> rows of (N, HWA, K).
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

/// Index into the (n, a*k, h, w) map of the element that lands at flat index `i` of this level's
/// slice (img, row - row0, kk) of an (n, rows, k) output, where i runs over n*h*w*a*k.
DETKIT_HD long long anchor_major_source(long long i, int a, int k, int h, int w, long long* dst,
                                        int rows, int row0) {
  const int kk = static_cast<int>(i % k);
  const long long rest = i / k;  // (img, y, x, ai)
  const int ai = static_cast<int>(rest % a);
  const long long pix = rest / a;  // (img, y, x)
  const int xx = static_cast<int>(pix % w);
  const int yy = static_cast<int>((pix / w) % h);
  const long long img = pix / (static_cast<long long>(w) * h);
  const long long row = row0 + (static_cast<long long>(yy) * w + xx) * a + ai;
  *dst = (img * rows + row) * k + kk;
  return ((img * a * k + static_cast<long long>(ai) * k + kk) * h + yy) * w + xx;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

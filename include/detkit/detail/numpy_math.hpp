// detkit/detail/numpy_math.hpp — numpy's float64 arithmetic where pycocotools' numbers depend on
// it: numpy.linspace and np.add.reduce's pairwise summation. Not API.
#pragma once

#include <cstddef>
#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {
/// numpy.linspace(start, stop, num): `i*step + start` (two roundings), the last element forced to
/// `stop`. Gives pycocotools' exact thresholds (iouThrs[8] = 0.8999999999999999).
inline std::vector<double> linspace(double start, double stop, std::size_t num) {
  std::vector<double> y(num);
  if (num == 0) return y;
  if (num == 1) {
    y[0] = start;
    return y;
  }
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (std::size_t i = 0; i < num; ++i) {
    const double scaled = static_cast<double>(i) * step;
    y[i] = scaled + start;
  }
  y[num - 1] = stop;
  return y;
}

/// numpy's pairwise summation (np.add.reduce on a contiguous float64 array): 8 accumulators inside
/// blocks of up to 128, recursive halving at multiples of 8 above that.
inline double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

}  // namespace detail
DETKIT_END_NAMESPACE

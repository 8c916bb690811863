// tests/retinanet/random_values.hpp — the op tests' reproducible random inputs.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

/// n floats uniform in [lo, hi) from a seeded mt19937: the same inputs on every run.
inline std::vector<float> random_vec(std::size_t n, unsigned seed, float lo = -1.0f,
                                     float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

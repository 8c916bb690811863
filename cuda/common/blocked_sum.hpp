// cuda/common/blocked_sum.hpp — the one summation order of every reduction the two backends must
// agree on to the bit (loss sums, bias gradients): fixed 4096-element chunks, each summed by 256
// "threads" (thread t takes elements t, t + 256, ... in double), the 256 partial sums folded by a
// fixed pairwise tree; then each segment's chunk sums the same way (strided over 256, tree). The
// GPU runs one block per chunk and one per segment (blocked_sum.cuh); the CPU twin walks the same
// chunks in the same order here, so both produce the same double. No atomics anywhere: the result
// is also the same run to run.
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

inline constexpr int blocked_sum_threads = 256;
inline constexpr long long blocked_sum_chunk = 4096;

/// Where segment s's elements are: `planes` runs of `plane_len` floats, run j of segment s at
/// s * segment_stride + j * plane_stride. A loss: one segment per image, one plane. A bias
/// gradient: one segment per channel, one plane per image.
struct blocked_layout {
  int segments = 0;
  long long segment_stride = 0;
  int planes = 1;
  long long plane_stride = 0;
  long long plane_len = 0;

  DETKIT_HD long long chunks_per_plane() const {
    return (plane_len + blocked_sum_chunk - 1) / blocked_sum_chunk;
  }
  DETKIT_HD long long chunks_per_segment() const { return planes * chunks_per_plane(); }
  /// First element and length of chunk q (0 <= q < chunks_per_segment()) of segment s.
  DETKIT_HD long long chunk_begin(int s, long long q) const {
    const long long cpp = chunks_per_plane();
    return s * segment_stride + (q / cpp) * plane_stride + (q % cpp) * blocked_sum_chunk;
  }
  DETKIT_HD long long chunk_len(long long q) const {
    const long long start = (q % chunks_per_plane()) * blocked_sum_chunk;
    return plane_len - start < blocked_sum_chunk ? plane_len - start : blocked_sum_chunk;
  }
};

/// The tree both backends fold 256 partial sums with: step `half` adds v[t + half] into v[t].
DETKIT_HD void blocked_tree_step(double* v, int t, int half) { v[t] += v[t + half]; }

/// CPU twin: segment s's sum. fill(begin, len, out) writes the terms of elements begin ..
/// begin + len - 1 (contiguous, one chunk) into out as floats — called once per chunk, in order, so
/// it may also write those elements' gradients; the chunk is then summed in the device threads'
/// order from that buffer (computing the terms in memory order keeps the loop as fast as a plain
/// one).
template <class Fill>
double blocked_segment_sum_cpu(const blocked_layout& l, int s, Fill&& fill) {
  double stage2[blocked_sum_threads] = {};
  float terms[blocked_sum_chunk];
  const long long chunks = l.chunks_per_segment();
  for (long long q = 0; q < chunks; ++q) {
    const long long len = l.chunk_len(q);
    fill(l.chunk_begin(s, q), len, terms);
    double v[blocked_sum_threads] = {};
    for (int t = 0; t < blocked_sum_threads; ++t)
      for (long long j = t; j < len; j += blocked_sum_threads)
        v[t] += static_cast<double>(terms[j]);
    for (int half = blocked_sum_threads / 2; half > 0; half /= 2)
      for (int t = 0; t < half; ++t) blocked_tree_step(v, t, half);
    stage2[q % blocked_sum_threads] += v[0];
  }
  for (int half = blocked_sum_threads / 2; half > 0; half /= 2)
    for (int t = 0; t < half; ++t) blocked_tree_step(stage2, t, half);
  return stage2[0];
}

}  // namespace cuda
DETKIT_END_NAMESPACE

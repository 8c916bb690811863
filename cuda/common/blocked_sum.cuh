// cuda/common/blocked_sum.cuh — the device side of blocked_sum.hpp: one block per 4096-element
// chunk (grid-wide, so a 87M-term loss fills the GPU), then one block per segment over its chunk
// sums; the same order as blocked_segment_sum_cpu, so the doubles are bit-equal. Kernels in an
// anonymous namespace: each .cu including this gets its own copy (no relocatable device code).
#pragma once

#include "blocked_sum.hpp"
#include "gpu_context.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {
namespace {

// Folds the block's 256 values in shared memory with blocked_tree_step; the sum ends in v[0].
__device__ void blocked_block_tree(double* v) {
  for (int half = blocked_sum_threads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half)
      blocked_tree_step(v, static_cast<int>(threadIdx.x), half);
    __syncthreads();
  }
}

// Block b = (segment b / chunks_per_segment, chunk b % chunks_per_segment) -> chunk_sums[b].
__global__ void blocked_sum_chunks_kernel(blocked_layout l, const float* x, double* chunk_sums) {
  __shared__ double v[blocked_sum_threads];
  const long long cps = l.chunks_per_segment();
  const long long b = blockIdx.x;
  const int s = static_cast<int>(b / cps);
  const long long q = b % cps;
  const long long begin = l.chunk_begin(s, q), len = l.chunk_len(q);
  double sum = 0.0;
  for (long long j = threadIdx.x; j < len; j += blocked_sum_threads)
    sum += static_cast<double>(x[begin + j]);
  v[threadIdx.x] = sum;
  __syncthreads();
  blocked_block_tree(v);
  if (threadIdx.x == 0) chunk_sums[b] = v[0];
}

// Block s: segment s's chunk sums, strided over the threads then folded -> segment_sums[s].
__global__ void blocked_sum_segments_kernel(blocked_layout l, const double* chunk_sums,
                                            double* segment_sums) {
  __shared__ double v[blocked_sum_threads];
  const long long cps = l.chunks_per_segment();
  const double* mine = chunk_sums + static_cast<long long>(blockIdx.x) * cps;
  double sum = 0.0;
  for (long long q = threadIdx.x; q < cps; q += blocked_sum_threads) sum += mine[q];
  v[threadIdx.x] = sum;
  __syncthreads();
  blocked_block_tree(v);
  if (threadIdx.x == 0) segment_sums[blockIdx.x] = v[0];
}

// segment_sums[s] = the blocked sum of segment s of x, on ctx's stream. Scratch from the context.
inline double* blocked_segment_sums(gpu_context& ctx, const blocked_layout& l, const float* x) {
  const long long chunks = static_cast<long long>(l.segments) * l.chunks_per_segment();
  double* scratch = ctx.reduction_scratch(static_cast<std::size_t>(chunks + l.segments));
  double* segment_sums = scratch + chunks;
  if (chunks > 0) {
    blocked_sum_chunks_kernel<<<static_cast<unsigned>(chunks), blocked_sum_threads, 0,
                                ctx.stream>>>(l, x, scratch);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
  blocked_sum_segments_kernel<<<static_cast<unsigned>(l.segments), blocked_sum_threads, 0,
                                ctx.stream>>>(l, scratch, segment_sums);
  DETKIT_CUDA_CHECK_LAUNCH();
  return segment_sums;
}

}  // namespace
}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/common/loss_reductions.cuh — the reductions the per-image-normalised losses (focal_loss,
// box_loss) share: foreground count per image, then each image's terms summed in blocked_sum's
// fixed order (grid-wide), divided by its count, mean over images. Kernels in an anonymous
// namespace: each .cu including this gets its own copy. CPU twin: foreground_norm.hpp and
// blocked_segment_sum_cpu, the same order, so the loss is bit-equal where the terms are.
#pragma once

#include "blocked_sum.cuh"
#include "detkit/config.hpp"
#include "foreground_norm.hpp"
#include "gpu_context.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {
namespace {

// One block (256 threads) per image: norm[img] = max(1, number of anchors with a class >= 0).
// Integer sums: any order gives the same count.
__global__ void loss_count_foreground_kernel(int r, const int* cls_target, float* norm) {
  __shared__ int partial[256];
  const int* t = cls_target + static_cast<long long>(blockIdx.x) * r;
  int fg = 0;
  for (int a = threadIdx.x; a < r; a += blockDim.x) fg += t[a] >= 0 ? 1 : 0;
  partial[threadIdx.x] = fg;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) norm[blockIdx.x] = static_cast<float>(partial[0] > 1 ? partial[0] : 1);
}

// One thread: the n per-image sums / norms, mean over images (n is the batch size).
__global__ void loss_mean_kernel(int n, const double* image_sums, const float* norm, float* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) out[0] = mean_of_normalised(n, image_sums, norm);
}

// The loss of `terms` (n images x per_image floats) into the device float `result`, returned on
// the host (waits for the stream).
inline float mean_loss_to_host(gpu_context& ctx, int n, long long per_image, const float* terms,
                               const float* norm, float* result) {
  blocked_layout l;
  l.segments = n;
  l.segment_stride = per_image;
  l.plane_len = per_image;
  const double* image_sums = blocked_segment_sums(ctx, l, terms);
  loss_mean_kernel<<<1, 1, 0, ctx.stream>>>(n, image_sums, norm, result);
  DETKIT_CUDA_CHECK_LAUNCH();
  float host = 0.0f;
  DETKIT_CUDA_CHECK(
      cudaMemcpyAsync(&host, result, sizeof(float), cudaMemcpyDeviceToHost, ctx.stream));
  DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  return host;
}

}  // namespace
}  // namespace cuda
DETKIT_END_NAMESPACE

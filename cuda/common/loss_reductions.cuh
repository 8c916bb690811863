// cuda/common/loss_reductions.cuh — the two fixed-order block reductions the per-image-normalised
// losses (focal_loss, box_loss) share: foreground count per image, then the mean over images of
// each image's summed terms / its count. Kernels in an anonymous namespace: each .cu including
// this gets its own copy (no relocatable device code). CPU twin: foreground_norm.hpp.
#pragma once

#include "detkit/config.hpp"
#include "gpu_context.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {
namespace {

// One block (256 threads) per image: norm[img] = max(1, number of anchors with a class >= 0).
__global__ void count_fg_kernel(int r, const int* cls_target, float* norm) {
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

// One block (256 threads) in total: sum each image's `per_image` terms in double, divide by its
// norm, mean over images into out[0].
__global__ void reduce_kernel(int n, long long per_image, const float* terms, const float* norm,
                              float* out) {
  __shared__ double partial[256];
  double total = 0.0;
  for (int img = 0; img < n; ++img) {
    double sum = 0.0;
    for (long long j = threadIdx.x; j < per_image; j += blockDim.x)
      sum += static_cast<double>(terms[img * per_image + j]);
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
      if (static_cast<int>(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
      __syncthreads();
    }
    total += partial[0] / static_cast<double>(norm[img]);
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = static_cast<float>(total / n);
}

// Runs reduce_kernel into the device float `result` on ctx's stream and returns it on the host
// (waits for the stream).
inline float mean_loss_to_host(gpu_context& ctx, int n, long long per_image, const float* terms,
                               const float* norm, float* result) {
  reduce_kernel<<<1, 256, 0, ctx.stream>>>(n, per_image, terms, norm, result);
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

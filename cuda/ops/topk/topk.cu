// cuda/ops/topk/topk.cu — threshold kernel + CUB stable descending radix sort of (score, index).
#include <cub/device/device_radix_sort.cuh>

#include "../../common/gpu_context.hpp"
#include "topk.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void topk_score_kernel(int n, const float* logits, float threshold, float* scores,
                                  int* index) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) {
    scores[i] = thresholded_score(logits[i], threshold);
    index[i] = i;
  }
}

std::size_t align_up(std::size_t v) { return (v + 255) / 256 * 256; }

std::size_t cub_bytes(int count) {
  std::size_t bytes = 0;
  DETKIT_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(
      nullptr, bytes, static_cast<const float*>(nullptr), static_cast<float*>(nullptr),
      static_cast<const int*>(nullptr), static_cast<int*>(nullptr), count));
  return bytes;
}
}  // namespace

std::size_t topk_scores_work_bytes(int count) {
  const std::size_t arr = align_up(sizeof(float) * static_cast<std::size_t>(count));
  return 4 * arr + align_up(cub_bytes(count));
}

std::vector<scored_index> topk_scores(gpu_context& ctx, int count, const float* logits,
                                      float threshold, int k, void* work) {
  const std::size_t arr = align_up(sizeof(float) * static_cast<std::size_t>(count));
  char* base = static_cast<char*>(work);
  float* scores = reinterpret_cast<float*>(base);
  int* index = reinterpret_cast<int*>(base + arr);
  float* sorted_scores = reinterpret_cast<float*>(base + 2 * arr);
  int* sorted_index = reinterpret_cast<int*>(base + 3 * arr);
  void* temp = base + 4 * arr;
  std::size_t temp_bytes = cub_bytes(count);
  topk_score_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, logits, threshold, scores,
                                                               index);
  DETKIT_CUDA_CHECK_LAUNCH();
  DETKIT_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(
      temp, temp_bytes, scores, sorted_scores, index, sorted_index, count, 0, 32, ctx.stream));
  const int take = count < k ? count : k;
  std::vector<float> s(static_cast<std::size_t>(take));
  std::vector<int> idx(static_cast<std::size_t>(take));
  DETKIT_CUDA_CHECK(cudaMemcpyAsync(s.data(), sorted_scores, sizeof(float) * s.size(),
                                    cudaMemcpyDeviceToHost, ctx.stream));
  DETKIT_CUDA_CHECK(cudaMemcpyAsync(idx.data(), sorted_index, sizeof(int) * idx.size(),
                                    cudaMemcpyDeviceToHost, ctx.stream));
  DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  std::vector<scored_index> out;
  for (int i = 0; i < take && s[static_cast<std::size_t>(i)] >= 0.0f; ++i)
    out.push_back({s[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(i)]});
  return out;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

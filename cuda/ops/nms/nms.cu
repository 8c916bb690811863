// cuda/ops/nms/nms.cu — suppression bitmask kernel (torchvision's nms_kernel.cu scheme: 64 boxes per
// block, one 64-bit word per (box, column block)), greedy reduction on the host.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "../../common/device_buffer.hpp"
#include "../../common/gpu_context.hpp"
#include "nms.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
constexpr int kBlock = 64;

// boxes/labels already in descending score order.
__global__ void nms_mask_kernel(int n, const float* boxes, const int* labels, float thr,
                                unsigned long long* mask) {
  const int row_block = static_cast<int>(blockIdx.y), col_block = static_cast<int>(blockIdx.x);
  const int row = row_block * kBlock + static_cast<int>(threadIdx.x);
  if (row >= n) return;
  const int col_start = col_block * kBlock;
  const int col_end = min(n, col_start + kBlock);
  unsigned long long bits = 0;
  for (int c = col_start; c < col_end; ++c)
    if (c > row && nms_suppresses(boxes + 4 * row, labels[row], boxes + 4 * c, labels[c], thr))
      bits |= 1ULL << (c - col_start);
  const int col_blocks = (n + kBlock - 1) / kBlock;
  mask[static_cast<long long>(row) * col_blocks + col_block] = bits;
}

__global__ void nms_gather_kernel(int n, const int* order, const float* boxes, const int* labels,
                                  float* sorted_boxes, int* sorted_labels) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  for (int j = 0; j < 4; ++j) sorted_boxes[4 * i + j] = boxes[4 * order[i] + j];
  sorted_labels[i] = labels[order[i]];
}
}  // namespace

std::vector<int> batched_nms(gpu_context& ctx, int count, const float* boxes, const float* scores,
                             const int* labels, float iou_threshold, int max_keep) {
  if (count == 0) return {};
  // Candidates are at most levels x 1000: sorting their scores on the host is cheap and stable.
  std::vector<float> host_scores(static_cast<std::size_t>(count));
  DETKIT_CUDA_CHECK(cudaMemcpy(host_scores.data(), scores, sizeof(float) * host_scores.size(),
                               cudaMemcpyDeviceToHost));
  std::vector<int> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return host_scores[static_cast<std::size_t>(a)] > host_scores[static_cast<std::size_t>(b)];
  });
  const int col_blocks = (count + kBlock - 1) / kBlock;
  device_buffer<int> d_order(order.size());
  d_order.upload(order);
  device_buffer<float> d_boxes(4 * static_cast<std::size_t>(count));
  device_buffer<int> d_labels(static_cast<std::size_t>(count));
  device_buffer<unsigned long long> d_mask(static_cast<std::size_t>(count) *
                                           static_cast<std::size_t>(col_blocks));
  nms_gather_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(count, d_order.data(), boxes, labels,
                                                               d_boxes.data(), d_labels.data());
  DETKIT_CUDA_CHECK_LAUNCH();
  nms_mask_kernel<<<dim3(static_cast<unsigned>(col_blocks), static_cast<unsigned>(col_blocks)),
                    kBlock, 0, ctx.stream>>>(count, d_boxes.data(), d_labels.data(), iou_threshold,
                                             d_mask.data());
  DETKIT_CUDA_CHECK_LAUNCH();
  DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  const std::vector<unsigned long long> mask = d_mask.download();
  std::vector<unsigned long long> removed(static_cast<std::size_t>(col_blocks), 0);
  std::vector<int> keep;
  for (int i = 0; i < count; ++i) {
    const int blk = i / kBlock, bit = i % kBlock;
    if (removed[static_cast<std::size_t>(blk)] & (1ULL << bit)) continue;
    keep.push_back(order[static_cast<std::size_t>(i)]);
    if (max_keep >= 0 && static_cast<int>(keep.size()) >= max_keep) break;
    for (int b = 0; b < col_blocks; ++b)
      removed[static_cast<std::size_t>(b)] |=
          mask[static_cast<std::size_t>(i) * static_cast<std::size_t>(col_blocks) +
               static_cast<std::size_t>(b)];
  }
  return keep;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

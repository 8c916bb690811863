// cuda/ops/focal_loss/focal_loss.cu — fused focal loss forward+backward; per-image foreground count
// and loss sums by fixed-order block reductions (deterministic). Body in focal_loss_math.hpp.
#include "../../common/gpu_context.hpp"
#include "focal_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
// One block per image: count foreground anchors into norm[img] = max(1, fg).
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

__global__ void term_kernel(int n, int r, int k, const float* logits, const int* cls_target,
                            focal_options o, float grad_scale, const float* norm, float* dlogits,
                            float* terms) {
  const long long total = static_cast<long long>(n) * r * k;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const long long anchor = i / k;
  const int c = static_cast<int>(i % k);
  const int img = static_cast<int>(anchor / r);
  const int t = cls_target[anchor];
  if (t == anchor_ignored) {
    dlogits[i] = 0.0f;
    terms[i] = 0.0f;
    return;
  }
  const focal_term f = sigmoid_focal_term(logits[i], t == c ? 1.0f : 0.0f, o);
  dlogits[i] = f.grad * (grad_scale / (norm[img] * static_cast<float>(n)));
  terms[i] = f.loss;
}

// One block in total: sum each image's terms in double, divide, mean over images.
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
}  // namespace

float focal_loss(gpu_context& ctx, int n, int r, int k, const float* logits, const int* cls_target,
                 const focal_options& o, float grad_scale, float* dlogits, float* work) {
  const long long total = static_cast<long long>(n) * r * k;
  float* terms = work;
  float* norm = work + total;
  count_fg_kernel<<<static_cast<unsigned>(n), 256, 0, ctx.stream>>>(r, cls_target, norm);
  DETKIT_CUDA_CHECK_LAUNCH();
  term_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(n, r, k, logits, cls_target, o, grad_scale,
                                                         norm, dlogits, terms);
  DETKIT_CUDA_CHECK_LAUNCH();
  float* result = norm + n;
  reduce_kernel<<<1, 256, 0, ctx.stream>>>(n, static_cast<long long>(r) * k, terms, norm, result);
  DETKIT_CUDA_CHECK_LAUNCH();
  float host = 0.0f;
  DETKIT_CUDA_CHECK(
      cudaMemcpyAsync(&host, result, sizeof(float), cudaMemcpyDeviceToHost, ctx.stream));
  DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  return host;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/ops/focal_loss/focal_loss.cu — fused focal loss forward+backward; per-image foreground count
// and loss sums by fixed-order block reductions (deterministic). Body in focal_loss_math.hpp.
#include "../../common/gpu_context.hpp"
#include "../../common/loss_reductions.cuh"
#include "focal_loss.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void focal_loss_forward_backward_kernel(int n, int r, int k, const float* logits,
                                                   const int* cls_target, focal_options o,
                                                   float grad_scale, const float* norm,
                                                   float* dlogits, float* terms) {
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

}  // namespace

float focal_loss(gpu_context& ctx, int n, int r, int k, const float* logits, const int* cls_target,
                 const focal_options& o, float grad_scale, float* dlogits, float* work) {
  const long long total = static_cast<long long>(n) * r * k;
  float* terms = work;
  float* norm = work + total;
  loss_count_foreground_kernel<<<static_cast<unsigned>(n), 256, 0, ctx.stream>>>(r, cls_target,
                                                                                 norm);
  DETKIT_CUDA_CHECK_LAUNCH();
  focal_loss_forward_backward_kernel<<<blocks_for(total), 256, 0, ctx.stream>>>(
      n, r, k, logits, cls_target, o, grad_scale, norm, dlogits, terms);
  DETKIT_CUDA_CHECK_LAUNCH();
  float* result = norm + n;
  return mean_loss_to_host(ctx, n, static_cast<long long>(r) * k, terms, norm, result);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/model/retinanet_cuda.cu — the CUDA backend of the RetinaNet tape: one cudaMalloc for the
// arena, every op through the kernels of cuda/ops (same bodies as the CPU twin) and cuBLAS.
#include "common/device_buffer.hpp"
#include "common/gpu_context.hpp"
#include "model/permute_math.hpp"
#include "model/retinanet.hpp"
#include "ops/box_loss/box_loss.hpp"
#include "ops/frozen_bn/frozen_bn.hpp"
#include "ops/relu/relu.hpp"
#include "ops/topk/topk.hpp"
#include "ops/upsample_add/upsample_add.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void to_anchor_major_forward_kernel(long long total, int a, int k, int h, int w,
                                               int rows, int row0, const float* x, float* y) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  long long dst = 0;
  const long long src = anchor_major_source(i, a, k, h, w, &dst, rows, row0);
  y[dst] = x[src];
}
// Each source element has exactly one destination, so += has no write conflicts.
__global__ void to_anchor_major_backward_kernel(long long total, int a, int k, int h, int w,
                                                int rows, int row0, const float* dy, float* dx) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  long long dst = 0;
  const long long src = anchor_major_source(i, a, k, h, w, &dst, rows, row0);
  dx[src] += dy[dst];
}

class cuda_backend final : public op_backend {
 public:
  explicit cuda_backend(gemm_math math) : ctx_(math) {}
  void* allocate_arena(std::size_t bytes) override {
    arena_ = device_buffer<char>(bytes);
    return arena_.data();
  }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    if (bytes > 0) DETKIT_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    if (bytes > 0) DETKIT_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
  void zero(void* dst, std::size_t bytes) override {
    if (bytes > 0) DETKIT_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, ctx_.stream));
  }
  void conv_forward(const conv2d_shape& s, const float* x, const float* w, const float* b, float* y,
                    float* col) override {
    conv2d_forward(ctx_, s, x, w, b, y, col);
  }
  void conv_backward(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, float* col, grad_write dx_write,
                     grad_write param_write) override {
    conv2d_backward(ctx_, s, x, w, dy, dx, dw, db, col, dx_write, param_write);
  }
  void bn_fold(int c, const float* weight, const float* bias, const float* mean, const float* var,
               float eps, float* scale, float* shift) override {
    frozen_bn_fold(ctx_, c, weight, bias, mean, var, eps, scale, shift);
  }
  void bn_forward(int n, int c, int pixels, const float* x, const float* scale, const float* shift,
                  float* y) override {
    frozen_bn_forward(ctx_, n, c, pixels, x, scale, shift, y);
  }
  void bn_backward(int n, int c, int pixels, const float* dy, const float* scale,
                   float* dx) override {
    if (dx != nullptr) frozen_bn_backward(ctx_, n, c, pixels, dy, scale, dx);
  }
  void relu_forward(long long count, const float* x, float* y) override {
    cuda::relu_forward(ctx_, count, x, y);
  }
  void relu_backward(long long count, const float* y, const float* dy, float* dx) override {
    if (dx != nullptr) cuda::relu_backward(ctx_, count, y, dy, dx);
  }
  void add_forward(long long count, const float* a, const float* b, float* y) override {
    cuda::add_forward(ctx_, count, a, b, y);
  }
  void accumulate(long long count, const float* src, float* dst) override {
    if (dst != nullptr) cuda::accumulate(ctx_, count, src, dst);
  }
  void copy(long long count, const float* src, float* dst) override {
    if (dst != nullptr && count > 0)
      DETKIT_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(count) * sizeof(float),
                                        cudaMemcpyDeviceToDevice, ctx_.stream));
  }
  void max_pool_forward(const max_pool_shape& s, const float* x, float* y, int* arg) override {
    cuda::max_pool_forward(ctx_, s, x, y, arg);
  }
  void max_pool_backward(const max_pool_shape& s, const float* dy, const int* arg,
                         float* dx) override {
    if (dx != nullptr) cuda::max_pool_backward(ctx_, s, dy, arg, dx);
  }
  void upsample_add_forward(int n, int c, int h, int w, int th, int tw, const float* lateral,
                            const float* top, float* out) override {
    cuda::upsample_add_forward(ctx_, n, c, h, w, th, tw, lateral, top, out);
  }
  void upsample_add_backward(int n, int c, int h, int w, int th, int tw, const float* dout,
                             float* dlateral, float* dtop) override {
    cuda::upsample_add_backward(ctx_, n, c, h, w, th, tw, dout, dlateral, dtop);
  }
  void to_anchor_major(int n, int a, int k, int h, int w, int rows, int row0, const float* x,
                       float* y) override {
    const long long total = static_cast<long long>(n) * h * w * a * k;
    to_anchor_major_forward_kernel<<<blocks_for(total), 256, 0, ctx_.stream>>>(total, a, k, h, w,
                                                                               rows, row0, x, y);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
  void to_anchor_major_backward(int n, int a, int k, int h, int w, int rows, int row0,
                                const float* dy, float* dx) override {
    const long long total = static_cast<long long>(n) * h * w * a * k;
    to_anchor_major_backward_kernel<<<blocks_for(total), 256, 0, ctx_.stream>>>(total, a, k, h, w,
                                                                                rows, row0, dy, dx);
    DETKIT_CUDA_CHECK_LAUNCH();
  }
  float focal_loss(int n, int r, int k, const float* logits, const int* cls_target,
                   const focal_options& o, float grad_scale, float* dlogits, float* work) override {
    return cuda::focal_loss(ctx_, n, r, k, logits, cls_target, o, grad_scale, dlogits, work);
  }
  float box_loss(int n, int r, const box_loss_options& o, const float* deltas, const float* targets,
                 const float* anchors, const int* cls_target, float grad_scale, float* ddeltas,
                 float* work) override {
    return cuda::box_loss(ctx_, n, r, o, deltas, targets, anchors, cls_target, grad_scale, ddeltas,
                          work);
  }
  void sgd_step(const sgd_options& o, long long count, const float* grad, float* param,
                float* momentum_buf) override {
    cuda::sgd_step(ctx_, o, count, grad, param, momentum_buf);
  }
  void synchronize() override { DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream)); }
  double sum_of_squares(long long count, const float* x) override {
    return cuda::sum_of_squares(ctx_, count, x);
  }
  std::vector<scored_index> select_candidates(const float* logits, long long count, float threshold,
                                              int k) override {
    const std::size_t need = topk_scores_work_bytes(static_cast<int>(count));
    if (topk_work_.size() < need) topk_work_ = device_buffer<char>(need);  // once per size
    return topk_scores(ctx_, static_cast<int>(count), logits, threshold, k, topk_work_.data());
  }

 private:
  gpu_context ctx_;
  device_buffer<char> arena_;
  device_buffer<char> topk_work_;  // inference only
};
}  // namespace

std::unique_ptr<op_backend> make_cuda_backend(gemm_math math) {
  return std::make_unique<cuda_backend>(math);
}

void* pinned_host_allocate(std::size_t bytes) {
  void* p = nullptr;
  return cudaHostAlloc(&p, bytes, cudaHostAllocDefault) == cudaSuccess ? p : nullptr;
}
void pinned_host_release(void* p) { (void)cudaFreeHost(p); }

}  // namespace cuda
DETKIT_END_NAMESPACE

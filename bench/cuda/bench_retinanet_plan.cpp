// bench/cuda/bench_retinanet_plan.cpp — what one RetinaNet training step costs on a GPU, counted on
// any machine (no device needed): the real tape runs through a backend that only tallies what each
// CUDA launcher would issue — kernel launches, GEMMs (count, shapes, FLOPs), bytes moved, memsets —
// and the times those imply at a named GPU's peak (per kernel max(FLOPs/peak, bytes/bandwidth),
// plus a per-launch host cost). Two columns: the convolution as it was (im2col + one GEMM per
// image, a full gradient memset) and as it is (one GEMM per layer per batch, first writers
// overwrite), so each change's effect is visible without a GPU.
//   bench_retinanet_plan [--arch r18|r34|r50] [--batch 8] [--size 800] [--classes 91]
//                        [--gpu h100|h200] [--shapes]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "model/retinanet.hpp"

namespace dc = detkit::cuda;

namespace {
struct gpu_peak {
  const char* name;
  double fp32_flops, tf32_flops, bytes_per_s;
};
// Dense peaks from NVIDIA's SXM datasheets; the launch cost is a typical host-side figure.
constexpr gpu_peak kH100{"H100 SXM", 67e12, 495e12, 3.35e12};
constexpr gpu_peak kH200{"H200 SXM", 67e12, 495e12, 4.8e12};
constexpr double kLaunchSeconds = 3e-6;

enum class phase { forward, backward, update };
constexpr int kPhases = 3;

struct tally {
  long long launches = 0, gemms = 0, memsets = 0;
  double flops = 0, bytes = 0, memset_bytes = 0, seconds_fp32 = 0, seconds_tf32 = 0;
};

// Tallies the two designs side by side: [0] per-image GEMMs + full memset, [1] the current code.
class counting_backend final : public dc::op_backend {
 public:
  explicit counting_backend(gpu_peak gpu) : gpu_(gpu) {}
  phase now = phase::forward;
  tally t[2][kPhases];
  std::map<std::tuple<int, int, int>, int> forward_gemm_shapes;  // (m, n, k) -> count, current
  double max_col_floats_per_image = 0, max_workspace_floats = 0;

  void* allocate_arena(std::size_t) override { return nullptr; }
  void upload(void*, const void*, std::size_t bytes) override { both(1, 0, double(bytes)); }
  void download(void*, const void*, std::size_t bytes) override { both(1, 0, double(bytes)); }
  void zero(void*, std::size_t bytes) override {
    kernel(1, 1, 0, double(bytes));
    ++t[1][idx()].memsets;
    t[1][idx()].memset_bytes += double(bytes);
  }
  void conv_forward(const dc::conv2d_shape& s, const float*, const float*, const float* b, float*,
                    float*) override {
    const double rows = s.col_rows(), pix = s.col_cols(), n = s.n, x = double(s.c_in) * s.h * s.w;
    note_workspace(s);
    for (int img = 0; img < s.n; ++img) {  // before: per image
      if (!s.is_pointwise()) kernel(0, 1, 0, 4 * (rows * pix + x));
      gemm(0, s.c_out, int(pix), int(rows), 0.0f);
    }
    if (!s.is_pointwise()) kernel(1, 1, 0, 4 * n * (rows * pix + x));
    gemm(1, s.c_out, int(pix), int(rows), 0.0f, s.n);
    ++forward_gemm_shapes[{s.c_out, int(n * pix), int(rows)}];
    if (b != nullptr) both(1, 0, 8 * n * s.c_out * pix);
  }
  void conv_backward(const dc::conv2d_shape& s, const float*, const float*, const float*, float* dx,
                     float* dw, float* db, float*, dc::grad_write dx_write,
                     dc::grad_write) override {
    const double rows = s.col_rows(), pix = s.col_cols(), n = s.n, x = double(s.c_in) * s.h * s.w;
    const bool pw = s.is_pointwise(), direct = pw && s.n == 1;
    if (db != nullptr) both(1, 0, 4 * n * s.c_out * pix);
    for (int img = 0; img < s.n; ++img) {  // before: per image, accumulating
      if (dw != nullptr) {
        if (!pw) kernel(0, 1, 0, 4 * (rows * pix + x));
        gemm(0, s.c_out, int(rows), int(pix), 1.0f);
      }
      if (dx != nullptr) {
        gemm(0, int(rows), int(pix), s.c_out, pw ? 1.0f : 0.0f);
        if (!pw) kernel(0, 1, 0, 4 * (rows * pix + 2 * x));
      }
    }
    if (s.n > 1) kernel(1, 1, 0, 8 * n * s.c_out * pix);  // dY to channel-major
    const int np = int(n * pix);
    if (dw != nullptr) {
      if (!direct) kernel(1, 1, 0, 4 * n * (rows * pix + x));
      gemm(1, s.c_out, int(rows), np, 0.0f);
    }
    if (dx != nullptr) {
      gemm(1, int(rows), np, s.c_out,
           direct && dx_write == dc::grad_write::accumulate ? 1.0f : 0.0f);
      if (!direct)
        kernel(1, 1, 0,
               4 * (n * rows * pix + (dx_write == dc::grad_write::overwrite ? n : 2 * n) * x));
    }
  }
  void bn_fold(int c, const float*, const float*, const float*, const float*, float, float*,
               float*) override {
    both(1, 0, 24.0 * c);
  }
  void bn_forward(int n, int c, int p, const float*, const float*, const float*, float*) override {
    both(1, 0, 8.0 * n * c * p);
  }
  void bn_backward(int n, int c, int p, const float*, const float*, float* dx) override {
    if (dx != nullptr) both(1, 0, 12.0 * n * c * p);
  }
  void relu_forward(long long count, const float*, float*) override {
    both(1, 0, 8.0 * double(count));
  }
  void relu_backward(long long count, const float*, const float*, float* dx) override {
    if (dx != nullptr) both(1, 0, 16.0 * double(count));
  }
  void add_forward(long long count, const float*, const float*, float*) override {
    both(1, 0, 12.0 * double(count));
  }
  void accumulate(long long count, const float*, float* dst) override {
    if (dst != nullptr) both(1, 0, 12.0 * double(count));
  }
  void copy(long long count, const float*, float* dst) override {
    if (dst == nullptr) return;
    kernel(0, 1, 0, 12.0 * double(count));  // before, every store was an accumulate
    kernel(1, 1, 0, 8.0 * double(count));
  }
  void max_pool_forward(const dc::max_pool_shape& s, const float*, float*, int*) override {
    both(1, 0, 4.0 * s.n * s.c * (double(s.h) * s.w + 2.0 * s.out_h() * s.out_w()));
  }
  void max_pool_backward(const dc::max_pool_shape& s, const float*, const int*,
                         float* dx) override {
    if (dx != nullptr)
      both(1, 0, 4.0 * s.n * s.c * (double(s.h) * s.w * 2 + 2.0 * s.out_h() * s.out_w()));
  }
  void upsample_add_forward(int n, int c, int h, int w, int, int, const float*, const float*,
                            float*) override {
    both(1, 0, 12.0 * n * c * h * w);
  }
  void upsample_add_backward(int n, int c, int h, int w, int, int, const float*, float*,
                             float*) override {
    both(2, 0, 16.0 * n * c * h * w);
  }
  void to_anchor_major(int n, int a, int k, int h, int w, int, int, const float*, float*) override {
    both(1, 0, 8.0 * n * a * k * h * w);
  }
  void to_anchor_major_backward(int n, int a, int k, int h, int w, int, int, const float*,
                                float*) override {
    both(1, 0, 12.0 * n * a * k * h * w);
  }
  float focal_loss(int n, int r, int k, const float*, const int*, const dc::focal_options&, float,
                   float*, float*) override {
    both(2, 0, 8.0 * n * r * k + 4.0 * n * r);
    return 0.0f;
  }
  float box_loss(int n, int r, const dc::box_loss_options&, const float*, const float*,
                 const float*, const int*, float, float*, float*) override {
    both(2, 0, 48.0 * n * r);
    return 0.0f;
  }
  void sgd_step(const dc::sgd_options&, long long count, const float*, float*, float*) override {
    both(1, 0, 20.0 * double(count));
  }
  double sum_of_squares(long long count, const float*) override {
    both(1, 0, 4.0 * double(count));
    return 0.0;
  }
  std::vector<dc::scored_index> select_candidates(const float*, long long, float, int) override {
    return {};
  }

 private:
  gpu_peak gpu_;
  int idx() const { return static_cast<int>(now); }
  void kernel(int design, int launches, double flops, double bytes, double tf32_flops = -1) {
    tally& x = t[design][idx()];
    x.launches += launches;
    x.flops += flops;
    x.bytes += bytes;
    const double mem = bytes / gpu_.bytes_per_s, over = launches * kLaunchSeconds;
    x.seconds_fp32 += std::max(flops / gpu_.fp32_flops, mem) + over;
    x.seconds_tf32 += std::max((tf32_flops < 0 ? flops : tf32_flops) / gpu_.tf32_flops, mem) + over;
  }
  void both(int launches, double flops, double bytes) {
    kernel(0, launches, flops, bytes);
    kernel(1, launches, flops, bytes);
  }
  // One cuBLAS call of `batch` m x n x k products (a strided-batched call when batch > 1).
  void gemm(int design, int m, int n, int k, float beta, int batch = 1) {
    const double mm = m, nn = n, kk = k, b = batch;
    kernel(design, 1, 2 * b * mm * nn * kk,
           4 * (mm * kk + b * kk * nn + b * mm * nn * (beta != 0.0f ? 2 : 1)));
    ++t[design][idx()].gemms;
  }
  void note_workspace(const dc::conv2d_shape& s) {
    max_col_floats_per_image =
        std::max(max_col_floats_per_image, double(s.col_rows()) * s.col_cols());
    max_workspace_floats = std::max(max_workspace_floats, double(dc::conv2d_workspace_floats(s)));
  }
};
}  // namespace

int main(int argc, char** argv) {
  std::string arch = "r50", gpu_name = "h100";
  int batch = 8, size = 800, classes = 91;
  bool shapes = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--shapes") {
      shapes = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "option %s needs a value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (k == "--arch" && (v == "r18" || v == "r34" || v == "r50"))
      arch = v;
    else if (k == "--batch")
      batch = std::atoi(v.c_str());
    else if (k == "--size")
      size = std::atoi(v.c_str());
    else if (k == "--classes")
      classes = std::atoi(v.c_str());
    else if (k == "--gpu" && (v == "h100" || v == "h200"))
      gpu_name = v;
    else {
      std::fprintf(stderr, "unknown option or value: %s %s\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  if (batch <= 0 || size <= 0 || size % 32 != 0 || classes <= 0) {
    std::fprintf(stderr, "need --batch > 0, --size a positive multiple of 32, --classes > 0\n");
    return 2;
  }
  const gpu_peak gpu = gpu_name == "h200" ? kH200 : kH100;
  const dc::retinanet_config cfg = arch == "r18"   ? dc::retinanet_config::resnet18(classes)
                                   : arch == "r34" ? dc::retinanet_config::resnet34(classes)
                                                   : dc::retinanet_config::resnet50(classes);
  auto owned = std::make_unique<counting_backend>(gpu);
  counting_backend* c = owned.get();
  dc::retinanet m(cfg, dc::batch_shape{batch, size, size}, std::move(owned));
  // One box per image in the middle: the counts do not depend on the targets.
  std::vector<dc::image_targets> targets(static_cast<std::size_t>(batch));
  for (dc::image_targets& t : targets) {
    const float q = static_cast<float>(size) / 4;
    t.boxes = {q, q, 3 * q, 3 * q};
    t.labels = {0};
  }
  std::vector<float> no_images(1);
  for (auto& row : c->t)
    for (tally& x : row) x = tally{};
  c->now = phase::forward;
  m.forward(no_images.data());
  c->now = phase::backward;
  const auto matched = m.match(targets);
  m.loss_and_backward(targets, matched);
  c->now = phase::update;
  m.sgd_step(dc::sgd_options{});
  // Before, every step cleared all activation and parameter gradients in two memsets.
  const double old_memset = static_cast<double>(m.arena().activation_grads + m.arena().grads);
  tally& old_back = c->t[0][1];
  old_back.launches += 2;
  old_back.memsets += 2;
  old_back.memset_bytes += old_memset;
  old_back.bytes += old_memset;
  old_back.seconds_fp32 += old_memset / gpu.bytes_per_s + 2 * kLaunchSeconds;
  old_back.seconds_tf32 += old_memset / gpu.bytes_per_s + 2 * kLaunchSeconds;

  int convs = 0;
  for (const auto& s : c->forward_gemm_shapes) convs += s.second;
  std::printf(
      "RetinaNet %s-FPN, %d classes, batch %d x %dx%d: %d convolutions per forward; "
      "arena %.2f GiB (conv workspace %.2f GiB, was %.2f GiB)\n",
      arch.c_str(), classes, batch, size, size, convs,
      static_cast<double>(m.arena().total) / 1073741824.0,
      c->max_workspace_floats * 4 / 1073741824.0, c->max_col_floats_per_image * 4 / 1073741824.0);
  std::printf(
      "times implied at %s peak: FP32 %.0f TFLOP/s, TF32 %.0f TFLOP/s, %.2f TB/s, "
      "%.0f us per launch (per kernel max(FLOPs/peak, bytes/bandwidth) + launch)\n\n",
      gpu.name, gpu.fp32_flops / 1e12, gpu.tf32_flops / 1e12, gpu.bytes_per_s / 1e12,
      kLaunchSeconds * 1e6);
  std::printf("%-9s %-7s %9s %7s %8s %10s %10s %10s %10s %10s\n", "phase", "design", "launches",
              "GEMMs", "memsets", "memset GB", "GFLOP", "GB moved", "ms fp32", "ms tf32");
  const char* phases[] = {"forward", "backward", "sgd"};
  const char* designs[] = {"before", "now"};
  tally total[2];
  for (int p = 0; p < kPhases; ++p)
    for (int d = 0; d < 2; ++d) {
      const tally& x = c->t[d][p];
      std::printf("%-9s %-7s %9lld %7lld %8lld %10.2f %10.1f %10.2f %10.2f %10.2f\n", phases[p],
                  designs[d], x.launches, x.gemms, x.memsets, x.memset_bytes / 1e9, x.flops / 1e9,
                  x.bytes / 1e9, x.seconds_fp32 * 1e3, x.seconds_tf32 * 1e3);
      total[d].launches += x.launches;
      total[d].gemms += x.gemms;
      total[d].memsets += x.memsets;
      total[d].memset_bytes += x.memset_bytes;
      total[d].flops += x.flops;
      total[d].bytes += x.bytes;
      total[d].seconds_fp32 += x.seconds_fp32;
      total[d].seconds_tf32 += x.seconds_tf32;
    }
  for (int d = 0; d < 2; ++d) {
    const tally& x = total[d];
    std::printf(
        "%-9s %-7s %9lld %7lld %8lld %10.2f %10.1f %10.2f %10.2f %10.2f  -> %.1f / %.1f "
        "img/s\n",
        "step", designs[d], x.launches, x.gemms, x.memsets, x.memset_bytes / 1e9, x.flops / 1e9,
        x.bytes / 1e9, x.seconds_fp32 * 1e3, x.seconds_tf32 * 1e3, batch / x.seconds_fp32,
        batch / x.seconds_tf32);
  }
  std::printf("\nforward GEMMs per step: %lld (before %lld = %d convolutions x %d images)\n",
              c->t[1][0].gemms, c->t[0][0].gemms, convs, batch);
  if (shapes) {
    std::printf("\nforward GEMM shapes now (m = c_out, n = batch x pixels, k = c_in x kh x kw):\n");
    for (const auto& s : c->forward_gemm_shapes)
      std::printf("  %6d x %8d x %6d  x%d\n", std::get<0>(s.first), std::get<1>(s.first),
                  std::get<2>(s.first), s.second);
  }
  return 0;
}

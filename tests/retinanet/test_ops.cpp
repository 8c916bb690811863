// tests/retinanet/test_ops.cpp — the RetinaNet ops' CPU twins (cuda/ops/*/<op>_cpu.cpp): each against
// hand-computed values, each backward against central finite differences of a random projection
// L = sum(r * f(x)), evaluated in double. The `[gpu]` tests in tests/cuda/ reuse these cases.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "model/permute_math.hpp"
#include "model/retinanet.hpp"
#include "model/transform.hpp"
#include "ops/anchors/anchors.hpp"
#include "ops/box_coder/box_coder.hpp"
#include "ops/box_loss/box_loss.hpp"
#include "ops/conv2d/conv2d.hpp"
#include "ops/focal_loss/focal_loss.hpp"
#include "ops/frozen_bn/frozen_bn.hpp"
#include "ops/matcher/matcher.hpp"
#include "ops/max_pool/max_pool.hpp"
#include "ops/nms/nms.hpp"
#include "ops/relu/relu.hpp"
#include "ops/sgd/sgd.hpp"
#include "ops/topk/topk.hpp"
#include "ops/upsample_add/upsample_add.hpp"
#include "random_values.hpp"

namespace dc = detkit::cuda;

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

/// Central differences of loss() with respect to every element of v.
std::vector<double> numeric_grad(std::vector<float>& v, const std::function<double()>& loss,
                                 float eps) {
  std::vector<double> g(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float keep = v[i];
    v[i] = keep + eps;
    const double up = loss();
    v[i] = keep - eps;
    const double down = loss();
    v[i] = keep;
    g[i] = (up - down) / (2.0 * static_cast<double>(eps));
  }
  return g;
}

void require_close(const std::vector<float>& analytic, const std::vector<double>& numeric,
                   double rel) {
  REQUIRE(analytic.size() == numeric.size());
  double scale = 0.0;
  for (double x : numeric) scale = std::max(scale, std::fabs(x));
  for (std::size_t i = 0; i < numeric.size(); ++i) {
    INFO("element " << i << ": analytic " << analytic[i] << ", numeric " << numeric[i]);
    REQUIRE(std::fabs(static_cast<double>(analytic[i]) - numeric[i]) <= rel * scale + 1e-6);
  }
}

}  // namespace

TEST_CASE("conv2d: hand-computed outputs", "[retinanet][conv2d]") {
  SECTION("2x2 kernel, stride 1, no padding, bias") {
    const dc::conv2d_shape s{1, 1, 3, 3, 1, 2, 2, 1, 0};
    const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9}, w{1, 0, 0, -1}, b{0.5f};
    std::vector<float> y(4), col(dc::conv2d_workspace_floats(s));
    dc::conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y.data(), col.data());
    CHECK(y == std::vector<float>{-3.5f, -3.5f, -3.5f, -3.5f});  // x[i][j] - x[i+1][j+1] + 0.5
  }
  SECTION("1x1 stride 2 (ResNet downsample) samples every other pixel") {
    const dc::conv2d_shape s{1, 1, 4, 4, 2, 1, 1, 2, 0};
    std::vector<float> x(16);
    for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i);
    const std::vector<float> w{1.0f, -2.0f};
    std::vector<float> y(8), col(dc::conv2d_workspace_floats(s));
    REQUIRE(s.out_h() == 2);
    dc::conv2d_forward_cpu(s, x.data(), w.data(), nullptr, y.data(), col.data());
    CHECK(y == std::vector<float>{0, 2, 8, 10, 0, -4, -16, -20});
  }
  SECTION("3x3 ones kernel, padding 1: counts the in-image neighbours") {
    const dc::conv2d_shape s{1, 1, 3, 3, 1, 3, 3, 1, 1};
    const std::vector<float> x(9, 1.0f), w(9, 1.0f);
    std::vector<float> y(9), col(dc::conv2d_workspace_floats(s));
    dc::conv2d_forward_cpu(s, x.data(), w.data(), nullptr, y.data(), col.data());
    CHECK(y == std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4});
  }
}

TEST_CASE("conv2d: backward equals central differences", "[retinanet][conv2d]") {
  struct cfg {
    int k, stride, pad;
  };
  for (const cfg c : {cfg{3, 1, 1}, cfg{3, 2, 1}, cfg{1, 2, 0}, cfg{7, 2, 3}, cfg{1, 1, 0}}) {
    DYNAMIC_SECTION("k" << c.k << " s" << c.stride << " p" << c.pad) {
      const dc::conv2d_shape s{2, 3, 9, 8, 4, c.k, c.k, c.stride, c.pad};
      const std::size_t nx = 2 * 3 * 9 * 8, nw = static_cast<std::size_t>(4 * 3 * c.k * c.k);
      const std::size_t ny = static_cast<std::size_t>(2 * 4 * s.out_h() * s.out_w());
      std::vector<float> x = random_vec(nx, 1), w = random_vec(nw, 2), b = random_vec(4, 3);
      const std::vector<float> r = random_vec(ny, 4);
      std::vector<float> y(ny), col(dc::conv2d_workspace_floats(s));
      auto loss = [&]() {
        dc::conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y.data(), col.data());
        return dot(y, r);
      };
      std::vector<float> dx(nx, 0.0f), dw(nw, 0.0f), db(4, 0.0f);
      dc::conv2d_backward_cpu(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(),
                              col.data());
      require_close(dx, numeric_grad(x, loss, 1e-2f), 1e-3);
      require_close(dw, numeric_grad(w, loss, 1e-2f), 1e-3);
      require_close(db, numeric_grad(b, loss, 1e-2f), 1e-3);
      // Gradients accumulate (+=): a second backward doubles them.
      std::vector<float> dw2 = dw;
      dc::conv2d_backward_cpu(s, x.data(), w.data(), r.data(), nullptr, dw2.data(), nullptr,
                              col.data());
      for (std::size_t i = 0; i < nw; ++i) CHECK(dw2[i] == Approx(2.0f * dw[i]));
    }
  }
}

TEST_CASE("frozen_bn: fold and affine, hand values and gradient", "[retinanet][frozen_bn]") {
  const std::vector<float> w{2.0f, 1.0f}, b{1.0f, 0.0f}, rm{0.5f, 1.0f}, rv{3.0f, 0.0f};
  std::vector<float> scale(2), shift(2);
  dc::frozen_bn_fold_cpu(2, w.data(), b.data(), rm.data(), rv.data(), 1.0f, scale.data(),
                         shift.data());
  CHECK(scale == std::vector<float>{1.0f, 1.0f});   // 2/sqrt(3+1), 1/sqrt(0+1)
  CHECK(shift == std::vector<float>{0.5f, -1.0f});  // 1 - 0.5*1, 0 - 1*1
  std::vector<float> x{3.0f, -1.0f, 2.0f, 4.0f}, y(4);
  dc::frozen_bn_forward_cpu(1, 2, 2, x.data(), scale.data(), shift.data(), y.data());
  CHECK(y == std::vector<float>{3.5f, -0.5f, 1.0f, 3.0f});

  std::vector<float> s2 = random_vec(3, 5, 0.5f, 2.0f), sh2 = random_vec(3, 6);
  std::vector<float> x2 = random_vec(2 * 3 * 5, 7), y2(x2.size());
  const std::vector<float> r = random_vec(x2.size(), 8);
  std::vector<float> dx(x2.size(), 0.0f);
  dc::frozen_bn_backward_cpu(2, 3, 5, r.data(), s2.data(), dx.data());
  auto loss = [&]() {
    dc::frozen_bn_forward_cpu(2, 3, 5, x2.data(), s2.data(), sh2.data(), y2.data());
    return dot(y2, r);
  };
  require_close(dx, numeric_grad(x2, loss, 1e-2f), 1e-3);
}

TEST_CASE("relu and add: values and gradient", "[retinanet][relu]") {
  const std::vector<float> x{-2.0f, -0.0f, 0.5f, 3.0f};
  std::vector<float> y(4), dx(4, 1.0f);
  dc::relu_forward_cpu(4, x.data(), y.data());
  CHECK(y == std::vector<float>{0.0f, 0.0f, 0.5f, 3.0f});
  const std::vector<float> dy{10.0f, 10.0f, 10.0f, 10.0f};
  dc::relu_backward_cpu(4, y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<float>{1.0f, 1.0f, 11.0f, 11.0f});  // accumulates, mask from the output

  std::vector<float> a = random_vec(50, 9), r = random_vec(50, 10), out(50);
  for (float& v : a)
    if (std::fabs(v) < 0.05f) v = 0.3f;  // keep finite differences off the kink
  auto loss = [&]() {
    dc::relu_forward_cpu(50, a.data(), out.data());
    return dot(out, r);
  };
  (void)loss();
  std::vector<float> da(50, 0.0f);
  dc::relu_backward_cpu(50, out.data(), r.data(), da.data());
  require_close(da, numeric_grad(a, loss, 1e-2f), 1e-3);

  std::vector<float> s(4);
  dc::add_forward_cpu(4, x.data(), dy.data(), s.data());
  CHECK(s == std::vector<float>{8.0f, 10.0f, 10.5f, 13.0f});
}

TEST_CASE("max_pool: 3x3/2 pad 1, torch's first-maximum rule, gradient", "[retinanet][max_pool]") {
  const dc::max_pool_shape s{1, 1, 4, 4, 3, 2, 1};
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i + 1);
  std::vector<float> y(4);
  std::vector<int> arg(4);
  dc::max_pool_forward_cpu(s, x.data(), y.data(), arg.data());
  CHECK(y == std::vector<float>{6, 8, 14, 16});
  CHECK(arg == std::vector<int>{5, 7, 13, 15});
  // Ties: the first maximum in scan order wins (top-left of the clipped window).
  const std::vector<float> flat(16, 1.0f);
  dc::max_pool_forward_cpu(s, flat.data(), y.data(), arg.data());
  CHECK(arg == std::vector<int>{0, 1, 4, 5});
  // Overlapping windows route to the same winner: its gradient is the sum.
  std::vector<float> dx(16, 0.0f);
  const std::vector<float> dy{1.0f, 2.0f, 4.0f, 8.0f};
  dc::max_pool_forward_cpu(s, flat.data(), y.data(), arg.data());
  dc::max_pool_backward_cpu(s, dy.data(), arg.data(), dx.data());
  CHECK(dx[0] == 1.0f);
  CHECK(dx[1] == 2.0f);
  CHECK(dx[4] == 4.0f);
  CHECK(dx[5] == 8.0f);

  const dc::max_pool_shape s2{2, 3, 9, 7, 3, 2, 1};
  std::vector<float> x2 = random_vec(2 * 3 * 9 * 7, 11);
  const std::size_t ny = static_cast<std::size_t>(2 * 3 * s2.out_h() * s2.out_w());
  const std::vector<float> r = random_vec(ny, 12);
  std::vector<float> y2(ny);
  std::vector<int> arg2(ny);
  auto loss = [&]() {
    dc::max_pool_forward_cpu(s2, x2.data(), y2.data(), arg2.data());
    return dot(y2, r);
  };
  (void)loss();
  std::vector<float> dx2(x2.size(), 0.0f);
  dc::max_pool_backward_cpu(s2, r.data(), arg2.data(), dx2.data());
  require_close(dx2, numeric_grad(x2, loss, 1e-4f), 1e-2);
}

TEST_CASE("upsample_add: nearest 2x and non-integer ratios, gradient", "[retinanet][upsample]") {
  const std::vector<float> top{1, 2, 3, 4}, lateral(16, 10.0f);
  std::vector<float> out(16);
  dc::upsample_add_forward_cpu(1, 1, 4, 4, 2, 2, lateral.data(), top.data(), out.data());
  CHECK(out == std::vector<float>{11, 11, 12, 12, 11, 11, 12, 12, 13, 13, 14, 14, 13, 13, 14, 14});
  // 3 -> 5: torch's floor(dst * 3/5) = 0, 0, 1, 1, 2.
  CHECK(dc::nearest_source(0, 3, 5) == 0);
  CHECK(dc::nearest_source(1, 3, 5) == 0);
  CHECK(dc::nearest_source(2, 3, 5) == 1);
  CHECK(dc::nearest_source(3, 3, 5) == 1);
  CHECK(dc::nearest_source(4, 3, 5) == 2);

  for (const int h : {10, 7}) {  // 5 -> 10 (exact 2x) and 5 -> 7
    std::vector<float> t = random_vec(2 * 3 * 5 * 5, 13), l = random_vec(2 * 3 * h * h, 14);
    const std::vector<float> r = random_vec(l.size(), 15);
    std::vector<float> o(l.size());
    auto loss = [&]() {
      dc::upsample_add_forward_cpu(2, 3, h, h, 5, 5, l.data(), t.data(), o.data());
      return dot(o, r);
    };
    std::vector<float> dl(l.size(), 0.0f), dt(t.size(), 0.0f);
    dc::upsample_add_backward_cpu(2, 3, h, h, 5, 5, r.data(), dl.data(), dt.data());
    require_close(dt, numeric_grad(t, loss, 1e-2f), 1e-3);
    require_close(dl, numeric_grad(l, loss, 1e-2f), 1e-3);
  }
}

TEST_CASE("focal loss: torchvision values, normalisation and gradient", "[retinanet][focal]") {
  const dc::focal_options o;
  // x = 0: p = 0.5, ce = ln 2, (1 - p_t)^2 = 0.25; alpha_t 0.25 (positive) / 0.75 (negative).
  CHECK(dc::sigmoid_focal_term(0.0f, 1.0f, o).loss == Approx(0.25 * std::log(2.0) * 0.25));
  CHECK(dc::sigmoid_focal_term(0.0f, 0.0f, o).loss == Approx(0.75 * std::log(2.0) * 0.25));
  // Large logits stay finite (log1p(exp(-|x|)) form).
  CHECK(std::isfinite(dc::sigmoid_focal_term(100.0f, 0.0f, o).loss));
  CHECK(dc::sigmoid_focal_term(-100.0f, 0.0f, o).loss == Approx(0.0).margin(1e-30));

  // 2 images, 4 anchors, 3 classes. Image 0: one foreground (class 2), one ignored; image 1: none.
  const int n = 2, r = 4, k = 3;
  std::vector<float> logits = random_vec(n * r * k, 16, -3.0f, 3.0f);
  const std::vector<int> target{2, -1, -2, -1, -1, -1, -1, -1};
  std::vector<float> grad(logits.size());
  const float loss =
      dc::focal_loss_cpu(n, r, k, logits.data(), target.data(), o, 1.0f, grad.data());
  double expect0 = 0.0, expect1 = 0.0;
  for (int a = 0; a < r; ++a)
    for (int c = 0; c < k; ++c) {
      const auto i0 = static_cast<std::size_t>(a * k + c),
                 i1 = static_cast<std::size_t>((r + a) * k + c);
      if (a != 2)
        expect0 += static_cast<double>(
            dc::sigmoid_focal_term(logits[i0], a == 0 && c == 2 ? 1.0f : 0.0f, o).loss);
      expect1 += static_cast<double>(dc::sigmoid_focal_term(logits[i1], 0.0f, o).loss);
    }
  CHECK(loss == Approx((expect0 / 1.0 + expect1 / 1.0) / 2.0));  // max(1, fg) per image, mean
  for (int c = 0; c < k; ++c) CHECK(grad[static_cast<std::size_t>(2 * k + c)] == 0.0f);  // ignored
  auto total = [&]() {
    std::vector<float> g(logits.size());
    return static_cast<double>(
        dc::focal_loss_cpu(n, r, k, logits.data(), target.data(), o, 1.0f, g.data()));
  };
  require_close(grad, numeric_grad(logits, total, 1e-2f), 2e-3);
}

TEST_CASE("box L1 loss: value and gradient sign", "[retinanet][box_loss]") {
  const std::vector<float> deltas{1, 2, 3, 4, 9, 9, 9, 9}, targets{0, 2, 5, 4, 0, 0, 0, 0};
  const std::vector<int> cls{1, -1};  // anchor 0 foreground, anchor 1 background
  std::vector<float> g(8);
  const float loss = dc::box_loss_cpu(1, 2, {}, deltas.data(), targets.data(), nullptr, cls.data(),
                                      1.0f, g.data());
  CHECK(loss == 3.0f);  // |1| + 0 + |-2| + 0, one foreground
  CHECK(g == std::vector<float>{1, 0, -1, 0, 0, 0, 0, 0});
}

TEST_CASE("box smooth-L1 loss: F.smooth_l1_loss values and gradient", "[retinanet][box_loss]") {
  dc::box_loss_options o;
  o.kind = dc::box_loss_kind::smooth_l1;
  o.beta = 1.0f;
  float g = 0.0f;
  CHECK(dc::box_loss_term(o, 0.5f, 0.0f, &g) == 0.125f);  // 0.5 * 0.25 / 1
  CHECK(g == 0.5f);
  CHECK(dc::box_loss_term(o, -2.0f, 0.0f, &g) == 1.5f);  // 2 - 0.5
  CHECK(g == -1.0f);
  o.beta = 0.0f;  // beta 0 is L1 (Detectron2's RetinaNet setting)
  CHECK(dc::box_loss_term(o, 0.25f, 0.0f, &g) == 0.25f);
  CHECK(g == 1.0f);
  o.beta = 1.0f / 9.0f;
  std::vector<float> deltas = random_vec(3 * 4, 30, -0.5f, 0.5f);
  const std::vector<float> targets = random_vec(3 * 4, 31, -0.5f, 0.5f);
  const std::vector<int> cls{0, -1, 4};
  std::vector<float> grad(deltas.size());
  (void)dc::box_loss_cpu(1, 3, o, deltas.data(), targets.data(), nullptr, cls.data(), 1.0f,
                         grad.data());
  auto total = [&]() {
    std::vector<float> gg(deltas.size());
    return static_cast<double>(dc::box_loss_cpu(1, 3, o, deltas.data(), targets.data(), nullptr,
                                                cls.data(), 1.0f, gg.data()));
  };
  require_close(grad, numeric_grad(deltas, total, 1e-3f), 2e-2);
}

TEST_CASE("box GIoU loss: torchvision values and gradient through the decode",
          "[retinanet][box_loss]") {
  dc::box_loss_options o;
  o.kind = dc::box_loss_kind::giou;
  const float anchor[4] = {0, 0, 10, 10}, zero[4] = {0, 0, 0, 0};
  float g[4];
  // Decoded box equals the ground truth: IoU 1, enclosing box = union, loss 0 (up to eps).
  const float same[4] = {0, 0, 10, 10};
  CHECK(dc::giou_term(zero, anchor, same, o.eps, g) == Approx(0.0).margin(1e-6));
  // Disjoint: [0,10]^2 vs [20,30]x[0,10]: IoU 0, C = 30*10, U = 200 -> 1 + 100/300.
  const float apart[4] = {20, 0, 30, 10};
  CHECK(dc::giou_term(zero, anchor, apart, o.eps, g) == Approx(1.0 + 100.0 / 300.0));
  // Half overlap: [0,10]^2 vs [5,15]x[0,10]: I 50, U 150, C 150 -> 1 - 1/3.
  const float half[4] = {5, 0, 15, 10};
  CHECK(dc::giou_term(zero, anchor, half, o.eps, g) == Approx(1.0 - 50.0 / 150.0));
  CHECK(g[0] < 0.0f);  // moving the box right (towards the ground truth) lowers the loss

  // Finite differences over overlapping, enclosing and disjoint cases, anchors of several shapes.
  const int r = 6;
  const std::vector<float> anchors{0,  0,  16, 16, 10, 5, 42, 21, 0,  0,  8,  32,
                                   50, 50, 90, 70, 3,  3, 7,  11, 20, 20, 60, 60};
  const std::vector<float> gts{2,  1,  18, 14, 12, 4, 30, 25, 30, 30, 40, 40,
                               55, 52, 80, 75, 0,  0, 20, 20, 22, 21, 59, 58};
  std::vector<float> deltas = random_vec(static_cast<std::size_t>(4 * r), 32, -0.3f, 0.3f);
  const std::vector<int> cls{0, 1, 2, 3, 4, 0};
  std::vector<float> grad(deltas.size());
  (void)dc::box_loss_cpu(1, r, o, deltas.data(), gts.data(), anchors.data(), cls.data(), 1.0f,
                         grad.data());
  auto total = [&]() {
    std::vector<float> gg(deltas.size());
    return static_cast<double>(dc::box_loss_cpu(1, r, o, deltas.data(), gts.data(), anchors.data(),
                                                cls.data(), 1.0f, gg.data()));
  };
  require_close(grad, numeric_grad(deltas, total, 1e-3f), 1e-2);
}

TEST_CASE("anchors: torchvision's cell anchors, order and count", "[retinanet][anchors]") {
  const dc::anchor_options o = dc::anchor_options::retinanet_default();
  CHECK(o.sizes[1] == std::vector<double>{64, 80, 101});
  CHECK(o.sizes[4] == std::vector<double>{512, 645, 812});
  const std::vector<float> p3 = dc::cell_anchors_cpu(o, 0);
  REQUIRE(p3.size() == 36);
  // Ratio-major: ratio 0.5 with sizes 32, 40, 50, then ratio 1 ... (rounded half to even).
  CHECK(std::vector<float>(p3.begin(), p3.begin() + 16) ==
        std::vector<float>{-23, -11, 23, 11, -28, -14, 28, 14, -35, -18, 35, 18, -16, -16, 16, 16});
  std::vector<dc::feature_size> levels;
  for (int s : {8, 16, 32, 64, 128}) levels.push_back({128 / s, 128 / s});
  const std::vector<float> all = dc::generate_anchors_cpu(o, 128, 128, levels);
  CHECK(all.size() == 4 * 3069);
  // Second location of P3 (x = 1): shifted by the stride 8, no 0.5 offset.
  CHECK(all[4 * 9 + 0] == -23 + 8);
  CHECK(all[4 * 9 + 1] == -11);
}

TEST_CASE("anchors: Detectron2 convention (float sizes, size-major, fixed strides, offset)",
          "[retinanet][anchors]") {
  dc::anchor_options o = dc::anchor_options::detectron2_retinanet();
  CHECK(o.sizes[0][1] == Approx(40.3174736));  // 32 * 2^(1/3), not truncated
  const std::vector<float> c = dc::cell_anchors_cpu(o, 0);
  REQUIRE(c.size() == 36);
  // Size 32, ratio 0.5: w = sqrt(1024 / 0.5) = 45.2548, h = 22.6274; not rounded.
  CHECK(c[0] == Approx(-22.627417));
  CHECK(c[1] == Approx(-11.3137085));
  // Size-major: the next anchor is size 32, ratio 1; the fourth is size 40.3 ratio 0.5.
  CHECK(c[4] == -16.0f);
  CHECK(c[12] == Approx(-std::sqrt(40.3174736 * 40.3174736 / 0.5) / 2.0));
  // Fixed strides with the offset: 800 -> P7 is 7x7 but the stride stays 128 (torchvision: 114).
  o.offset = 0.5;
  std::vector<dc::feature_size> levels{{100, 100}, {50, 50}, {25, 25}, {13, 13}, {7, 7}};
  const std::vector<float> all = dc::generate_anchors_cpu(o, 800, 800, levels);
  const std::size_t p7 = 4 * 9 * (100 * 100 + 50 * 50 + 25 * 25 + 13 * 13);
  const std::vector<float> cell_p7 = dc::cell_anchors_cpu(o, 4);
  CHECK(all[p7 + 4 * 9 + 0] == cell_p7[0] + 0.5f * 128.0f + 128.0f);  // second location, x = 1
  dc::anchor_options tv = dc::anchor_options::retinanet_default();
  const std::vector<float> tv_all = dc::generate_anchors_cpu(tv, 800, 800, levels);
  CHECK(tv_all[p7 + 4 * 9 + 0] == dc::cell_anchors_cpu(tv, 4)[0] + 114.0f);  // 800 // 7
}

TEST_CASE("matcher: thresholds, ignored band and low-quality matches", "[retinanet][matcher]") {
  const std::vector<float> gt{0, 0, 10, 10, 100, 100, 110, 130};
  const std::vector<float> anchors{
      0,   0,   10,  12,   // IoU 100/120 = 0.833 with gt 0 -> 0
      0,   0,   10,  22,   // IoU 100/220 = 0.4545 -> ignored (-2)
      50,  50,  60,  60,   // IoU 0 -> background (-1)
      100, 100, 110, 200,  // gt 1: IoU 300/1000 = 0.3 < 0.4, but it is gt 1's best -> 1
  };
  std::vector<int> m(4);
  std::vector<float> iou(8);
  dc::match_anchors_cpu({}, 2, 4, gt.data(), anchors.data(), m.data(), iou.data());
  CHECK(m == std::vector<int>{0, -2, -1, 1});
  dc::matcher_options strict;
  strict.low_quality = dc::low_quality_matches::drop;
  dc::match_anchors_cpu(strict, 2, 4, gt.data(), anchors.data(), m.data(), iou.data());
  CHECK(m == std::vector<int>{0, -2, -1, -1});
  dc::match_anchors_cpu({}, 0, 4, gt.data(), anchors.data(), m.data(), iou.data());
  CHECK(m == std::vector<int>{-1, -1, -1, -1});
  CHECK(dc::box_iou(&gt[0], &anchors[0]) == Approx(100.0 / 120.0));
}

TEST_CASE("box coder: encode, decode, clamp and clip", "[retinanet][box_coder]") {
  const float anchor[4] = {0, 0, 10, 20}, gt[4] = {5, 0, 25, 20};
  float d[4], back[4];
  dc::box_encode(gt, anchor, d);
  CHECK(d[0] == Approx(1.0));  // centre moves 10 px on a 10 px width
  CHECK(d[1] == 0.0f);
  CHECK(d[2] == Approx(std::log(2.0)));  // width doubles
  CHECK(d[3] == 0.0f);
  dc::box_decode(d, anchor, back);
  for (int i = 0; i < 4; ++i) CHECK(back[i] == Approx(gt[i]).margin(1e-5));
  const float big[4] = {0, 0, 20, 0};
  dc::box_decode(big, anchor, back);  // dw clamped at log(1000/16): width 10 * 62.5
  CHECK(back[2] - back[0] == Approx(625.0));
  float box[4] = {-5, 3, 700, 90};
  dc::box_clip(box, 80.0f, 600.0f);
  CHECK(box[0] == 0.0f);
  CHECK(box[2] == 600.0f);
  CHECK(box[3] == 80.0f);
}

TEST_CASE("topk: threshold, order, ties by index", "[retinanet][topk]") {
  // sigmoid(0) = 0.5, sigmoid(-10) < 0.05 is dropped.
  const std::vector<float> logits{0.0f, 2.0f, -10.0f, 0.0f, 1.0f};
  const auto top = dc::topk_scores_cpu(5, logits.data(), 0.05f, 3);
  REQUIRE(top.size() == 3);
  CHECK(top[0].index == 1);
  CHECK(top[1].index == 4);
  CHECK(top[2].index == 0);  // tied with index 3; the lower index first
  CHECK(top[2].score == Approx(0.5));
  CHECK(dc::topk_scores_cpu(5, logits.data(), 0.05f, 10).size() == 4);
}

TEST_CASE("batched NMS: class-wise suppression, both torchvision code paths", "[retinanet][nms]") {
  const std::vector<float> boxes{0, 0, 10, 10, 1, 1, 11, 11, 0, 0, 10, 10, 50, 50, 60, 60};
  const std::vector<float> scores{0.9f, 0.8f, 0.7f, 0.95f};
  const std::vector<int> labels{0, 0, 1, 0};
  const auto keep = dc::batched_nms_cpu(4, boxes.data(), scores.data(), labels.data(), 0.5f, -1);
  CHECK(keep == std::vector<int>{3, 0, 2});  // box 1 (IoU 0.68 with box 0, same class) suppressed
  CHECK(dc::batched_nms_cpu(4, boxes.data(), scores.data(), labels.data(), 0.5f, 2) ==
        std::vector<int>{3, 0});
  // > 1000 boxes: the per-class path gives the same answer on well-separated classes.
  std::vector<float> many;
  std::vector<float> s;
  std::vector<int> l;
  for (int i = 0; i < 1200; ++i) {
    const float x = static_cast<float>((i % 40) * 20), y = static_cast<float>((i / 40) * 20);
    many.insert(many.end(), {x, y, x + 10, y + 10});
    s.push_back(1.0f - static_cast<float>(i) * 1e-4f);
    l.push_back(i % 3);
  }
  CHECK(dc::batched_nms_cpu(1200, many.data(), s.data(), l.data(), 0.5f, -1).size() == 1200);
}

TEST_CASE("sgd: torch.optim.SGD momentum and weight decay", "[retinanet][sgd]") {
  dc::sgd_options o;
  o.lr = 0.1f;
  o.momentum = 0.9f;
  o.weight_decay = 0.1f;
  float p = 1.0f, buf = 0.0f;
  const float g = 0.5f;
  dc::sgd_step_cpu(o, 1, &g, &p, &buf);
  CHECK(buf == Approx(0.6f));  // 0.5 + 0.1 * 1
  CHECK(p == Approx(0.94f));
  dc::sgd_step_cpu(o, 1, &g, &p, &buf);
  CHECK(buf == Approx(0.9 * 0.6 + 0.5 + 0.094));
  CHECK(p == Approx(0.94 - 0.1 * (0.9 * 0.6 + 0.5 + 0.094)));
}

TEST_CASE("sgd: grad_scale is clip_grad_norm_'s factor applied before weight decay",
          "[retinanet][sgd]") {
  // torch: clip_grad_norm_(max_norm 1) on g = (3, 4) -> coef 1 / (5 + 1e-6); then SGD.
  CHECK(dc::clip_factor(5.0, 1.0) == Approx(1.0 / (5.0 + 1e-6)));
  CHECK(dc::clip_factor(0.5, 1.0) == 1.0f);  // never scales up
  dc::sgd_options o;
  o.lr = 0.1f;
  o.weight_decay = 0.1f;
  o.grad_scale = dc::clip_factor(5.0, 1.0);
  const float g[2] = {3.0f, 4.0f};
  float p[2] = {1.0f, -2.0f}, buf[2] = {0.0f, 0.0f};
  dc::sgd_step_cpu(o, 2, g, p, buf);
  CHECK(buf[0] == Approx(0.6 + 0.1));  // 3/5 + wd * 1: the decay term is not clipped
  CHECK(buf[1] == Approx(0.8 - 0.2));
  CHECK(p[0] == Approx(1.0 - 0.1 * 0.7));
  CHECK(dc::sum_of_squares_cpu(2, g) == 25.0);
  // Unclipped (scale 1) is bit-equal to the plain update.
  dc::sgd_options plain;
  float q = 0.3f, qb = 0.2f, r = 0.3f, rb = 0.2f;
  const float h = 0.123456f;
  dc::sgd_step_cpu(plain, 1, &h, &q, &qb);
  plain.grad_scale = 1.0f;
  dc::sgd_step_cpu(plain, 1, &h, &r, &rb);
  CHECK(q == r);
}

TEST_CASE("head layout: (N, A*K, H, W) to (N, HWA, K)", "[retinanet][permute]") {
  // n 1, a 2, k 3, h 1, w 2: channel c = a*K + k at pixel x goes to row x*A + a, column k.
  const int a = 2, k = 3, h = 1, w = 2, rows = 4;
  std::vector<float> x(static_cast<std::size_t>(a * k * h * w));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  std::vector<float> y(static_cast<std::size_t>(rows * k), -1.0f);
  for (long long i = 0; i < a * k * h * w; ++i) {
    long long dst = 0;
    const long long src = dc::anchor_major_source(i, a, k, h, w, &dst, rows, 0);
    y[static_cast<std::size_t>(dst)] = x[static_cast<std::size_t>(src)];
  }
  // x layout: channel c at pixel p is c*2 + p.
  CHECK(y == std::vector<float>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11});
}

TEST_CASE("transform: torchvision sizes and bilinear weights", "[retinanet][transform]") {
  const dc::transform_options o;
  const dc::resized_size s = dc::transform_output_size(o, 480, 640);
  CHECK(s.h == 800);
  CHECK(s.w == 1066);  // floor(640 * float(800/480))
  const dc::resized_size wide = dc::transform_output_size(o, 400, 2000);
  CHECK(wide.w == 1333);  // the long side caps the scale
  CHECK(wide.h == 266);
  // 1 x 2 -> 1 x 4 with mean 0, std 1: align_corners=False gives 0, .25, .75, 1.
  dc::transform_options id;
  for (int c = 0; c < 3; ++c) {
    id.mean[c] = 0.0f;
    id.std[c] = 1.0f;
  }
  const std::vector<float> img{0, 1, 0, 1, 0, 1};
  std::vector<float> out(12);
  dc::normalize_and_resize(id, img.data(), 1, 2, {1, 4}, out.data());
  CHECK(std::vector<float>(out.begin(), out.begin() + 4) == std::vector<float>{0, 0.25f, 0.75f, 1});
  // Boxes follow the image: float32 ratios new / old per axis (torchvision resize_boxes).
  float box[4] = {10, 20, 30, 40};
  dc::resize_boxes(box, 1, 480, 640, 800, 1066);
  CHECK(box[0] == 10.0f * (1066.0f / 640.0f));
  CHECK(box[1] == 20.0f * (800.0f / 480.0f));
  const std::vector<float> one(3 * 4 * 6, 0.5f);
  const dc::image_batch b = dc::make_batch(o, {{one.data(), 4, 6}});
  CHECK(b.image_sizes[0].h == 800);
  CHECK(b.h == 800);
  CHECK(b.w == 1216);  // 1200 padded to a multiple of 32
}

TEST_CASE("model wiring: parameter counts equal torchvision's", "[retinanet][model]") {
  // torchvision's retinanet_resnet50_fpn COCO weights meta: num_params 34,014,999 (91 classes).
  const dc::arena_report r50 =
      dc::plan_arena(dc::retinanet_config::resnet50(91), dc::batch_shape{8, 800, 800});
  CHECK(r50.trainable_parameters == 34014999);
  // R18 / R34 bodies, P6 from P5, 91 classes (torchvision 0.14.1, FrozenBatchNorm2d, counted with
  // sum(p.numel() for p in RetinaNet(_resnet_fpn_extractor(...), 91).parameters())).
  CHECK(dc::plan_arena(dc::retinanet_config::resnet18(91), dc::batch_shape{1, 256, 256})
            .trainable_parameters == 21038871);
  CHECK(dc::plan_arena(dc::retinanet_config::resnet34(91), dc::batch_shape{1, 256, 256})
            .trainable_parameters == 31139607);
  // R18-FPN with P6 from C5 and 31 classes: 20,383,995 (counted with torchvision 0.14.1).
  dc::retinanet_config r18 = dc::retinanet_config::resnet18(31);
  r18.p6 = dc::p6_source::c5;
  CHECK(dc::plan_arena(r18, dc::batch_shape{2, 512, 512}).trainable_parameters == 20383995);
  // Parameters, gradients and momentum are one float each per parameter (plus alignment).
  CHECK(r50.params >= 4 * r50.trainable_parameters);
  CHECK(r50.grads == r50.params);
  CHECK(r50.total == r50.params + r50.grads + r50.momentum + r50.folded_bn + r50.activations +
                         r50.activation_grads + r50.workspace + r50.loss);
  std::printf(
      "arena for R50-FPN (91 classes), batch 8 x 800 x 800: %.2f GiB (activations %.2f GiB "
      "+ their gradients, parameters %.1f MiB x 3, workspace %.1f MiB)\n",
      static_cast<double>(r50.total) / 1073741824.0,
      static_cast<double>(r50.activations) / 1073741824.0,
      static_cast<double>(r50.params) / 1048576.0, static_cast<double>(r50.workspace) / 1048576.0);
}

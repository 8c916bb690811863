// tests/retinanet/test_rounding.cpp — the numerics policy of cuda/ops/README.md, checked on the CPU.
// The bodies that must be bit-equal between the CPU twin and the GPU are evaluated twice: by the CPU
// twin (this build: no contraction) and by rounding_probe.cpp, built the way nvcc builds device code
// (contraction on, device intrinsics emulated). Each op's outputs must agree to the bit. The probe's
// copy of the pre-policy SGD body shows the failure the policy removes: the GPU test's SGD inputs
// moved by a fused momentum * buf + d.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "ops/anchors/anchors.hpp"
#include "ops/box_coder/box_coder.hpp"
#include "ops/frozen_bn/frozen_bn.hpp"
#include "ops/matcher/matcher.hpp"
#include "ops/sgd/sgd.hpp"
#include "random_values.hpp"
#include "rounding_probe.hpp"

namespace dc = detkit::cuda;

namespace {

/// Boxes x1 < x2, y1 < y2 with coordinates in [0, 512): IoUs land on every side of 0.4 / 0.5.
std::vector<float> random_boxes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> pos(0.0f, 400.0f), size(1.0f, 111.0f);
  std::vector<float> v;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = pos(gen), y = pos(gen);
    v.insert(v.end(), {x, y, x + size(gen), y + size(gen)});
  }
  return v;
}

/// Number of elements whose bits differ.
template <typename T>
std::size_t bit_differences(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
  return n;
}

/// The share of `atol + rtol * |ref|` the worst element uses (test_ops_gpu.cpp's check).
double worst_share(const std::vector<float>& got, const std::vector<float>& ref, double atol,
                   double rtol) {
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double tol = atol + rtol * std::fabs(static_cast<double>(ref[i]));
    worst =
        std::max(worst, std::fabs(static_cast<double>(got[i]) - static_cast<double>(ref[i])) / tol);
  }
  return worst;
}

// Without contraction the probe is the CPU twin again and every comparison below is vacuous.
void require_probe_contracts() {
#if defined(__x86_64__)
  INFO("this CPU has no FMA instructions: the probe (built with -mfma) cannot run here");
  REQUIRE(__builtin_cpu_supports("fma"));
#endif
  INFO("rounding_probe.cpp was built without FMA contraction: it cannot stand in for the GPU");
  REQUIRE(rounding_probe::contracts());
}

}  // namespace

TEST_CASE("rounding policy: SGD is bit-equal with the GPU's rounding", "[rounding][sgd]") {
  require_probe_contracts();
  // tests/cuda/test_ops_gpu.cpp's SGD inputs and tolerance (rtol 1e-6, atol 0).
  const dc::sgd_options o;
  const auto g = random_vec(100, 18);
  const auto p0 = random_vec(100, 16), m0 = random_vec(100, 17);
  auto p_cpu = p0, m_cpu = m0, p_gpu = p0, m_gpu = m0, p_old = p0, m_old = m0;
  dc::sgd_step_cpu(o, 100, g.data(), p_cpu.data(), m_cpu.data());
  rounding_probe::sgd(o.lr, o.momentum, o.weight_decay, o.grad_scale, 100, g.data(), p_gpu.data(),
                      m_gpu.data());
  CHECK(bit_differences(p_gpu, p_cpu) == 0);
  CHECK(bit_differences(m_gpu, m_cpu) == 0);

  // Before the policy: the same inputs, fused as nvcc fuses them, miss the GPU test's tolerance.
  rounding_probe::sgd_before_policy(o.lr, o.momentum, o.weight_decay, o.grad_scale, 100, g.data(),
                                    p_old.data(), m_old.data());
  const double old_share = worst_share(m_old, m_cpu, 0.0, 1e-6);
  std::printf("sgd momentum before the policy, fused: worst %.0f%% of rtol 1e-6\n",
              100.0 * old_share);
  CHECK(old_share > 1.0);
  // The same with std::fma written out for momentum * buf + d (the fma.rn in sgd's old PTX).
  std::vector<float> m_fma = m0;
  for (std::size_t i = 0; i < m_fma.size(); ++i) {
    const float d = g[i] * o.grad_scale + o.weight_decay * p0[i];
    m_fma[i] = std::fma(o.momentum, m_fma[i], d);
  }
  CHECK(worst_share(m_fma, m_cpu, 0.0, 1e-6) > 1.0);

  // And over many steps on random values: never a differing bit.
  auto gp = random_vec(100000, 1), pp = random_vec(100000, 2), bp = random_vec(100000, 3);
  auto gq = pp, gb = bp;
  dc::sgd_options clip = o;
  clip.grad_scale = 0.37f;
  for (int step = 0; step < 5; ++step) {
    dc::sgd_step_cpu(clip, 100000, gp.data(), pp.data(), bp.data());
    rounding_probe::sgd(clip.lr, clip.momentum, clip.weight_decay, clip.grad_scale, 100000,
                        gp.data(), gq.data(), gb.data());
  }
  CHECK(bit_differences(gq, pp) == 0);
  CHECK(bit_differences(gb, bp) == 0);
}

TEST_CASE("rounding policy: frozen BN fold, affine and its gradient are bit-equal",
          "[rounding][frozen_bn]") {
  require_probe_contracts();
  const int c = 4096;
  const auto w = random_vec(c, 4, 0.5f, 1.5f), b = random_vec(c, 5), rm = random_vec(c, 6),
             rv = random_vec(c, 7, 0.1f, 2.0f);
  std::vector<float> scale(c), shift(c), scale_g(c), shift_g(c);
  dc::frozen_bn_fold_cpu(c, w.data(), b.data(), rm.data(), rv.data(), 1e-5f, scale.data(),
                         shift.data());
  rounding_probe::frozen_bn_fold(c, w.data(), b.data(), rm.data(), rv.data(), 1e-5f, scale_g.data(),
                                 shift_g.data());
  CHECK(bit_differences(scale_g, scale) == 0);
  CHECK(bit_differences(shift_g, shift) == 0);

  // One channel per plane: (1, c, 64) with the fold above.
  const auto x = random_vec(static_cast<std::size_t>(c) * 64, 8, -3.0f, 3.0f);
  const auto dy = random_vec(x.size(), 9);
  std::vector<float> y(x.size()), dx = random_vec(x.size(), 10), y_g(x.size()), dx_g = dx;
  dc::frozen_bn_forward_cpu(1, c, 64, x.data(), scale.data(), shift.data(), y.data());
  dc::frozen_bn_backward_cpu(1, c, 64, dy.data(), scale.data(), dx.data());
  for (int ch = 0; ch < c; ++ch) {
    const std::size_t at = static_cast<std::size_t>(ch) * 64;
    rounding_probe::affine(64, &x[at], scale[static_cast<std::size_t>(ch)],
                           shift[static_cast<std::size_t>(ch)], &y_g[at]);
    rounding_probe::affine_grad_accumulate(64, &dy[at], scale[static_cast<std::size_t>(ch)],
                                           &dx_g[at]);
  }
  CHECK(bit_differences(y_g, y) == 0);
  CHECK(bit_differences(dx_g, dx) == 0);
}

TEST_CASE("rounding policy: anchors are bit-equal, with and without a centre offset",
          "[rounding][anchors]") {
  require_probe_contracts();
  for (const float offset : {0.0f, 0.5f, 0.3f}) {
    dc::anchor_options o = dc::anchor_options::detectron2_retinanet();
    o.offset = offset;
    const std::vector<dc::feature_size> levels{{100, 136}, {50, 68}, {25, 34}, {13, 17}, {7, 9}};
    const std::vector<float> cpu = dc::generate_anchors_cpu(o, 800, 1088, levels);
    std::vector<float> gpu;
    for (std::size_t l = 0; l < levels.size(); ++l) {
      const std::vector<float> cells = dc::cell_anchors_cpu(o, static_cast<int>(l));
      const int a = static_cast<int>(cells.size() / 4);
      std::vector<float> out(static_cast<std::size_t>(levels[l].h * levels[l].w * a) * 4);
      rounding_probe::shifted_anchors(a, cells.data(), levels[l].h, levels[l].w, o.strides[l],
                                      offset, out.data());
      gpu.insert(gpu.end(), out.begin(), out.end());
    }
    INFO("offset " << offset);
    CHECK(bit_differences(gpu, cpu) == 0);
  }
}

TEST_CASE("rounding policy: IoU and the matcher are bit-equal", "[rounding][matcher]") {
  require_probe_contracts();
  const auto a = random_boxes(200000, 11), b = random_boxes(200000, 12);
  std::vector<float> cpu(200000), gpu(200000);
  for (std::size_t i = 0; i < cpu.size(); ++i) cpu[i] = dc::box_iou(&a[4 * i], &b[4 * i]);
  rounding_probe::box_iou(200000, a.data(), b.data(), gpu.data());
  CHECK(bit_differences(gpu, cpu) == 0);

  const int g = 12, r = 20000;
  const auto gt = random_boxes(g, 13), anchors = random_boxes(r, 14);
  std::vector<int> m(r), m_g(r);
  std::vector<float> iou(static_cast<std::size_t>(g) * r), iou_g(iou.size());
  dc::match_anchors_cpu({}, g, r, gt.data(), anchors.data(), m.data(), iou.data());
  rounding_probe::match_anchors(g, r, gt.data(), anchors.data(), m_g.data(), iou_g.data());
  CHECK(bit_differences(iou_g, iou) == 0);
  CHECK(m_g == m);
}

TEST_CASE("rounding policy: box encode/decode are bit-equal apart from expf/logf",
          "[rounding][box_coder]") {
  require_probe_contracts();
  // Both sides call the host's expf/logf here, so what is left to differ is the policy's part;
  // on the GPU the transcendentals differ by an ulp or two (a stated tolerance in the gpu test).
  const std::size_t n = 100000;
  const auto anchors = random_boxes(n, 15), gt = random_boxes(n, 16);
  const auto deltas = random_vec(4 * n, 17, -2.0f, 2.0f);
  std::vector<float> enc(4 * n), enc_g(4 * n), dec(4 * n), dec_g(4 * n);
  dc::box_encode_cpu(static_cast<long long>(n), gt.data(), anchors.data(), enc.data());
  rounding_probe::box_encode(static_cast<long long>(n), gt.data(), anchors.data(), enc_g.data());
  dc::box_decode_cpu(static_cast<long long>(n), deltas.data(), anchors.data(), dec.data());
  rounding_probe::box_decode(static_cast<long long>(n), deltas.data(), anchors.data(),
                             dec_g.data());
  CHECK(bit_differences(enc_g, enc) == 0);
  CHECK(bit_differences(dec_g, dec) == 0);
}

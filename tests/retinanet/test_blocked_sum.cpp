// tests/retinanet/test_blocked_sum.cpp — the fixed summation order the losses and bias gradients
// share between the backends (cuda/common/blocked_sum.hpp). The CPU twin streams the chunks; here
// the device's two kernels are simulated block by block (chunk sums into an array, then one block
// per segment) and must give the same bits; every element is visited once; the sums are accurate.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "common/blocked_sum.hpp"
#include "ops/conv2d/conv2d.hpp"
#include "ops/focal_loss/focal_loss.hpp"
#include "random_values.hpp"

namespace dc = detkit::cuda;

namespace {

// One block of 256 threads as blocked_sum.cuh runs it: thread t's strided sum, then the tree with
// every thread of a step reading the values of the step before (as after __syncthreads).
double simulated_block(const std::vector<double>& per_thread) {
  std::vector<double> v = per_thread;
  for (int half = dc::blocked_sum_threads / 2; half > 0; half /= 2) {
    const std::vector<double> before = v;
    for (int t = 0; t < half; ++t)
      v[static_cast<std::size_t>(t)] =
          before[static_cast<std::size_t>(t)] + before[static_cast<std::size_t>(t + half)];
  }
  return v[0];
}

// blocked_sum_chunks_kernel then blocked_sum_segments_kernel, simulated.
std::vector<double> simulated_device(const dc::blocked_layout& l, const std::vector<float>& x) {
  const long long cps = l.chunks_per_segment();
  std::vector<double> chunk_sums;
  for (long long b = 0; b < l.segments * cps; ++b) {
    const int s = static_cast<int>(b / cps);
    const long long q = b % cps, begin = l.chunk_begin(s, q), len = l.chunk_len(q);
    std::vector<double> t(dc::blocked_sum_threads, 0.0);
    for (int th = 0; th < dc::blocked_sum_threads; ++th)
      for (long long j = th; j < len; j += dc::blocked_sum_threads)
        t[static_cast<std::size_t>(th)] +=
            static_cast<double>(x[static_cast<std::size_t>(begin + j)]);
    chunk_sums.push_back(simulated_block(t));
  }
  std::vector<double> out;
  for (int s = 0; s < l.segments; ++s) {
    std::vector<double> t(dc::blocked_sum_threads, 0.0);
    for (int th = 0; th < dc::blocked_sum_threads; ++th)
      for (long long q = th; q < cps; q += dc::blocked_sum_threads)
        t[static_cast<std::size_t>(th)] += chunk_sums[static_cast<std::size_t>(s * cps + q)];
    out.push_back(simulated_block(t));
  }
  return out;
}

}  // namespace

TEST_CASE("blocked sum: the CPU twin's order is the device kernels' order, every element once",
          "[retinanet][blocked_sum]") {
  // Segments longer than 256 chunks (the second stage wraps), planes with a partial last chunk.
  struct shape {
    int segments, planes;
    long long plane_len;
  };
  for (const shape sh :
       {shape{2, 1, 1100000}, shape{5, 3, 4900}, shape{3, 2, 1}, shape{1, 1, 4096}}) {
    dc::blocked_layout l;
    l.segments = sh.segments;
    l.planes = sh.planes;
    l.plane_len = sh.plane_len;
    l.segment_stride = sh.plane_len;  // the bias layout: (plane, segment, element)
    l.plane_stride = sh.plane_len * sh.segments;
    const std::size_t total = static_cast<std::size_t>(sh.segments * sh.planes * sh.plane_len);
    const auto x = random_vec(total, 31, -1.0f, 3.0f);
    const std::vector<double> device = simulated_device(l, x);
    std::vector<int> visits(total, 0);
    for (int s = 0; s < l.segments; ++s) {
      const double cpu =
          dc::blocked_segment_sum_cpu(l, s, [&](long long begin, long long len, float* out) {
            for (long long j = 0; j < len; ++j) {
              ++visits[static_cast<std::size_t>(begin + j)];
              out[j] = x[static_cast<std::size_t>(begin + j)];
            }
          });
      CHECK(std::memcmp(&cpu, &device[static_cast<std::size_t>(s)], sizeof cpu) == 0);
      long double exact = 0.0L;
      for (int p = 0; p < sh.planes; ++p)
        for (long long j = 0; j < sh.plane_len; ++j)
          exact += x[static_cast<std::size_t>(p * l.plane_stride + s * l.segment_stride + j)];
      CHECK(std::fabs(static_cast<long double>(cpu) - exact) <= 1e-12L * std::fabs(exact) + 1e-12L);
    }
    CHECK(std::count(visits.begin(), visits.end(), 1) == static_cast<long>(total));
  }
}

TEST_CASE("blocked sum: conv bias gradient and focal loss over several chunks",
          "[retinanet][blocked_sum]") {
  // 70 x 70 = 4900 pixels: two chunks per image plane; db accumulates onto what was there.
  const dc::conv2d_shape s{3, 2, 70, 70, 5, 1, 1, 1, 0};
  const auto x = random_vec(3 * 2 * 4900, 32), w = random_vec(10, 33),
             dy = random_vec(3 * 5 * 4900, 34);
  std::vector<float> dx(x.size(), 0.0f), dw(10, 0.0f), db{1, 2, 3, 4, 5},
      col(dc::conv2d_workspace_floats(s));
  dc::conv2d_backward_cpu(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                          col.data());
  for (int co = 0; co < 5; ++co) {
    double ref = 0.0;
    for (int img = 0; img < 3; ++img)
      for (int p = 0; p < 4900; ++p)
        ref += static_cast<double>(dy[static_cast<std::size_t>((img * 5 + co) * 4900 + p)]);
    CHECK(static_cast<double>(db[static_cast<std::size_t>(co)]) ==
          Approx(co + 1 + ref).epsilon(1e-6));
  }

  // 2 images x 60000 anchors x 20 classes: 1.2M terms per image, 293 chunks.
  const int n = 2, r = 60000, k = 20;
  const auto logits = random_vec(static_cast<std::size_t>(n * r * k), 35, -5.0f, 5.0f);
  std::vector<int> target(static_cast<std::size_t>(n * r));
  std::mt19937 gen(36);
  for (int& t : target) t = static_cast<int>(gen() % 40) - 2;  // mostly background
  for (int& t : target) t = t >= k ? -1 : t;
  std::vector<float> dl(logits.size(), NAN);
  const float loss = dc::focal_loss_cpu(n, r, k, logits.data(), target.data(), {}, 1.0f, dl.data());
  long double total = 0.0L;
  for (int img = 0; img < n; ++img) {
    long double sum = 0.0L;
    int fg = 0;
    for (int a = 0; a < r; ++a) {
      const int t = target[static_cast<std::size_t>(img * r + a)];
      fg += t >= 0;
      if (t == dc::anchor_ignored) continue;
      for (int c = 0; c < k; ++c)
        sum += dc::sigmoid_focal_term(logits[static_cast<std::size_t>((img * r + a) * k + c)],
                                      t == c ? 1.0f : 0.0f, {})
                   .loss;
    }
    total += sum / std::max(fg, 1);
  }
  CHECK(static_cast<double>(loss) == Approx(static_cast<double>(total / n)).epsilon(1e-6));
  CHECK(std::none_of(dl.begin(), dl.end(), [](float v) { return std::isnan(v); }));
}

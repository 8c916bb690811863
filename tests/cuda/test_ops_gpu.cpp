// tests/cuda/test_ops_gpu.cpp — every CUDA op against its CPU twin on the same inputs (the shapes of
// tests/retinanet/test_ops.cpp), then the whole RetinaNet: CUDA backend vs CPU backend, forward,
// losses and every gradient. Comparison |gpu - cpu| <= atol + rtol * |cpu| (llm.c check_tensor),
// reporting the worst index, both values and the share of the tolerance used.
// No device: prints why and returns 77 (ctest SKIP_RETURN_CODE).
#define CATCH_CONFIG_RUNNER
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "common/device_buffer.hpp"
#include "common/gpu_context.hpp"
#include "model/retinanet.hpp"
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

namespace dc = detkit::cuda;
template <typename T>
using dbuf = dc::device_buffer<T>;

namespace {

std::vector<float> random_vec(std::size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

template <typename T>
dbuf<T> to_device(const std::vector<T>& v) {
  dbuf<T> b(v.size());
  b.upload(v);
  return b;
}

/// llm.c-style check: every element within atol + rtol*|cpu|; prints the worst.
void check(const char* label, const std::vector<float>& gpu, const std::vector<float>& cpu,
           double atol = 1e-5, double rtol = 1e-4) {
  REQUIRE(gpu.size() == cpu.size());
  double worst = 0.0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const double tol = atol + rtol * std::fabs(static_cast<double>(cpu[i]));
    const double used = std::fabs(static_cast<double>(gpu[i]) - static_cast<double>(cpu[i])) / tol;
    if (!(used <= worst)) {
      worst = used;
      at = i;
    }
  }
  std::printf("%-44s worst %.1f%% of tolerance at %zu (gpu %.7g cpu %.7g)\n", label, 100.0 * worst,
              at, cpu.empty() ? 0.0 : static_cast<double>(gpu[at]),
              cpu.empty() ? 0.0 : static_cast<double>(cpu[at]));
  CHECK(worst <= 1.0);
}

dc::gpu_context& ctx() {
  static dc::gpu_context c;
  return c;
}

}  // namespace

TEST_CASE("gpu conv2d matches the CPU twin", "[gpu][conv2d]") {
  struct cfg {
    int k, stride, pad;
  };
  for (const cfg c : {cfg{3, 1, 1}, cfg{3, 2, 1}, cfg{1, 2, 0}, cfg{7, 2, 3}, cfg{1, 1, 0}}) {
    const dc::conv2d_shape s{2, 3, 9, 8, 4, c.k, c.k, c.stride, c.pad};
    const std::size_t nx = 2 * 3 * 9 * 8, nw = static_cast<std::size_t>(4 * 3 * c.k * c.k);
    const std::size_t ny = static_cast<std::size_t>(2 * 4 * s.out_h() * s.out_w());
    const auto x = random_vec(nx, 1), w = random_vec(nw, 2), b = random_vec(4, 3),
               dy = random_vec(ny, 4);
    std::vector<float> y(ny), col(dc::conv2d_workspace_floats(s)), dx(nx, 0.0f), dw(nw, 0.0f),
        db(4, 0.0f);
    dc::conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y.data(), col.data());
    dc::conv2d_backward_cpu(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                            col.data());
    auto gx = to_device(x), gw = to_device(w), gb = to_device(b), gdy = to_device(dy);
    dbuf<float> gy(ny), gcol(col.size()), gdx(nx), gdw(nw), gdb(4);
    gdx.zero();
    gdw.zero();
    gdb.zero();
    dc::conv2d_forward(ctx(), s, gx.data(), gw.data(), gb.data(), gy.data(), gcol.data());
    dc::conv2d_backward(ctx(), s, gx.data(), gw.data(), gdy.data(), gdx.data(), gdw.data(),
                        gdb.data(), gcol.data());
    check("conv2d y", gy.download(), y);
    check("conv2d dx", gdx.download(), dx);
    check("conv2d dw", gdw.download(), dw);
    check("conv2d db", gdb.download(), db);
  }
}

TEST_CASE("gpu elementwise ops match the CPU twin", "[gpu][elementwise]") {
  const int n = 2, c = 3, px = 35;
  const std::size_t count = static_cast<std::size_t>(n * c * px);
  const auto x = random_vec(count, 5), dy = random_vec(count, 6);
  const auto bw = random_vec(3, 7, 0.5f, 1.5f), bb = random_vec(3, 8), bm = random_vec(3, 9),
             bv = random_vec(3, 10, 0.5f, 1.5f);
  std::vector<float> scale(3), shift(3), y(count), dx(count, 0.0f);
  dc::frozen_bn_fold_cpu(3, bw.data(), bb.data(), bm.data(), bv.data(), 1e-5f, scale.data(),
                         shift.data());
  dc::frozen_bn_forward_cpu(n, c, px, x.data(), scale.data(), shift.data(), y.data());
  dc::frozen_bn_backward_cpu(n, c, px, dy.data(), scale.data(), dx.data());
  auto gx = to_device(x), gdy = to_device(dy), gbw = to_device(bw), gbb = to_device(bb),
       gbm = to_device(bm), gbv = to_device(bv);
  dbuf<float> gscale(3), gshift(3), gy(count), gdx(count);
  gdx.zero();
  dc::frozen_bn_fold(ctx(), 3, gbw.data(), gbb.data(), gbm.data(), gbv.data(), 1e-5f, gscale.data(),
                     gshift.data());
  dc::frozen_bn_forward(ctx(), n, c, px, gx.data(), gscale.data(), gshift.data(), gy.data());
  dc::frozen_bn_backward(ctx(), n, c, px, gdy.data(), gscale.data(), gdx.data());
  check("frozen_bn scale", gscale.download(), scale, 0.0, 1e-6);
  check("frozen_bn y", gy.download(), y);
  check("frozen_bn dx", gdx.download(), dx);

  std::vector<float> r(count), dr(count, 0.0f);
  dc::relu_forward_cpu(static_cast<long long>(count), x.data(), r.data());
  dc::relu_backward_cpu(static_cast<long long>(count), r.data(), dy.data(), dr.data());
  dbuf<float> gr(count), gdr(count);
  gdr.zero();
  dc::relu_forward(ctx(), static_cast<long long>(count), gx.data(), gr.data());
  dc::relu_backward(ctx(), static_cast<long long>(count), gr.data(), gdy.data(), gdr.data());
  check("relu y", gr.download(), r, 0.0, 0.0);
  check("relu dx", gdr.download(), dr, 0.0, 0.0);

  const dc::max_pool_shape ps{2, 3, 9, 7, 3, 2, 1};
  const auto px_in = random_vec(2 * 3 * 9 * 7, 11);
  const std::size_t pn = static_cast<std::size_t>(2 * 3 * ps.out_h() * ps.out_w());
  const auto pdy = random_vec(pn, 12);
  std::vector<float> py(pn), pdx(px_in.size(), 0.0f);
  std::vector<int> parg(pn);
  dc::max_pool_forward_cpu(ps, px_in.data(), py.data(), parg.data());
  dc::max_pool_backward_cpu(ps, pdy.data(), parg.data(), pdx.data());
  auto gpx = to_device(px_in), gpdy = to_device(pdy);
  dbuf<float> gpy(pn), gpdx(px_in.size());
  dbuf<int> gparg(pn);
  gpdx.zero();
  dc::max_pool_forward(ctx(), ps, gpx.data(), gpy.data(), gparg.data());
  dc::max_pool_backward(ctx(), ps, gpdy.data(), gparg.data(), gpdx.data());
  check("max_pool y", gpy.download(), py, 0.0, 0.0);
  CHECK(gparg.download() == parg);
  check("max_pool dx", gpdx.download(), pdx);

  for (const int h : {10, 7}) {
    const auto top = random_vec(2 * 3 * 5 * 5, 13), lat = random_vec(2 * 3 * h * h, 14),
               dout = random_vec(lat.size(), 15);
    std::vector<float> out(lat.size()), dl(lat.size(), 0.0f), dt(top.size(), 0.0f);
    dc::upsample_add_forward_cpu(2, 3, h, h, 5, 5, lat.data(), top.data(), out.data());
    dc::upsample_add_backward_cpu(2, 3, h, h, 5, 5, dout.data(), dl.data(), dt.data());
    auto gt = to_device(top), gl = to_device(lat), gdo = to_device(dout);
    dbuf<float> go(out.size()), gdl(dl.size()), gdt(dt.size());
    gdl.zero();
    gdt.zero();
    dc::upsample_add_forward(ctx(), 2, 3, h, h, 5, 5, gl.data(), gt.data(), go.data());
    dc::upsample_add_backward(ctx(), 2, 3, h, h, 5, 5, gdo.data(), gdl.data(), gdt.data());
    check("upsample_add out", go.download(), out);
    check("upsample_add dlateral", gdl.download(), dl);
    check("upsample_add dtop", gdt.download(), dt);
  }

  dc::sgd_options o;
  auto p = random_vec(100, 16), m = random_vec(100, 17);
  const auto g = random_vec(100, 18);
  auto gp = to_device(p), gm = to_device(m), gg = to_device(g);
  dc::sgd_step_cpu(o, 100, g.data(), p.data(), m.data());
  dc::sgd_step(ctx(), o, 100, gg.data(), gp.data(), gm.data());
  check("sgd param", gp.download(), p, 0.0, 1e-6);
  check("sgd momentum", gm.download(), m, 0.0, 1e-6);
}

TEST_CASE("gpu losses, anchors, matcher, coder, top-k and NMS match the CPU twin", "[gpu][loss]") {
  const int n = 2, r = 300, k = 5;
  const auto logits = random_vec(static_cast<std::size_t>(n * r * k), 19, -4.0f, 4.0f);
  std::vector<int> target(static_cast<std::size_t>(n * r));
  std::mt19937 gen(20);
  for (int& t : target) t = static_cast<int>(gen() % 8) - 2;  // -2, -1, 0..5 (5 is invalid below)
  for (int& t : target) t = t >= k ? -1 : t;
  std::vector<float> dl(logits.size());
  const float loss = dc::focal_loss_cpu(n, r, k, logits.data(), target.data(), {}, 1.0f, dl.data());
  auto glog = to_device(logits);
  auto gtar = to_device(target);
  dbuf<float> gdl(logits.size()),
      gwork(static_cast<std::size_t>(dc::focal_loss_work_floats(n, r, k)));
  const float gloss =
      dc::focal_loss(ctx(), n, r, k, glog.data(), gtar.data(), {}, 1.0f, gdl.data(), gwork.data());
  check("focal loss", {gloss}, {loss}, 0.0, 1e-5);
  check("focal dlogits", gdl.download(), dl);

  const auto deltas = random_vec(static_cast<std::size_t>(n * r * 4), 21),
             tdeltas = random_vec(deltas.size(), 22);
  std::vector<float> dd(deltas.size());
  const float bl = dc::box_loss_cpu(n, r, {}, deltas.data(), tdeltas.data(), nullptr, target.data(),
                                    1.0f, dd.data());
  auto gd = to_device(deltas), gtd = to_device(tdeltas);
  dbuf<float> gdd(dd.size()), gbw(static_cast<std::size_t>(dc::box_loss_work_floats(n, r)));
  const float gbl = dc::box_loss(ctx(), n, r, {}, gd.data(), gtd.data(), nullptr, gtar.data(), 1.0f,
                                 gdd.data(), gbw.data());
  check("box l1 loss", {gbl}, {bl}, 0.0, 1e-5);
  check("box l1 ddeltas", gdd.download(), dd, 0.0, 1e-6);

  const dc::anchor_options ao = dc::anchor_options::retinanet_default();
  std::vector<dc::feature_size> levels;
  for (int s : {8, 16, 32, 64, 128}) levels.push_back({256 / s, 256 / s});
  const std::vector<float> anchors = dc::generate_anchors_cpu(ao, 256, 256, levels);
  dbuf<float> ganchors(anchors.size());
  dc::generate_anchors(ctx(), ao, 256, 256, levels, ganchors.data());
  check("anchors", ganchors.download(), anchors, 0.0, 0.0);

  const std::vector<float> gt{10, 20, 90, 120, 130, 40, 250, 100, 0, 0, 30, 30};
  const int na = static_cast<int>(anchors.size() / 4);
  std::vector<int> m(static_cast<std::size_t>(na));
  std::vector<float> iou(3 * m.size());
  dc::match_anchors_cpu({}, 3, na, gt.data(), anchors.data(), m.data(), iou.data());
  auto ggt = to_device(gt);
  dbuf<int> gm(m.size());
  dbuf<float> giou(iou.size() + 3);
  dc::match_anchors(ctx(), {}, 3, na, ggt.data(), ganchors.data(), gm.data(), giou.data());
  CHECK(gm.download() == m);

  const auto codes = random_vec(anchors.size(), 23);
  std::vector<float> dec(anchors.size()), enc(anchors.size());
  dc::box_decode_cpu(na, codes.data(), anchors.data(), dec.data());
  dc::box_encode_cpu(na, dec.data(), anchors.data(), enc.data());
  auto gcodes = to_device(codes);
  dbuf<float> gdec(dec.size()), genc(enc.size());
  dc::box_decode(ctx(), na, gcodes.data(), ganchors.data(), gdec.data());
  dc::box_encode(ctx(), na, gdec.data(), ganchors.data(), genc.data());
  check("box decode", gdec.download(), dec);
  check("box encode", genc.download(), enc);

  const auto scores_in = random_vec(5000, 24, -6.0f, 3.0f);
  const auto top = dc::topk_scores_cpu(5000, scores_in.data(), 0.05f, 1000);
  auto gscores = to_device(scores_in);
  dbuf<char> twork(dc::topk_scores_work_bytes(5000));
  const auto gtop = dc::topk_scores(ctx(), 5000, gscores.data(), 0.05f, 1000, twork.data());
  REQUIRE(gtop.size() == top.size());
  for (std::size_t i = 0; i < top.size(); ++i) CHECK(gtop[i].index == top[i].index);

  // NMS on more than 1000 boxes (both use the per-class path there).
  std::vector<float> boxes;
  std::vector<float> sc;
  std::vector<int> lab;
  std::mt19937 g2(25);
  std::uniform_real_distribution<float> u(0.0f, 200.0f);
  for (int i = 0; i < 1500; ++i) {
    const float x = u(g2), y = u(g2);
    boxes.insert(boxes.end(), {x, y, x + 20.0f + u(g2) / 10.0f, y + 20.0f + u(g2) / 10.0f});
    sc.push_back(u(g2) / 200.0f);
    lab.push_back(static_cast<int>(g2() % 4));
  }
  const auto keep = dc::batched_nms_cpu(1500, boxes.data(), sc.data(), lab.data(), 0.5f, 300);
  auto gboxes = to_device(boxes), gsc = to_device(sc);
  auto glab = to_device(lab);
  CHECK(dc::batched_nms(ctx(), 1500, gboxes.data(), gsc.data(), glab.data(), 0.5f, 300) == keep);
}

TEST_CASE("gpu RetinaNet matches the CPU twin: forward, losses, every gradient, SGD",
          "[gpu][model]") {
  dc::retinanet_config c;
  c.block = dc::block_kind::basic;
  c.layers = {1, 1, 1, 1};
  c.fpn_channels = 32;
  c.num_classes = 5;
  const dc::batch_shape batch{2, 128, 128};
  dc::retinanet cpu(c, batch, dc::make_cpu_backend());
  dc::retinanet gpu(c, batch, dc::make_cuda_backend());
  cpu.init_parameters(7);
  gpu.init_parameters(7);
  const auto images = random_vec(2 * 3 * 128 * 128, 26, -2.0f, 2.0f);
  std::vector<dc::image_targets> targets(2);
  targets[0].boxes = {10, 12, 70, 90, 60, 60, 120, 100};
  targets[0].labels = {1, 3};
  targets[1].boxes = {5, 5, 40, 50};
  targets[1].labels = {4};
  cpu.forward(images.data());
  gpu.forward(images.data());
  const auto matched = cpu.match(targets);
  const auto lc = cpu.loss_and_backward(targets, matched);
  const auto lg = gpu.loss_and_backward(targets, matched);
  check("loss classification", {lg.classification}, {lc.classification}, 0.0, 1e-4);
  check("loss box", {lg.box_regression}, {lc.box_regression}, 0.0, 1e-4);
  for (const dc::activation_info& a : cpu.activations()) {
    if (a.name[0] == '~' || a.name == "input.images") continue;
    const auto ca = cpu.get_activation(a.name);
    double mx = 0.0;
    for (float v : ca) mx = std::max(mx, std::fabs(static_cast<double>(v)));
    check(a.name.c_str(), gpu.get_activation(a.name), ca, 1e-4 * mx, 0.0);
    const auto cg = cpu.get_activation_grad(a.name);
    mx = 0.0;
    for (float v : cg) mx = std::max(mx, std::fabs(static_cast<double>(v)));
    check(("grad " + a.name).c_str(), gpu.get_activation_grad(a.name), cg, 1e-4 * mx, 0.0);
  }
  for (const dc::param_info& p : cpu.params()) {
    if (p.role != dc::param_role::trainable) continue;
    const auto cg = cpu.get_param_grad(p.name);
    double mx = 0.0;
    for (float v : cg) mx = std::max(mx, std::fabs(static_cast<double>(v)));
    check(("grad " + p.name).c_str(), gpu.get_param_grad(p.name), cg, 1e-4 * mx, 0.0);
  }
  dc::sgd_options o;
  for (int s = 0; s < 3; ++s) {
    const float a = cpu.train_step(images.data(), targets, o).total();
    const float b = gpu.train_step(images.data(), targets, o).total();
    check("sgd step loss", {b}, {a}, 0.0, 1e-4);
  }
  // Inference (last: it changes the GPU model's bias): the device top-k path of detect() against
  // the CPU post-processing of the same (downloaded) head outputs.
  const std::vector<float> zero(static_cast<std::size_t>(9 * c.num_classes), 0.0f);
  gpu.set_param("head.classification_head.cls_logits.bias", zero.data(), zero.size());
  gpu.forward(images.data());
  const auto gl = gpu.get_activation("head_outputs.cls_logits");
  const auto gdl = gpu.get_activation("head_outputs.bbox_regression");
  const auto dets = gpu.detect(0, 128, 128);
  const auto ref = dc::postprocess_detections_cpu(
      gpu.config(), gpu.level_rows(), gpu.anchors().data(), gl.data(), gdl.data(), 128, 128);
  REQUIRE(dets.size() == ref.size());
  for (std::size_t i = 0; i < dets.size(); ++i) {
    CHECK(dets[i].label == ref[i].label);
    CHECK(dets[i].score == Approx(ref[i].score).epsilon(1e-6));
  }
}

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device (%s); the gpu tests need one\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}

// detkit-train — trains the hand-written RetinaNet (cuda/) on a detkit label cache + image folder,
// as the Airbnb recipe trained Detectron2's RetinaNet: SGD (momentum 0.9, weight decay 1e-4),
// linear warmup then step decay, the linear LR scaling rule (lr = base_lr * batch / base_batch),
// optional frozen stages, torchvision weights or scratch; checkpoints (weights + momentum + data
// position) at intervals and on Ctrl-C, resumed bit-exactly; periodic COCO evaluation of a held-out
// cache with detkit's evaluator (mAP, AP50, mAP at score >= 0.5, per-class AP); a JSON-lines log
// and SVG plots rewritten as it goes. Runs on the CPU twin (and on CUDA with --device cuda when
// built with the CUDA backend).
//
//   detkit-train --train train.dkc --train-images DIR --val val.dkc --val-images DIR --out RUN
//                [--arch resnet18] [--min-size 160 --max-size 160] [--batch 4] [--iters 300] ...
//
// Exit status: 0 done; 2 bad input; 3 non-finite loss; 130 interrupted (checkpoint written).
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/files.hpp"
#include "detkit/atomic_file.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/label_cache.hpp"
#include "model/safetensors.hpp"
#include "train/data_loader.hpp"
#include "train/model_batch.hpp"
#include "train/model_io.hpp"
#include "train/model_options.hpp"
#include "train/plots.hpp"

namespace {

std::atomic<int> g_interrupted{0};
extern "C" void on_sigint(int) { g_interrupted.store(1); }

struct options {
  std::string train, train_images, val, val_images, out, weights, resume;
  std::string device = "cpu";
  detkit_train::model_options model;
  int batch = 2, base_batch = 16, warmup = 100;
  long iters = 1000, ckpt_every = 500, eval_every = 500, log_every = 10;
  int trainable = -1;
  bool new_classes = false, no_calibrate_bn = false;
  double clip = 0, base_lr = 0.01, warmup_factor = 0.001, gamma = 0.1, momentum = 0.9, wd = 1e-4;
  double eval_thr = 0.05, draw_thr = 0.5, head_std = 0.01;
  std::vector<long> steps;
  unsigned long long seed = 0;
  unsigned workers = 2;
};

[[noreturn]] void die(const std::string& msg, int code = 2) {
  std::fprintf(stderr, "detkit-train: %s\n", msg.c_str());
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  detkit_cli::option_table t("detkit-train",
                             "usage: detkit-train --train CACHE --train-images DIR --out RUN "
                             "[options]\n\n");
  t.text("--train", "CACHE", &o.train, "training split (detkit-prepare label cache)")
      .text("--train-images", "DIR", &o.train_images, "its images")
      .text("--out", "RUN", &o.out, "run folder: model.safetensors, checkpoints, log, plots")
      .text("--val", "CACHE", &o.val, "held-out split evaluated every --eval-every iterations")
      .text("--val-images", "DIR", &o.val_images, "its images");
  detkit_train::add_model_options(t, o.model);
  t.integer("--batch", "N", &o.batch, 1, 4096, "images per step (default 2)")
      .integer("--iters", "N", &o.iters, 0, 1e9, "training iterations (default 1000)")
      .number("--base-lr", "X", &o.base_lr, 0, 10,
              "linear scaling: lr = base_lr * batch / base_batch (default 0.01)")
      .integer("--base-batch", "N", &o.base_batch, 1, 1e6, "(default 16)")
      .integer("--warmup", "N", &o.warmup, 0, 1e9,
               "linear warmup iterations from --warmup-factor (default 100)")
      .number("--warmup-factor", "X", &o.warmup_factor, 0, 1, "(default 0.001)")
      .custom("--steps", "A,B", "iterations where the LR is multiplied by --gamma (default none)",
              [&o](const std::string& v) -> std::string {
                o.steps.clear();
                for (const std::string& s : detkit_cli::split_commas(v)) {
                  double n = 0;
                  if (!detkit_cli::read_finite(s, n) || n < 0 || n != std::floor(n) || n > 1e15)
                    return "expected iterations A,B,... (whole numbers >= 0), got '" + v + "'";
                  o.steps.push_back(static_cast<long>(n));
                }
                return {};
              })
      .number("--gamma", "X", &o.gamma, 0, 1, "LR factor at each of --steps (default 0.1)")
      .number("--momentum", "X", &o.momentum, 0, 1, "SGD momentum (default 0.9)")
      .number("--weight-decay", "X", &o.wd, 0, 1, "(default 1e-4)")
      .number("--clip-grad-norm", "X", &o.clip, 0, 1e9,
              "scale the gradients so their total L2 norm is at most X (torch's\n"
              "clip_grad_norm_; default 0 = off). Lets a from-scratch run take a higher LR\n"
              "without the early blow-ups (the main job: 5)")
      .integer("--trainable-layers", "N", &o.trainable, 0, 5,
               "torchvision's trainable_backbone_layers: 0..5 (default 5 from scratch, 3\n"
               "with --weights)")
      .text("--weights", "FILE", &o.weights,
            "start from converted torchvision weights (safetensors)")
      .flag("--new-classes", &o.new_classes,
            "with --weights from COCO: replace the class head (prior-prob bias init)")
      .number("--head-init-std", "X", &o.head_std, 0, 10,
              "std of the head convs' normal init (torchvision: 0.01). With a narrow\n"
              "--fpn-channels the 4-conv towers shrink the signal ~C*9*std^2 per conv, so\n"
              "short CPU runs use a wider init (the main job: 64 channels, 0.03)")
      .flag("--no-calibrate-bn", &o.no_calibrate_bn,
            "from scratch, keep the frozen BNs identity (default: set their statistics\n"
            "from the first batch, see train/model_io.hpp calibrate_frozen_bn)")
      .text("--resume", "FILE", &o.resume,
            "continue from a checkpoint (weights, momentum, data position)")
      .integer("--checkpoint-every", "N", &o.ckpt_every, 0, 1e9, "(default 500)")
      .integer("--eval-every", "N", &o.eval_every, 0, 1e9, "(default 500)")
      .integer("--log-every", "N", &o.log_every, 0, 1e9, "(default 10)")
      .number("--eval-score-thr", "X", &o.eval_thr, 0, 1,
              "detections kept for evaluation (default 0.05)")
      .number("--draw-score-thr", "X", &o.draw_thr, 0, 1,
              "detections drawn by detkit-detect (default 0.5; printed in the summary)")
      .integer("--seed", "N", &o.seed, 0, 9007199254740992.0, "(default 0)")
      .integer("--workers", "N", &o.workers, 0, 256, "loader threads (default 2)")
      .choice("--device", &o.device, {"cpu", "cuda"}, "(default cpu)");
  t.parse(argc, argv);
  if (o.train.empty() || o.out.empty()) t.usage_error("--train and --out are required");
  detkit_train::check_model_options(t, o.model);
  if (o.new_classes && o.weights.empty()) t.usage_error("--new-classes needs --weights");
  return o;
}

double learning_rate(const options& o, double scaled, long it) {
  double f = 1.0;
  if (it < o.warmup) {
    const double alpha = static_cast<double>(it) / o.warmup;
    f = o.warmup_factor * (1 - alpha) + alpha;  // torchvision references' warmup_lr_scheduler
  }
  for (long s : o.steps)
    if (it >= s) f *= o.gamma;
  return scaled * f;
}

void write_or_die(const std::string& path, const std::string& text) {
  if (auto r = detkit::try_write_file_atomically(path, text); !r) die(r.error().to_string(), 1);
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  detkit_cli::make_folder("detkit-train", o.out);
  auto train_cache = detkit::label_cache::try_open(o.train);
  if (!train_cache) die(train_cache.error().to_string());
  std::unique_ptr<detkit::label_cache> val_cache;
  if (!o.val.empty()) {
    auto v = detkit::label_cache::try_open(o.val);
    if (!v) die(v.error().to_string());
    if (v->classes().size() != train_cache->classes().size())
      die(o.val + ": " + std::to_string(v->classes().size()) + " classes, the training cache has " +
          std::to_string(train_cache->classes().size()));
    val_cache = std::make_unique<detkit::label_cache>(std::move(*v));
  }
  const int num_classes = static_cast<int>(train_cache->classes().size());
  detkit::cuda::retinanet_config cfg =
      detkit_train::make_config(o.model.arch, num_classes, o.model.fpn_channels);
  cfg.score_threshold = static_cast<float>(o.eval_thr);
  // A checkpoint records the eps the run used; the starting weights record theirs.
  const std::string eps_line =
      detkit_train::choose_bn_eps(cfg, o.resume.empty() ? o.weights : o.resume, o.model.bn_eps);

  detkit_train::loader_options lo;
  lo.transform.min_size = o.model.min_size;
  lo.transform.max_size = o.model.max_size;
  lo.batch_size = o.batch;
  // Planned once for the largest padded batch the training and held-out images can form; each
  // batch is padded to its own largest image (torchvision's batch_images) and runs in that arena.
  std::vector<detkit::cuda::resized_size> sizes = detkit_train::cache_image_sizes(*train_cache);
  if (val_cache) {
    const auto v = detkit_train::cache_image_sizes(*val_cache);
    sizes.insert(sizes.end(), v.begin(), v.end());
  }
  const detkit::cuda::batch_shape shape = detkit_train::padded_shape(lo.transform, o.batch, sizes);
  lo.batch_h = shape.h;
  lo.batch_w = shape.w;
  lo.seed = o.seed;
  lo.workers = o.workers;
  lo.host_memory = detkit_train::batch_memory_for(o.device);

  const detkit::cuda::arena_report plan = detkit::cuda::plan_arena(cfg, shape);
  const double mib = 1.0 / (1024.0 * 1024.0);
  std::printf(
      "memory estimate (%s, largest batch %d x %dx%d): %.1f MiB arena = params %.1f + grads %.1f + "
      "momentum %.1f + activations %.1f + activation grads %.1f + workspace %.1f; %zu "
      "trainable parameters\n",
      o.model.arch.c_str(), shape.n, shape.h, shape.w, static_cast<double>(plan.total) * mib,
      static_cast<double>(plan.params) * mib, static_cast<double>(plan.grads) * mib,
      static_cast<double>(plan.momentum) * mib, static_cast<double>(plan.activations) * mib,
      static_cast<double>(plan.activation_grads) * mib, static_cast<double>(plan.workspace) * mib,
      plan.trainable_parameters);

  std::printf("%s\n", eps_line.c_str());
  detkit::cuda::retinanet model(cfg, shape, detkit_train::make_backend(o.device));
  model.init_parameters(static_cast<unsigned>(o.seed));
  if (!o.weights.empty()) {
    detkit::cuda::load_options lopt;
    if (o.new_classes) lopt.shape_mismatch = detkit::cuda::mismatch_policy::skip;
    auto r = detkit::cuda::try_load_weights(model, o.weights, lopt);
    if (!r) die(r.error().to_string());
    for (const std::string& s : r->skipped_shape)
      if (s.rfind("head.classification_head.cls_logits.", 0) != 0)
        die(o.weights + ": tensor '" + s +
            "' has another shape than the model's (only the class "
            "head may differ with --new-classes)");
    std::printf(
        "weights: %d tensors from %s%s\n", r->loaded, o.weights.c_str(),
        o.new_classes ? "; class head replaced (N(0, 0.01), bias -log((1-p)/p), p = 0.01)" : "");
  }
  const int trainable = o.trainable >= 0 ? o.trainable : (o.weights.empty() ? 5 : 3);
  const char* const stages[5] = {"backbone.body.layer4", "backbone.body.layer3",
                                 "backbone.body.layer2", "backbone.body.layer1",
                                 "backbone.body.conv1"};
  for (int k = trainable; k < 5; ++k) model.freeze_prefix(stages[k]);

  if (o.head_std != 0.01 && o.weights.empty()) {
    const int n = detkit_train::reinit_head(model, static_cast<float>(o.head_std),
                                            static_cast<unsigned>(o.seed) + 1u);
    std::printf("head: %d conv weights drawn from N(0, %.3g) (torchvision: 0.01)\n", n, o.head_std);
  }
  if (o.weights.empty() && o.resume.empty() && !o.no_calibrate_bn) {
    const detkit_train::loaded_batch first =
        detkit_train::build_batch(*train_cache, o.train_images, lo, 0);
    const int n = detkit_train::calibrate_frozen_bn(model, first);
    std::printf("frozen BN statistics set from the first batch (%d BatchNorms)\n", n);
  }
  long start = 0;
  if (!o.resume.empty()) {
    auto r = detkit::cuda::try_load_checkpoint(model, o.resume);
    if (!r) die(r.error().to_string());
    start = static_cast<long>(*r);
    std::printf("resumed from %s at iteration %ld (data position %ld)\n", o.resume.c_str(), start,
                start);
  }
  const double scaled = o.base_lr * o.batch / o.base_batch;
  std::printf(
      "summary: %d classes, %zu training images, %zu held-out; lr %.6g = base %.6g x batch "
      "%d / %d (linear scaling); warmup %d; momentum %.3g, weight decay %.3g; gradient clip "
      "%s; trainable backbone layers %d; eval score threshold %.3g, draw score threshold %.3g\n",
      num_classes, train_cache->images().size(),
      val_cache ? val_cache->images().size() : std::size_t{0}, scaled, o.base_lr, o.batch,
      o.base_batch, o.warmup, o.momentum, o.wd,
      o.clip > 0 ? ("norm " + std::to_string(o.clip)).c_str() : "off", trainable, o.eval_thr,
      o.draw_thr);
  std::fflush(stdout);
  {
    std::string names;
    for (const auto& c : train_cache->classes())
      names += std::string(train_cache->class_mid(c)) + "," +
               std::string(train_cache->class_name(c)) + "\n";
    write_or_die(o.out + "/classes.csv", names);  // detkit-detect --classes (and detkit-prepare)
  }

  detkit_train::training_log log(o.out);
  if (start > 0) log.reload(start);
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  detkit_train::data_loader loader(*train_cache, o.train_images, lo,
                                   static_cast<std::uint64_t>(start));

  auto save_checkpoint = [&](long it) {
    const std::string path = o.out + "/checkpoint.safetensors";
    if (auto r = detkit::cuda::try_save_checkpoint(model, path, it); !r)
      die(r.error().to_string(), 1);
    if (auto r = detkit::cuda::try_save_weights(model, o.out + "/model.safetensors"); !r)
      die(r.error().to_string(), 1);
  };
  auto evaluate = [&](long it) {
    if (!val_cache) return;
    const auto t0 = std::chrono::steady_clock::now();
    // One image per batch, as torchvision's detection references evaluate (test loader batch 1):
    // with per-batch padding a batch's other images would change an image's padding and so its
    // detections. It also gives detkit-detect's (default --batch 1) numbers for the same model.
    detkit_train::loader_options eval_lo = lo;
    eval_lo.batch_size = 1;
    auto dts = detkit_train::detect_cache(model, *val_cache, o.val_images, eval_lo,
                                          [](const auto&, const auto&) {});
    const detkit::coco_ground_truth gt = detkit_train::cache_to_coco(*val_cache);
    detkit::coco_eval_params p;
    p.threads = 1;
    auto r = detkit::try_evaluate(gt, dts, p);
    if (!r) die(r.error().to_string());
    const detkit::coco_summary at05 =
        detkit::summarize(detkit::accumulate(r->matches, 0.5), r->matches);
    detkit_train::eval_point e;
    e.iter = it;
    e.map = r->summary.stats[0];
    e.ap50 = r->summary.stats[1];
    e.map_score05 = at05.stats[0];
    for (const auto& c : r->summary.per_category)
      e.per_class.push_back(
          {gt.categories[static_cast<std::size_t>(c.category_id)].name, c.ap, c.ap50});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("eval @%ld: mAP %.4f  AP50 %.4f  mAP(score>=0.5) %.4f  (%zu detections, %.1f s)\n",
                it, e.map, e.ap50, e.map_score05, dts.size(), s);
    for (const auto& c : e.per_class)
      std::printf("  %-24s AP %.4f  AP50 %.4f\n", c.name.c_str(), c.ap, c.ap50);
    std::fflush(stdout);
    log.add_eval(e);
  };

  const auto t_start = std::chrono::steady_clock::now();
  long it = start;
  for (; it < o.iters; ++it) {
    if (g_interrupted.load()) {
      save_checkpoint(it);
      std::printf("\ninterrupted: checkpoint at iteration %ld in %s/checkpoint.safetensors\n", it,
                  o.out.c_str());
      return 130;
    }
    const double lr = learning_rate(o, scaled, it);
    detkit::cuda::sgd_options sgd;
    sgd.lr = static_cast<float>(lr);
    sgd.momentum = static_cast<float>(o.momentum);
    sgd.weight_decay = static_cast<float>(o.wd);
    detkit_train::loaded_batch b = loader.next();
    detkit_train::forward_batch(model, b);
    const detkit::cuda::loss_values l = model.loss_and_backward(b.targets, model.match(b.targets));
    const double grad_norm = model.gradient_norm();
    if (o.clip > 0) sgd.grad_scale = detkit::cuda::clip_factor(grad_norm, o.clip);
    if (!std::isfinite(l.classification) || !std::isfinite(l.box_regression)) {
      std::string ids;
      for (const auto& id : b.image_ids) ids += " " + id;
      std::fprintf(stderr,
                   "detkit-train: non-finite loss at iteration %ld (classification %g, box %g); "
                   "batch images:%s; last good checkpoint kept\n",
                   it, static_cast<double>(l.classification), static_cast<double>(l.box_regression),
                   ids.c_str());
      return 3;
    }
    model.sgd_step(sgd);
    log.add_step({it, lr, l.classification, l.box_regression, grad_norm});
    const long done = it + 1;
    if (done % std::max(1L, o.log_every) == 0 || done == o.iters) {
      const double el =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      const double ips = static_cast<double>((done - start) * o.batch) / el;
      const double eta = static_cast<double>(o.iters - done) * o.batch / ips;
      std::printf(
          "iter %ld/%ld  loss_cls %.4f  loss_box %.4f  lr %.5g  grad norm %.3g%s  %.2f img/s  ETA "
          "%.0f s\n",
          done, o.iters, static_cast<double>(l.classification),
          static_cast<double>(l.box_regression), lr, grad_norm,
          o.clip > 0 && grad_norm > o.clip ? " (clipped)" : "", ips, eta);
      std::fflush(stdout);
      log.flush();
    }
    if (o.ckpt_every > 0 && done % o.ckpt_every == 0) save_checkpoint(done);
    if (o.eval_every > 0 && done % o.eval_every == 0 && done != o.iters) evaluate(done);
  }
  save_checkpoint(it);
  evaluate(it);
  log.flush();
  std::printf(
      "done: %ld iterations; %s/model.safetensors, checkpoint.safetensors, log.jsonl, "
      "plots.svg\n",
      it, o.out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "detkit-train: %s\n", e.what());
  return 2;
}

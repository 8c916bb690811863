// examples/train/model_io.hpp — what detkit-train and detkit-detect share: the model configuration
// from command-line names and the weights file's recorded bn_eps, a label cache as COCO ground
// truth (image id = cache index, category id = class index), and detection over a sequential pass
// of a loader with boxes mapped back to the original image pixels (torchvision's
// transform.postprocess).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/label_cache.hpp"
#include "model/retinanet.hpp"
#include "model/safetensors.hpp"
#include "train/data_loader.hpp"
#include "train/model_batch.hpp"

namespace detkit_train {

inline detkit::cuda::retinanet_config make_config(const std::string& arch, int num_classes,
                                                  int fpn_channels) {
  detkit::cuda::retinanet_config c;
  if (arch == "resnet18")
    c = detkit::cuda::retinanet_config::resnet18(num_classes);
  else if (arch == "resnet34")
    c = detkit::cuda::retinanet_config::resnet34(num_classes);
  else if (arch == "resnet50")
    c = detkit::cuda::retinanet_config::resnet50(num_classes);
  else
    throw std::runtime_error("--arch must be resnet18, resnet34 or resnet50, not '" + arch + "'");
  if (fpn_channels > 0) c.fpn_channels = fpn_channels;
  return c;
}

/// The op backend for --device cpu|cuda; "cuda" in a build without the CUDA backend throws.
inline std::unique_ptr<detkit::cuda::op_backend> make_backend(const std::string& device) {
#if defined(DETKIT_CUDA)
  if (device == "cuda") return detkit::cuda::make_cuda_backend();
#endif
  if (device == "cuda")
    throw std::runtime_error("built without the CUDA backend; use --device cpu");
  return detkit::cuda::make_cpu_backend();
}

/// Where the loader keeps batches for that device (loader_options::host_memory): pinned blocks
/// for CUDA, so the upload is a direct DMA; the heap (null) otherwise.
inline std::shared_ptr<host_block_cache> batch_memory_for(const std::string& device) {
#if defined(DETKIT_CUDA)
  if (device == "cuda")
    return std::make_shared<host_block_cache>(
        host_memory_source{detkit::cuda::pinned_host_allocate, detkit::cuda::pinned_host_release});
#endif
  (void)device;
  return nullptr;
}

/// The original (h, w) of every image of a cache (0 where the cache does not know it).
inline std::vector<detkit::cuda::resized_size> cache_image_sizes(const detkit::label_cache& cache) {
  std::vector<detkit::cuda::resized_size> out;
  for (const detkit::cached_image& img : cache.images()) out.push_back({img.height, img.width});
  return out;
}

/// The frozen BatchNorm eps a program runs with: --bn-eps when given, else what the weights file
/// records (the converter writes 0 for torchvision's COCO weights, which were trained with eps 0),
/// else FrozenBatchNorm2d's default 1e-5. Sets config.bn_eps and returns the line to print.
/// `weights` may be empty (no file: training from scratch).
inline std::string choose_bn_eps(detkit::cuda::retinanet_config& config, const std::string& weights,
                                 std::optional<double> override_eps) {
  std::optional<float> recorded;
  if (!weights.empty()) {
    auto s = detkit::cuda::try_read_recorded_settings(weights);
    if (!s) throw std::runtime_error(s.error().to_string());
    recorded = s->bn_eps;
  }
  auto text = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  const std::string file_says =
      weights.empty() ? std::string("no weights file")
                      : weights + (recorded ? " records " + text(static_cast<double>(*recorded))
                                            : std::string(" records none"));
  if (override_eps) {
    config.bn_eps = static_cast<float>(*override_eps);
    return "bn_eps " + text(*override_eps) + " (--bn-eps; " + file_says + ")";
  }
  if (recorded) {
    config.bn_eps = *recorded;
    return "bn_eps " + text(static_cast<double>(*recorded)) + " (recorded in " + weights + ")";
  }
  config.bn_eps = 1e-5f;
  return "bn_eps 1e-05 (" + file_says + ": FrozenBatchNorm2d's default; --bn-eps to change)";
}

inline detkit::coco_ground_truth cache_to_coco(const detkit::label_cache& cache) {
  detkit::coco_ground_truth gt;
  for (std::size_t k = 0; k < cache.classes().size(); ++k)
    gt.categories.push_back(
        {static_cast<std::int64_t>(k), std::string(cache.class_name(cache.classes()[k]))});
  std::int64_t ann = 1;
  for (std::size_t i = 0; i < cache.images().size(); ++i) {
    const detkit::cached_image& img = cache.images()[i];
    gt.images.push_back(
        {static_cast<std::int64_t>(i), img.width, img.height, std::string(cache.file_name(img))});
    for (const detkit::cached_box& b : cache.boxes_of(img)) {
      detkit::coco_annotation a;
      a.id = ann++;
      a.image_id = static_cast<std::int64_t>(i);
      a.category_id = b.category_id;
      const double x1 = b.abs.x1, y1 = b.abs.y1, x2 = b.abs.x2, y2 = b.abs.y2;
      a.bbox = {x1, y1, x2 - x1, y2 - y1};
      a.area = a.bbox.w * a.bbox.h;
      a.iscrowd = b.group_of == detkit::tri_flag::yes;
      gt.annotations.push_back(a);
    }
  }
  return gt;
}

/// Runs the model over every image of `cache` once (sequential, no flip); image_id = cache index.
/// Boxes are XYWH in original pixels. `on_batch` (optional) sees each batch and its detections.
template <class OnBatch>
std::vector<detkit::coco_detection> detect_cache(detkit::cuda::retinanet& model,
                                                 const detkit::label_cache& cache,
                                                 const std::string& image_dir, loader_options o,
                                                 OnBatch&& on_batch) {
  o.flip = flip_mode::none;
  o.order = order_mode::sequential;
  data_loader loader(cache, image_dir, o);
  std::vector<detkit::coco_detection> out;
  const std::uint64_t batches = batches_per_epoch(cache.images().size(), o);
  for (std::uint64_t bi = 0; bi < batches; ++bi) {
    loaded_batch b = loader.next();
    forward_batch(model, b);
    std::vector<std::vector<detkit::cuda::detection>> per_image;
    for (int s = 0; s < b.count; ++s) {
      const std::size_t si = static_cast<std::size_t>(s);
      auto dets = model.detect(s, b.resized[si].h, b.resized[si].w);
      for (auto& d : dets) {
        detkit::cuda::resize_boxes(d.box, 1, b.resized[si].h, b.resized[si].w, b.original[si].h,
                                   b.original[si].w);
        detkit::coco_detection cd;
        cd.image_id = b.image_index[si];
        cd.category_id = d.label;
        const double x1 = d.box[0], y1 = d.box[1], x2 = d.box[2], y2 = d.box[3];
        cd.bbox = {x1, y1, x2 - x1, y2 - y1};
        cd.score = d.score;
        out.push_back(cd);
      }
      per_image.push_back(std::move(dets));
    }
    on_batch(b, per_image);
  }
  return out;
}

/// Redraws every 4-d weight under "head." from N(0, std) (biases and the class prior untouched).
inline int reinit_head(detkit::cuda::retinanet& model, float std_dev, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, std_dev);
  int n = 0;
  for (const auto& p : model.params()) {
    if (p.name.rfind("head.", 0) != 0 || p.shape.size() != 4) continue;
    std::vector<float> w(p.count);
    for (float& v : w) v = normal(rng);
    model.set_param(p.name, w.data(), w.size());
    ++n;
  }
  return n;
}

/// Data-dependent init of the frozen BatchNorms for training from scratch: torchvision's
/// FrozenBatchNorm2d never updates its statistics, so a scratch model's BNs stay identity and the
/// un-normalised residual sums grow block by block (SGD at the recipe's LR then diverges). Here each
/// BN, in network order, gets running_mean/var = its input's per-channel mean/variance over
/// the batch `first` (at its own shape), as a pretrained backbone's BNs would hold. Returns how
/// many BNs were set.
inline int calibrate_frozen_bn(detkit::cuda::retinanet& model, const loaded_batch& first) {
  set_input_shape(model, first);
  const float* images = first.data.data();
  const std::string suffix = ".running_mean";
  std::vector<std::string> modules;
  for (const auto& p : model.params())
    if (p.name.size() > suffix.size() &&
        p.name.compare(p.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      modules.push_back(p.name.substr(0, p.name.size() - suffix.size()));
  for (const std::string& m : modules) {
    const auto* w = model.find_param(m + ".weight");
    const auto* b = model.find_param(m + ".bias");
    const auto* rv = model.find_param(m + ".running_var");
    const auto* out = model.find_activation(m + "#0");
    if (!w || !b || !rv || !out) throw std::runtime_error("calibrate_frozen_bn: no BN " + m);
    // Identity first (weight 1, bias 0, mean 0, var 1), so the output is input / sqrt(1 + eps).
    const std::vector<float> one(w->count, 1.0f), zero(w->count, 0.0f);
    model.set_param(m + ".weight", one.data(), one.size());
    model.set_param(m + ".bias", zero.data(), zero.size());
    model.set_param(m + ".running_mean", zero.data(), zero.size());
    model.set_param(m + ".running_var", one.data(), one.size());
    model.forward(images);
    const std::vector<float> y = model.get_activation(m + "#0");
    const double s = std::sqrt(1.0 + static_cast<double>(model.config().bn_eps));
    const std::size_t C = static_cast<std::size_t>(out->c);
    const std::size_t HW = static_cast<std::size_t>(out->h) * static_cast<std::size_t>(out->w);
    std::vector<float> mean(C), var(C);
    for (std::size_t c = 0; c < C; ++c) {
      double sum = 0, sq = 0;
      for (std::size_t n = 0; n < static_cast<std::size_t>(out->n); ++n) {
        const float* p = y.data() + (n * C + c) * HW;
        for (std::size_t i = 0; i < HW; ++i) {
          const double v = static_cast<double>(p[i]) * s;
          sum += v;
          sq += v * v;
        }
      }
      const double cnt = static_cast<double>(HW) * out->n;
      const double mu = sum / cnt;
      mean[c] = static_cast<float>(mu);
      var[c] = static_cast<float>(std::max(sq / cnt - mu * mu, 0.0));
    }
    // A channel that is (nearly) constant on this batch, e.g. ReLU-dead, must not get a huge
    // scale: it would amplify whatever the channel carries once training wakes it up (measured:
    // NaN within 50 iterations). Floor each variance at 1% of the layer's mean variance.
    double mean_var = 0;
    for (float v : var) mean_var += static_cast<double>(v);
    mean_var = std::max(mean_var / static_cast<double>(C), 1e-6);
    for (float& v : var) v = static_cast<float>(std::max(static_cast<double>(v), 0.01 * mean_var));
    model.set_param(m + ".running_mean", mean.data(), C);
    model.set_param(m + ".running_var", var.data(), C);
  }
  return static_cast<int>(modules.size());
}

}  // namespace detkit_train

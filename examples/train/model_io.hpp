// examples/train/model_io.hpp — what detkit-train and detkit-detect share: the model configuration
// from command-line names, a label cache as COCO ground truth (image id = cache index, category id
// = class index), and detection over a sequential pass of a loader with boxes mapped back to the
// original image pixels (torchvision's transform.postprocess).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "detkit/coco_eval.hpp"
#include "detkit/label_cache.hpp"
#include "model/retinanet.hpp"
#include "train/data_loader.hpp"

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
    model.forward(b.data.data());
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

}  // namespace detkit_train

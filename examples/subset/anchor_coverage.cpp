// examples/subset/anchor_coverage.cpp — see anchor_coverage.hpp.
#include "subset/anchor_coverage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "anchors.hpp"    // cuda/ops/anchors: the one place the RetinaNet anchor math lives
#include "transform.hpp"  // cuda/model: torchvision's resize, likewise

namespace detkit_subset {

namespace cu = detkit::cuda;

resized_image torchvision_resize(int width, int height, int min_size, int max_size) {
  // The resize itself is cuda/model/transform's (torchvision 0.14.1's float32 scale, floor).
  cu::transform_options o;
  o.min_size = min_size;
  o.max_size = max_size;
  const cu::resized_size s = cu::transform_output_size(o, height, width);
  resized_image r;
  r.w = s.w;
  r.h = s.h;
  r.padded_w = (r.w + o.size_divisible - 1) / o.size_divisible * o.size_divisible;
  r.padded_h = (r.h + o.size_divisible - 1) / o.size_divisible * o.size_divisible;
  return r;
}

resized_box resize_box(const detkit::label_box& b, int width, int height, const resized_image& r) {
  resized_box out{{b.abs.x1, b.abs.y1, b.abs.x2, b.abs.y2}};
  cu::resize_boxes(out.xyxy, 1, height, width, r.h, r.w);
  return out;
}

namespace {

double to_d(float v) { return static_cast<double>(v); }

double iou(const float* af, const float* bf) {
  const double a[4] = {to_d(af[0]), to_d(af[1]), to_d(af[2]), to_d(af[3])};
  const double b[4] = {to_d(bf[0]), to_d(bf[1]), to_d(bf[2]), to_d(bf[3])};
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0.0;
}

// Feature map sizes of the RetinaNet FPN for a padded image: P3-P5 = size / 8, 16, 32; P6, P7 by
// 3x3 stride-2 pad-1 convs (ceil of half).
std::vector<cu::feature_size> fpn_levels(int padded_h, int padded_w) {
  std::vector<cu::feature_size> f;
  for (int s : {8, 16, 32}) f.push_back({padded_h / s, padded_w / s});
  for (int i = 0; i < 2; ++i) f.push_back({(f.back().h + 1) / 2, (f.back().w + 1) / 2});
  return f;
}

const cu::anchor_options& default_anchors() {
  static const cu::anchor_options o = cu::anchor_options::retinanet_default();
  return o;
}

}  // namespace

double best_anchor_iou(const float box[4], int padded_h, int padded_w) {
  const cu::anchor_options& o = default_anchors();
  const auto levels = fpn_levels(padded_h, padded_w);
  const double cx = 0.5 * (to_d(box[0]) + to_d(box[2]));
  const double cy = 0.5 * (to_d(box[1]) + to_d(box[3]));
  double best = 0.0;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::vector<float> cells = cu::cell_anchors_cpu(o, static_cast<int>(l));
    const cu::anchor_grid g = cu::level_grid(o, padded_h, padded_w, levels[l], static_cast<int>(l));
    for (std::size_t a = 0; a < cells.size() / 4; ++a) {
      const float* c = &cells[4 * a];
      // The overlap of two fixed-size intervals only shrinks as their centres move apart, so the
      // best location per axis is the grid point nearest the box centre; its neighbours are also
      // tried (rounding of the cell anchor, clamping at the border).
      const double acx = 0.5 * (to_d(c[0]) + to_d(c[2]));
      const double acy = 0.5 * (to_d(c[1]) + to_d(c[3]));
      const int x0 = static_cast<int>(std::lround((cx - acx) / g.stride_w));
      const int y0 = static_cast<int>(std::lround((cy - acy) / g.stride_h));
      for (int y = y0 - 1; y <= y0 + 1; ++y) {
        const int yy = std::clamp(y, 0, levels[l].h - 1);
        for (int x = x0 - 1; x <= x0 + 1; ++x) {
          const int xx = std::clamp(x, 0, levels[l].w - 1);
          float anchor[4];
          cu::shifted_anchor(c, yy, xx, g, anchor);
          best = std::max(best, iou(box, anchor));
        }
      }
    }
  }
  return best;
}

coverage_report anchor_coverage(const detkit::label_set& labels) {
  coverage_report r;
  r.by_class.resize(labels.classes.size());
  for (const auto& img : labels.images) {
    if (img.size.width <= 0 || img.size.height <= 0) {
      ++r.images_without_size;
      continue;
    }
    const resized_image rs = torchvision_resize(img.size.width, img.size.height);
    for (const auto& b : img.boxes) {
      const resized_box rb = resize_box(b, img.size.width, img.size.height, rs);
      const float* box = rb.xyxy;
      const double best = best_anchor_iou(box, rs.padded_h, rs.padded_w);
      const double w = to_d(box[2]) - to_d(box[0]), h = to_d(box[3]) - to_d(box[1]);
      const double side = std::sqrt(std::max(0.0, w * h));
      const int sb = side < 16 ? 0 : side < 32 ? 1 : side < 96 ? 2 : 3;
      const double ar = h > 0 ? w / h : 1e9;
      const int ab = ar <= 0.25 ? 0 : ar <= 0.5 ? 1 : ar < 2.0 ? 2 : ar < 4.0 ? 3 : 4;
      auto add = [&](coverage_bucket& k) {
        ++k.boxes;
        k.covered += best >= 0.5 ? 1 : 0;
        k.iou_sum += best;
      };
      add(r.by_size[static_cast<std::size_t>(sb)]);
      add(r.by_aspect[static_cast<std::size_t>(ab)]);
      add(r.total);
      const auto c = static_cast<std::size_t>(b.category_id);
      if (c < r.by_class.size()) add(r.by_class[c]);
    }
  }
  return r;
}

std::string coverage_table(const coverage_report& r, const detkit::label_set& labels) {
  std::string out = "group\tbucket\tboxes\tcovered_iou50\tshare\tmean_best_iou\n";
  auto row = [&out](const char* group, const std::string& name, const coverage_bucket& k) {
    char buf[160];
    const double n = static_cast<double>(k.boxes);
    std::snprintf(
        buf, sizeof buf, "\t%llu\t%llu\t%.4f\t%.4f\n", static_cast<unsigned long long>(k.boxes),
        static_cast<unsigned long long>(k.covered),
        k.boxes ? static_cast<double>(k.covered) / n : 0.0, k.boxes ? k.iou_sum / n : 0.0);
    out += std::string(group) + "\t" + name + buf;
  };
  for (int i = 0; i < size_bucket_count; ++i) {
    row("size", size_bucket_names[i], r.by_size[static_cast<std::size_t>(i)]);
  }
  for (int i = 0; i < aspect_bucket_count; ++i) {
    row("aspect", aspect_bucket_names[i], r.by_aspect[static_cast<std::size_t>(i)]);
  }
  for (std::size_t c = 0; c < r.by_class.size() && c < labels.classes.size(); ++c) {
    row("class", labels.classes[c].name, r.by_class[c]);
  }
  row("all", "all", r.total);
  return out;
}

}  // namespace detkit_subset

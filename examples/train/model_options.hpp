// examples/train/model_options.hpp — the options that describe a RetinaNet and its input size,
// shared by detkit-train and detkit-detect: one place for their names, ranges, defaults
// (torchvision's: ResNet-18 here, 256 FPN channels, resize 800 / 1333) and the rule between
// --min-size and --max-size.
#pragma once

#include <optional>
#include <string>

#include "common/options.hpp"

namespace detkit_train {

struct model_options {
  std::string arch = "resnet18";
  int fpn_channels = 0;                 // 0 = torchvision's 256
  int min_size = 800, max_size = 1333;  // px, torchvision's GeneralizedRCNNTransform resize
  std::optional<double> bn_eps;         // unset: what the weights record, else 1e-5
};

/// Adds --arch, --fpn-channels, --min-size, --max-size and --bn-eps to `t`, bound to `m`.
inline void add_model_options(detkit_cli::option_table& t, model_options& m) {
  t.choice("--arch", &m.arch, {"resnet18", "resnet34", "resnet50"}, "backbone (default resnet18)",
           "NAME")
      .integer("--fpn-channels", "N", &m.fpn_channels, 0, 4096,
               "FPN/head width (default 0 = torchvision's 256)")
      .integer("--min-size", "N", &m.min_size, 32, 8192,
               "torchvision resize: shorter side (default 800)")
      .integer("--max-size", "N", &m.max_size, 32, 8192,
               "torchvision resize: longer side at most (default 1333; >= --min-size)")
      .custom("--bn-eps", "X",
              "frozen BatchNorm eps (default: what the weights file records, else\n"
              "FrozenBatchNorm2d's 1e-5; torchvision's COCO weights were trained with 0)",
              [&m](const std::string& v) -> std::string {
                double d = 0;
                if (!detkit_cli::read_finite(v, d) || d < 0 || d >= 1)
                  return "expected a number in [0,1), got '" + v + "'";
                m.bn_eps = d;
                return {};
              });
}

/// The rule across the options: --max-size >= --min-size (exit 2 otherwise).
inline void check_model_options(const detkit_cli::option_table& t, const model_options& m) {
  if (m.max_size < m.min_size) t.usage_error("--max-size must be >= --min-size");
}

}  // namespace detkit_train

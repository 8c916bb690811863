// examples/train/plots.hpp — detkit-train's run log: one JSON object per line (log.jsonl: a line
// per iteration with the losses and LR, a line per evaluation with mAP, AP50, mAP at score >= 0.5
// and per-class AP), and plots.svg (losses, learning rate, mAP against the iteration), both
// rewritten atomically as the run goes (what the recipe watched in Weights & Biases).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/palette.hpp"
#include "detkit/atomic_file.hpp"

namespace detkit_train {

struct step_point {
  long iter;
  double lr;
  float loss_cls, loss_box;
  double grad_norm = 0;  // before clipping
};
struct class_ap {
  std::string name;
  double ap, ap50;
};
struct eval_point {
  long iter = 0;
  double map = -1, ap50 = -1, map_score05 = -1;
  std::vector<class_ap> per_class;
};

class training_log {
 public:
  explicit training_log(std::string dir) : dir_(std::move(dir)) {}

  void add_step(const step_point& p) {
    steps_.push_back(p);
    char buf[192];
    // %.9g: a float's value survives the round trip (the resume test compares them bit for bit).
    std::snprintf(buf, sizeof buf,
                  "{\"iter\":%ld,\"lr\":%.9g,\"loss_cls\":%.9g,\"loss_box\":%.9g,"
                  "\"grad_norm\":%.9g}\n",
                  p.iter, p.lr, static_cast<double>(p.loss_cls), static_cast<double>(p.loss_box),
                  p.grad_norm);
    lines_ += buf;
  }
  void add_eval(const eval_point& e) {
    evals_.push_back(e);
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "{\"eval_iter\":%ld,\"map\":%.6f,\"ap50\":%.6f,\"map_score05\":%.6f,"
                  "\"per_class\":[",
                  e.iter, e.map, e.ap50, e.map_score05);
    lines_ += buf;
    for (std::size_t k = 0; k < e.per_class.size(); ++k) {
      std::snprintf(buf, sizeof buf, "%s{\"name\":", k ? "," : "");
      lines_ += buf + detkit_cli::json_string(e.per_class[k].name);
      std::snprintf(buf, sizeof buf, ",\"ap\":%.6f,\"ap50\":%.6f}", e.per_class[k].ap,
                    e.per_class[k].ap50);
      lines_ += buf;
    }
    lines_ += "]}\n";
    flush();
  }
  /// Keeps the lines of an earlier run before iteration `start` (resume).
  void reload(long start) {
    std::ifstream in(dir_ + "/log.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      step_point p{};
      double lc = 0, lb = 0;
      eval_point e;
      if (std::sscanf(
              line.c_str(),
              "{\"iter\":%ld,\"lr\":%lg,\"loss_cls\":%lg,\"loss_box\":%lg,\"grad_norm\":%lg",
              &p.iter, &p.lr, &lc, &lb, &p.grad_norm) >= 4) {
        if (p.iter >= start) continue;
        p.loss_cls = static_cast<float>(lc);
        p.loss_box = static_cast<float>(lb);
        steps_.push_back(p);
      } else if (std::sscanf(line.c_str(),
                             "{\"eval_iter\":%ld,\"map\":%lg,\"ap50\":%lg,\"map_score05\":%lg",
                             &e.iter, &e.map, &e.ap50, &e.map_score05) == 4) {
        if (e.iter > start) continue;
        evals_.push_back(e);
      } else {
        continue;
      }
      lines_ += line + "\n";
    }
  }
  void flush() const {
    (void)detkit::try_write_file_atomically(dir_ + "/log.jsonl", lines_);
    (void)detkit::try_write_file_atomically(dir_ + "/plots.svg", svg());
  }
  const std::vector<eval_point>& evals() const { return evals_; }

  std::string svg() const {
    struct series {
      std::vector<double> x, y;
      std::string color;
      const char* label;
    };
    using detkit_cli::palette_hex;  // tab10: 0 blue, 1 orange, 2 green, 3 red, 4 purple, 5 brown
    std::vector<series> loss(2), lr(1), map(3);
    loss[0] = {{}, {}, palette_hex(3), "classification (focal)"};
    loss[1] = {{}, {}, palette_hex(0), "box regression (L1)"};
    lr[0] = {{}, {}, palette_hex(2), "learning rate"};
    map[0] = {{}, {}, palette_hex(4), "mAP@[.5:.95]"};
    map[1] = {{}, {}, palette_hex(1), "AP50"};
    map[2] = {{}, {}, palette_hex(5), "mAP at score >= 0.5"};
    for (const auto& s : steps_) {
      const double x = static_cast<double>(s.iter + 1);
      loss[0].x.push_back(x), loss[0].y.push_back(static_cast<double>(s.loss_cls));
      loss[1].x.push_back(x), loss[1].y.push_back(static_cast<double>(s.loss_box));
      lr[0].x.push_back(x), lr[0].y.push_back(s.lr);
    }
    for (const auto& e : evals_) {
      const double x = static_cast<double>(e.iter);
      map[0].x.push_back(x), map[0].y.push_back(std::max(0.0, e.map));
      map[1].x.push_back(x), map[1].y.push_back(std::max(0.0, e.ap50));
      map[2].x.push_back(x), map[2].y.push_back(std::max(0.0, e.map_score05));
    }
    std::string o =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1260\" height=\"300\" "
        "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"1260\" height=\"300\" "
        "fill=\"white\"/>\n";
    panel(o, 0, "loss", loss);
    panel(o, 420, "learning rate", lr);
    panel(o, 840, "held-out evaluation", map);
    return o + "</svg>\n";
  }

 private:
  template <class S>
  static void panel(std::string& o, int x0, const char* title, const std::vector<S>& ss) {
    const double L = x0 + 50, R = x0 + 400, T = 30, B = 250;
    double xmax = 1, ymax = 1e-12;
    for (const auto& s : ss)
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        xmax = std::max(xmax, s.x[i]);
        if (std::isfinite(s.y[i])) ymax = std::max(ymax, s.y[i]);
      }
    char b[512];
    std::snprintf(b, sizeof b,
                  "<text x=\"%g\" y=\"18\" font-size=\"13\">%s</text>\n<rect x=\"%g\" y=\"%g\" "
                  "width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#888\"/>\n"
                  "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.3g</text><text x=\"%g\" y=\"%g\" "
                  "text-anchor=\"end\">0</text><text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.0f "
                  "iterations</text>\n",
                  L, title, L, T, R - L, B - T, L - 3, T + 4, ymax, L - 3, B, R, B + 14, xmax);
    o += b;
    int row = 0;
    for (const auto& s : ss) {
      if (s.x.empty()) continue;
      o += "<polyline fill=\"none\" stroke=\"" + std::string(s.color) + "\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        const double y = std::isfinite(s.y[i]) ? s.y[i] : ymax;
        std::snprintf(b, sizeof b, "%.1f,%.1f ", L + (R - L) * s.x[i] / xmax,
                      B - (B - T) * y / ymax);
        o += b;
      }
      o += "\"/>\n";
      std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%d\" fill=\"%s\">%s (last %.4g)</text>\n",
                    L + 5, 268 + 12 * row++, s.color.c_str(), s.label, s.y.back());
      o += b;
    }
  }

  std::string dir_;
  std::string lines_;
  std::vector<step_point> steps_;
  std::vector<eval_point> evals_;
};

}  // namespace detkit_train

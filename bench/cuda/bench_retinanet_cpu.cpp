// bench/cuda/bench_retinanet_cpu.cpp — detkit's RetinaNet CPU twin vs torchvision on the CPU, same
// run, same work (R50-FPN, 91 classes, FrozenBN, pre-normalised N x 3 x S x S batch, 3 boxes per
// image, SGD momentum 0.9 / wd 1e-4): training-step and inference images/s side by side.
// The CPU twin exists to prove the GPU kernels right, not to train; this says what it costs.
// torchvision runs bench/cuda/torchvision_retinanet_bench.py --device cpu with as many threads as
// cores (Debian's torch would default to 1 thread on 2 cores), as detkit's OpenBLAS does.
//   bench_retinanet_cpu [--batch 2] [--size 256] [--steps 3] [--warmup 1]
//                       [--gemm openblas|onednn (default: gemm_cpu_active())]
//                       [--threads N (GEMM threads, and torch's; default: one per core)]
//                       [--python /usr/bin/python3] [--script .../torchvision_retinanet_bench.py]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/retinanet.hpp"

namespace dc = detkit::cuda;

int main(int argc, char** argv) {
  int batch = 2, size = 256, steps = 3, warmup = 1, threads = 0;
  std::string python = "/usr/bin/python3", script;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--batch")
      batch = std::atoi(v.c_str());
    else if (k == "--size")
      size = std::atoi(v.c_str());
    else if (k == "--steps")
      steps = std::atoi(v.c_str());
    else if (k == "--warmup")
      warmup = std::atoi(v.c_str());
    else if (k == "--gemm" && (v == "openblas" || v == "onednn")) {
      const auto lib =
          v == "openblas" ? dc::gemm_cpu_library::openblas : dc::gemm_cpu_library::onednn;
      if (!dc::gemm_cpu_available(lib)) {
        std::fprintf(stderr, "--gemm %s: not built in (install Debian libdnnl-dev, reconfigure)\n",
                     v.c_str());
        return 2;
      }
      dc::set_gemm_cpu_library(lib);
    } else if (k == "--threads")
      threads = std::atoi(v.c_str());
    else if (k == "--python")
      python = v;
    else if (k == "--script")
      script = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (threads > 0) dc::set_gemm_cpu_threads(threads);
  std::printf("CPU GEMM: %s\n", dc::gemm_cpu_description(dc::gemm_cpu_active()).c_str());
  dc::retinanet m(dc::retinanet_config::resnet50(91), dc::batch_shape{batch, size, size},
                  dc::make_cpu_backend());
  m.init_parameters(0);
  std::mt19937 gen(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> images(static_cast<std::size_t>(batch) * 3 * static_cast<std::size_t>(size) *
                            static_cast<std::size_t>(size));
  for (float& v : images) v = nd(gen);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  std::vector<dc::image_targets> targets(static_cast<std::size_t>(batch));
  for (dc::image_targets& t : targets)
    for (int b = 0; b < 3; ++b) {
      const float w = 32.0f + ud(gen) * static_cast<float>(size) / 2.0f;
      const float h = 32.0f + ud(gen) * static_cast<float>(size) / 2.0f;
      const float x = ud(gen) * (static_cast<float>(size) - w);
      const float y = ud(gen) * (static_cast<float>(size) - h);
      t.boxes.insert(t.boxes.end(), {x, y, x + w, y + h});
      t.labels.push_back(static_cast<int>(gen() % 91));
    }
  using clock = std::chrono::steady_clock;
  float loss = 0.0f;
  for (int i = 0; i < warmup; ++i) loss = m.train_step(images.data(), targets, {}).total();
  auto t0 = clock::now();
  for (int i = 0; i < steps; ++i) loss = m.train_step(images.data(), targets, {}).total();
  const double train = batch * steps / std::chrono::duration<double>(clock::now() - t0).count();
  std::size_t dets = 0;
  t0 = clock::now();
  for (int i = 0; i < steps; ++i) {
    m.forward(images.data());
    for (int b = 0; b < batch; ++b) dets += m.detect(b, size, size).size();
  }
  const double infer = batch * steps / std::chrono::duration<double>(clock::now() - t0).count();
  std::printf(
      "detkit CPU twin: R50-FPN 91 classes, batch %d x %dx%d, arena %.2f GiB, last loss "
      "%.6f, %zu detections\n",
      batch, size, size, static_cast<double>(m.arena().total) / 1073741824.0,
      static_cast<double>(loss), dets);

  std::map<std::string, double> theirs;
  if (!script.empty()) {
    const std::string cmd = "'" + python + "' '" + script + "' --device cpu --modes fp32 --batch " +
                            std::to_string(batch) + " --size " + std::to_string(size) +
                            " --steps " + std::to_string(steps) + " --warmup " +
                            std::to_string(warmup) +
                            (threads > 0 ? " --threads " + std::to_string(threads) : "") + " 2>&1";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char line[512];
      while (std::fgets(line, sizeof line, p) != nullptr) {
        std::fputs(line, stdout);
        char phase[32], mode[32];
        double v = 0.0;
        if (std::sscanf(line, "RESULT %31s %31s %lf", phase, mode, &v) == 3) theirs[phase] = v;
      }
      if (pclose(p) != 0) std::printf("torchvision script failed; its numbers are missing\n");
    }
  }
  std::printf("\n%-8s %14s %18s %8s\n", "phase", "detkit img/s", "torchvision img/s", "ratio");
  for (const auto& row : {std::make_pair("train", train), std::make_pair("infer", infer)}) {
    const auto it = theirs.find(row.first);
    const double y = it == theirs.end() ? 0.0 : it->second;
    std::printf("%-8s %14.3f %18.3f %8.2f\n", row.first, row.second, y,
                y > 0 ? row.second / y : 0.0);
  }
  return 0;
}

// bench/cuda/bench_retinanet_gpu.cpp — detkit's CUDA RetinaNet (R50-FPN, 91 classes) vs torchvision
// on the same GPU in the same run: training-step and inference images/s, FP32 and TF32 GEMMs.
// torchvision runs from bench/cuda/torchvision_retinanet_bench.py (the same work: FrozenBN R50
// body, FPN P3-P7, pre-normalised N x 3 x S x S batch, 3 boxes per image, SGD momentum 0.9,
// wd 1e-4); its `RESULT phase mode images/s` lines are printed next to ours with the ratio.
// BF16 GEMMs are not implemented in detkit yet; torchvision's amp-bf16 line is shown for reference.
// No device: prints why and returns 77 (ctest SKIP_RETURN_CODE).
//   bench_retinanet_gpu [--batch 8] [--size 800] [--steps 10] [--warmup 3]
//                       [--python python3] [--script path/to/torchvision_retinanet_bench.py]
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/retinanet.hpp"

namespace dc = detkit::cuda;

namespace {

struct options {
  int batch = 8, size = 800, steps = 10, warmup = 3;
  std::string python = "python3", script;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::map<std::string, double> run_detkit(const options& o, dc::gemm_math math, float* loss_out) {
  const dc::retinanet_config c = dc::retinanet_config::resnet50(91);
  dc::retinanet model(c, dc::batch_shape{o.batch, o.size, o.size}, dc::make_cuda_backend(math));
  model.init_parameters(0);
  std::mt19937 gen(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> images(static_cast<std::size_t>(o.batch) * 3 *
                            static_cast<std::size_t>(o.size) * static_cast<std::size_t>(o.size));
  for (float& v : images) v = nd(gen);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  std::vector<dc::image_targets> targets(static_cast<std::size_t>(o.batch));
  for (dc::image_targets& t : targets)
    for (int b = 0; b < 3; ++b) {
      const float w = 32.0f + ud(gen) * static_cast<float>(o.size) / 2.0f;
      const float h = 32.0f + ud(gen) * static_cast<float>(o.size) / 2.0f;
      const float x = ud(gen) * (static_cast<float>(o.size) - w);
      const float y = ud(gen) * (static_cast<float>(o.size) - h);
      t.boxes.insert(t.boxes.end(), {x, y, x + w, y + h});
      t.labels.push_back(static_cast<int>(gen() % 91));
    }
  const dc::sgd_options sgd;
  std::map<std::string, double> r;
  float loss = 0.0f;
  for (int i = 0; i < o.warmup; ++i) loss = model.train_step(images.data(), targets, sgd).total();
  cudaDeviceSynchronize();
  double t = now_s();
  for (int i = 0; i < o.steps; ++i) loss = model.train_step(images.data(), targets, sgd).total();
  cudaDeviceSynchronize();
  r["train"] = o.batch * o.steps / (now_s() - t);
  *loss_out = loss;
  std::size_t dets = 0;
  for (int i = 0; i < o.warmup; ++i) model.forward(images.data());
  cudaDeviceSynchronize();
  t = now_s();
  for (int i = 0; i < o.steps; ++i) {
    model.forward(images.data());
    for (int b = 0; b < o.batch; ++b) dets += model.detect(b, o.size, o.size).size();
  }
  cudaDeviceSynchronize();
  r["infer"] = o.batch * o.steps / (now_s() - t);
  std::printf("detkit %s: last training loss %.6f, %zu detections in the timed inference\n",
              math == dc::gemm_math::tf32 ? "tf32" : "fp32", static_cast<double>(loss), dets);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--batch")
      o.batch = std::atoi(v.c_str());
    else if (k == "--size")
      o.size = std::atoi(v.c_str());
    else if (k == "--steps")
      o.steps = std::atoi(v.c_str());
    else if (k == "--warmup")
      o.warmup = std::atoi(v.c_str());
    else if (k == "--python")
      o.python = v;
    else if (k == "--script")
      o.script = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device (%s); the benchmark needs one\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const dc::arena_report a =
      dc::plan_arena(dc::retinanet_config::resnet50(91), dc::batch_shape{o.batch, o.size, o.size});
  std::printf("device %s; R50-FPN 91 classes, batch %d x %dx%d, arena %.2f GiB\n", prop.name,
              o.batch, o.size, o.size, static_cast<double>(a.total) / 1073741824.0);

  std::map<std::string, double> ours;
  float loss = 0.0f;
  for (const auto& kv : run_detkit(o, dc::gemm_math::fp32, &loss))
    ours[kv.first + " fp32"] = kv.second;
  for (const auto& kv : run_detkit(o, dc::gemm_math::tf32, &loss))
    ours[kv.first + " tf32"] = kv.second;

  std::map<std::string, double> theirs;
  if (!o.script.empty()) {
    const std::string cmd = "'" + o.python + "' '" + o.script + "' --batch " +
                            std::to_string(o.batch) + " --size " + std::to_string(o.size) +
                            " --steps " + std::to_string(o.steps) + " --warmup " +
                            std::to_string(o.warmup) + " 2>&1";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char line[512];
      while (std::fgets(line, sizeof line, p) != nullptr) {
        std::fputs(line, stdout);
        char phase[32], mode[32];
        double v = 0.0;
        if (std::sscanf(line, "RESULT %31s %31s %lf", phase, mode, &v) == 3)
          theirs[std::string(phase) + " " + mode] = v;
      }
      if (pclose(p) != 0) std::printf("torchvision script failed; its numbers are missing\n");
    }
  }
  std::printf("\n%-16s %14s %18s %8s\n", "phase mode", "detkit img/s", "torchvision img/s",
              "ratio");
  for (const char* key : {"train fp32", "train tf32", "train amp-bf16", "infer fp32", "infer tf32",
                          "infer amp-bf16"}) {
    const auto a_it = ours.find(key);
    const auto b_it = theirs.find(key);
    const double x = a_it == ours.end() ? 0.0 : a_it->second;
    const double y = b_it == theirs.end() ? 0.0 : b_it->second;
    std::printf("%-16s %14.2f %18.2f %8s\n", key, x, y,
                x > 0.0 && y > 0.0 ? std::to_string(x / y).substr(0, 5).c_str() : "-");
  }
  return 0;
}

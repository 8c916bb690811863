// cuda/ops/anchors/anchors.cu — anchor generation on the device; bodies in anchors_math.hpp.
#include <vector>

#include "../../common/device_buffer.hpp"
#include "../../common/gpu_context.hpp"
#include "anchors.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

namespace {
__global__ void anchors_forward_kernel(int h, int w, int a_per_loc, const float* cells,
                                       anchor_grid g, float* out) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(h) * w * a_per_loc) return;
  const int a = static_cast<int>(i % a_per_loc);
  const int loc = static_cast<int>(i / a_per_loc);
  float cell[4];
  for (int j = 0; j < 4; ++j) cell[j] = cells[4 * a + j];
  shifted_anchor(cell, loc / w, loc % w, g, out + 4 * i);
}
}  // namespace

void generate_anchors(gpu_context& ctx, const anchor_options& o, int image_h, int image_w,
                      const std::vector<feature_size>& levels, float* out) {
  long long offset = 0;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    // Cell anchors are a handful of floats computed once per size change, not per step.
    const std::vector<float> cells = cell_anchors_cpu(o, static_cast<int>(l));
    device_buffer<float> d_cells(cells.size());
    d_cells.upload(cells);
    const int a_per_loc = static_cast<int>(cells.size() / 4);
    const long long count = static_cast<long long>(levels[l].h) * levels[l].w * a_per_loc;
    anchors_forward_kernel<<<blocks_for(count), 256, 0, ctx.stream>>>(
        levels[l].h, levels[l].w, a_per_loc, d_cells.data(),
        level_grid(o, image_h, image_w, levels[l], static_cast<int>(l)), out + 4 * offset);
    DETKIT_CUDA_CHECK_LAUNCH();
    DETKIT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
    offset += count;
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

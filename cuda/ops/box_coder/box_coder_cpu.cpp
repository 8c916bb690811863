// cuda/ops/box_coder/box_coder_cpu.cpp — CPU twin of box_coder.cu.
#include "box_coder.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

void box_encode_cpu(long long count, const float* gt, const float* anchors, float* deltas) {
  for (long long i = 0; i < count; ++i) box_encode(gt + 4 * i, anchors + 4 * i, deltas + 4 * i);
}
void box_decode_cpu(long long count, const float* deltas, const float* anchors, float* boxes) {
  for (long long i = 0; i < count; ++i) box_decode(deltas + 4 * i, anchors + 4 * i, boxes + 4 * i);
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// cuda/common/rounding.hpp — float arithmetic rounded once per operation on both backends, the
// numerics policy of cuda/ops/README.md. nvcc fuses `a * b + c` into one FMA by default
// (-fmad=true) while the CPU build never does (-ffp-contract=off), so a body written with plain
// operators rounds differently on the two; __fmul_rn / __fadd_rn / __fsub_rn are never fused.
// Bodies that must be bit-equal between the devices spell every product that meets a sum with these.
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

// DETKIT_EMULATE_DEVICE_ROUNDING (tests only, in a TU built with contraction on as nvcc builds
// device code): what the intrinsics are defined to do, one round-to-nearest per operation, with
// the result passed through a volatile so the compiler cannot fuse it into a neighbour, as nvcc
// does not fuse an intrinsic. (Going through double would not do: GCC narrows
// (float)((double)a * (double)b) back to a * b and then fuses it.)

DETKIT_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#elif defined(DETKIT_EMULATE_DEVICE_ROUNDING)
  const volatile float rounded = a * b;
  return rounded;
#else
  return a * b;
#endif
}

DETKIT_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#elif defined(DETKIT_EMULATE_DEVICE_ROUNDING)
  const volatile float rounded = a + b;
  return rounded;
#else
  return a + b;
#endif
}

DETKIT_HD float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#elif defined(DETKIT_EMULATE_DEVICE_ROUNDING)
  const volatile float rounded = a - b;
  return rounded;
#else
  return a - b;
#endif
}

}  // namespace cuda
DETKIT_END_NAMESPACE

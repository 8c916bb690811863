// detkit/detail/host_device.hpp — DETKIT_HD marks math bodies shared by a CUDA kernel and its CPU
// twin: __host__ __device__ under nvcc, nothing for plain C++ compilers.
#pragma once

#if defined(__CUDACC__)
#define DETKIT_HD __host__ __device__ __forceinline__
#else
#define DETKIT_HD inline
#endif

// detkit/detail/avx2.hpp — the few AVX2 operations of detkit's run-time-dispatched loops (the CSV
// line scan, checksum stripes, the label cache's box check), spelled with GCC/Clang vector
// extensions and the compilers' own x86 builtins instead of <immintrin.h>. That header costs about
// 0.4 s of parsing in every translation unit that includes it; these lines cost nothing.
// Each operation compiles to the instruction its _mm256_* intrinsic names.
//
// Functions using them carry DETKIT_TARGET_AVX2 and run only when cpu_has_avx2() says so, so the
// default build stays portable (no -mavx2). DETKIT_AVX2 is left undefined, and callers take their
// SSE2 or scalar path, when the compiler lacks one of the builtins or DETKIT_NO_AVX2 is defined.
#pragma once

#include <cstdint>
#include <cstring>

#include "detkit/config.hpp"

// GCC has had these builtins since 4.7 (and __builtin_bit_cast since 11) but its __has_builtin
// answers 0 for them outside an AVX2 function, so it is checked by version; clang by name.
#if defined(__x86_64__) && !defined(DETKIT_NO_AVX2)
#if defined(__clang__)
#if __has_builtin(__builtin_bit_cast) && __has_builtin(__builtin_ia32_pmovmskb256) &&      \
    __has_builtin(__builtin_ia32_pmuludq256) && __has_builtin(__builtin_ia32_pshufd256) && \
    __has_builtin(__builtin_ia32_psubusb256) && __has_builtin(__builtin_ia32_ptestz256)
#define DETKIT_AVX2 1
#endif
#elif defined(__GNUC__) && __GNUC__ >= 11
#define DETKIT_AVX2 1
#endif
#endif
#ifdef DETKIT_AVX2
#define DETKIT_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#endif

#ifdef DETKIT_AVX2
DETKIT_BEGIN_NAMESPACE
namespace detail::avx2 {

// 256-bit registers viewed as lanes of one type; the builtins take the `char`/`int`/`long long`
// views, the operators (==, +, &, >>, ...) work lane by lane.
typedef char i8x32 __attribute__((vector_size(32)));
typedef std::uint8_t u8x32 __attribute__((vector_size(32)));
typedef int i32x8 __attribute__((vector_size(32)));
typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
typedef long long i64x4 __attribute__((vector_size(32)));
typedef std::uint64_t u64x4 __attribute__((vector_size(32)));

/// True when the CPU runs AVX2 and POPCNT (checked once per process).
inline bool cpu_has_avx2() noexcept {
  // popcnt is part of every AVX2 CPU, but check it too since the CSV scan uses it.
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  return yes;
}

/// Unaligned 32-byte load and store (vmovdqu).
template <class V>
DETKIT_TARGET_AVX2 inline V load(const void* p) noexcept {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
DETKIT_TARGET_AVX2 inline void store(void* p, V v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

/// Bit i set iff byte i of `x` equals `c` (_mm256_movemask_epi8(_mm256_cmpeq_epi8)).
DETKIT_TARGET_AVX2 inline std::uint32_t eq_mask(i8x32 x, char c) noexcept {
  return static_cast<std::uint32_t>(__builtin_ia32_pmovmskb256(__builtin_bit_cast(i8x32, x == c)));
}

/// Low 32 bits of each 64-bit lane of a times those of b, as 64-bit products (_mm256_mul_epu32).
DETKIT_TARGET_AVX2 inline u64x4 mul_lo32(u64x4 a, u64x4 b) noexcept {
  return __builtin_bit_cast(
      u64x4, __builtin_ia32_pmuludq256(__builtin_bit_cast(i32x8, a), __builtin_bit_cast(i32x8, b)));
}

/// Each 64-bit lane with its two 32-bit halves swapped (_mm256_shuffle_epi32(v, 0x4e)).
DETKIT_TARGET_AVX2 inline u64x4 swap_halves(u64x4 v) noexcept {
  return __builtin_bit_cast(u64x4, __builtin_ia32_pshufd256(__builtin_bit_cast(i32x8, v), 0x4e));
}

/// Bytewise a - b, saturated at 0 (_mm256_subs_epu8).
DETKIT_TARGET_AVX2 inline u8x32 sub_sat(u8x32 a, u8x32 b) noexcept {
  return __builtin_bit_cast(
      u8x32, __builtin_ia32_psubusb256(__builtin_bit_cast(i8x32, a), __builtin_bit_cast(i8x32, b)));
}

/// True iff every bit of v is 0 (_mm256_testz_si256(v, v)).
DETKIT_TARGET_AVX2 inline bool all_zero(u32x8 v) noexcept {
  const auto q = __builtin_bit_cast(i64x4, v);
  return __builtin_ia32_ptestz256(q, q) != 0;
}

}  // namespace detail::avx2
DETKIT_END_NAMESPACE
#endif

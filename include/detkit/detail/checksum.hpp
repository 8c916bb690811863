// detkit/detail/checksum.hpp — a fast non-cryptographic 64-bit hash for checksums and
// fingerprints (label cache, source files). Not API. (detail/hash.hpp holds the join tables.)
//
// The inner loop is XXH3's "accumulate" step (8 lanes of 64 bits per 64-byte stripe: each lane
// adds the raw word to its neighbour and the 32x32→64 product of the keyed word to itself), with a
// murmur3 fmix64 finish. It is NOT bit-compatible with XXH3: it has no periodic scramble and its own
// keys. It detects every single-bit flip (the raw word is added to an accumulator, so a flip always
// changes an accumulator by a non-zero amount) and runs at memory bandwidth (about 20 GB/s per core
// on this project's machine), which is what the label cache needs to checksum ~700 MB on open.
// Words are read little-endian on every host, so hashes are the same on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "detkit/config.hpp"

#if defined(__SSE2__) && !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#include <emmintrin.h>
#define DETKIT_CHECKSUM_SSE2 1
// AVX2 is used when the CPU has it (checked at run time), without any -m flag: the functions
// that use it carry DETKIT_TARGET_AVX2. DETKIT_NO_AVX2 turns this off.
#include "detkit/detail/avx2.hpp"
#ifdef DETKIT_AVX2
#define DETKIT_CHECKSUM_AVX2 1
#endif
#endif

DETKIT_BEGIN_NAMESPACE
namespace detail {

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/// murmur3's 64-bit finaliser: full avalanche.
constexpr std::uint64_t fmix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

namespace checksum_keys {
// Arbitrary odd 64-bit constants (digits of pi), one per lane, and the golden ratio.
alignas(16) constexpr std::uint64_t lane[8] = {
    0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL,
    0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL, 0xc0ac29b7c97c50ddULL, 0x3f84d5b5b5470917ULL};
constexpr std::uint64_t golden = 0x9e3779b97f4a7c15ULL;
}  // namespace checksum_keys

struct checksum_state {
  std::uint64_t acc[8];
};

inline void checksum_stripe_scalar(checksum_state& s, const unsigned char* p) noexcept {
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t v = load_le64(p + 8 * i);
    const std::uint64_t k = v ^ checksum_keys::lane[i];
    s.acc[i ^ 1] += v;
    s.acc[i] += (k & 0xffffffffULL) * (k >> 32);
  }
}

inline void checksum_stripe(checksum_state& s, const unsigned char* p) noexcept {
#ifdef DETKIT_CHECKSUM_SSE2
  // The same arithmetic as checksum_stripe_scalar, two lanes per register: SSE2 is part of x86-64,
  // so this needs no -m flag and keeps -O2 builds at memory speed (the scalar loop is 3x slower).
  for (int j = 0; j < 4; ++j) {
    __m128i acc;
    std::memcpy(&acc, &s.acc[2 * j], 16);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
    __m128i key;
    std::memcpy(&key, &checksum_keys::lane[2 * j], 16);
    const __m128i k = _mm_xor_si128(v, key);
    const __m128i prod = _mm_mul_epu32(k, _mm_srli_epi64(k, 32));
    const __m128i swapped = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2));
    acc = _mm_add_epi64(acc, _mm_add_epi64(swapped, prod));
    std::memcpy(&s.acc[2 * j], &acc, 16);
  }
#else
  checksum_stripe_scalar(s, p);
#endif
}

#ifdef DETKIT_CHECKSUM_AVX2
inline bool cpu_has_avx2() noexcept { return avx2::cpu_has_avx2(); }

// checksum_stripe for many stripes, four lanes per register; identical results.
DETKIT_TARGET_AVX2 inline void checksum_stripes_avx2(checksum_state& s, const unsigned char* p,
                                                     std::size_t stripes) noexcept {
  using avx2::u64x4;
  u64x4 a0 = avx2::load<u64x4>(&s.acc[0]);
  u64x4 a1 = avx2::load<u64x4>(&s.acc[4]);
  const u64x4 k0 = avx2::load<u64x4>(&checksum_keys::lane[0]);
  const u64x4 k1 = avx2::load<u64x4>(&checksum_keys::lane[4]);
  for (std::size_t i = 0; i < stripes; ++i, p += 64) {
    const u64x4 v0 = avx2::load<u64x4>(p);
    const u64x4 v1 = avx2::load<u64x4>(p + 32);
    const u64x4 x0 = v0 ^ k0, x1 = v1 ^ k1;
    a0 += avx2::swap_halves(v0) + avx2::mul_lo32(x0, x0 >> 32);
    a1 += avx2::swap_halves(v1) + avx2::mul_lo32(x1, x1 >> 32);
  }
  avx2::store(&s.acc[0], a0);
  avx2::store(&s.acc[4], a1);
}
#endif

/// 64-bit hash of `n` bytes. Equal inputs and seeds give equal hashes on every platform.
inline std::uint64_t hash64(const void* data, std::size_t n, std::uint64_t seed = 0) noexcept {
  checksum_state s;
  for (int i = 0; i < 8; ++i) s.acc[i] = checksum_keys::lane[i] ^ (seed * checksum_keys::golden);
  const unsigned char* p = static_cast<const unsigned char*>(data);
  std::size_t left = n;
#ifdef DETKIT_CHECKSUM_AVX2
  if (left >= 4096 && cpu_has_avx2()) {
    const std::size_t stripes = left / 64;
    checksum_stripes_avx2(s, p, stripes);
    p += 64 * stripes;
    left -= 64 * stripes;
  }
#endif
  while (left >= 64) {
    checksum_stripe(s, p);
    p += 64;
    left -= 64;
  }
  if (left > 0) {
    unsigned char tail[64] = {};
    std::memcpy(tail, p, left);
    checksum_stripe(s, tail);
  }
  std::uint64_t h = fmix64(seed ^ (static_cast<std::uint64_t>(n) * checksum_keys::golden));
  for (int i = 0; i < 8; ++i) h = fmix64(h ^ s.acc[i]) + checksum_keys::lane[i];
  return fmix64(h);
}

inline std::uint64_t hash64(std::string_view s, std::uint64_t seed = 0) noexcept {
  return hash64(s.data(), s.size(), seed);
}

/// Order-dependent combination of two hashes.
constexpr std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v) noexcept {
  return fmix64(h ^ (v + checksum_keys::golden + (h << 6) + (h >> 2)));
}

}  // namespace detail
DETKIT_END_NAMESPACE

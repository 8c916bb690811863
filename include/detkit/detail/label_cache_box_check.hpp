// detkit/detail/label_cache_box_check.hpp — the label cache's per-box validation: finite
// coordinates, category ids inside the class list, flags -1/0/1 and zero padding, checked
// branch-free 4 (SSE2) or 8 (AVX2, chosen at run time) boxes per step while the reader hashes a
// block, and the message naming what is wrong with a box it flagged. The writer applies the same
// checks, so it never writes a file the reader would refuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "detkit/detail/checksum.hpp"
#include "detkit/label_cache_format.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

inline bool valid_flag(tri_flag f) {
  const auto v = static_cast<std::int8_t>(f);
  return v >= -1 && v <= 1;
}
inline bool finite_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return (b & 0x7f800000u) != 0x7f800000u;
}
// Branch-free check of n boxes: non-zero when any box has a NaN/inf coordinate, a category id
// outside [0, class_count), a flag byte not -1/0/1, or non-zero padding. class_count < 2^31.
inline std::uint32_t boxes_bad_scalar(const cached_box* b, std::size_t n,
                                      std::uint32_t class_count) {
  static_assert(sizeof(cached_box) == 11 * 4, "label cache layout");
  std::uint32_t bad = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(b);
  for (std::size_t i = 0; i < n; ++i, p += sizeof(cached_box)) {
    // Word loads straight from the mapping: copying the box to a local array first costs a
    // store-forwarding stall per word (4x slower).
    std::uint32_t w[11];
    for (int k = 0; k < 11; ++k) std::memcpy(&w[k], p + 4 * k, 4);
    for (int k = 0; k < 8; ++k)
      bad |= static_cast<std::uint32_t>((w[k] & 0x7f800000u) == 0x7f800000u);
    bad |= static_cast<std::uint32_t>(w[8] >= class_count);  // a negative id wraps to a huge one
    // Flags in bytes 36..40: u = byte + 1 (per byte, no carries) must be 0, 1 or 2; a byte of u
    // above 2 sets its top bit in (u + 125) | u (the SWAR "has byte greater than" test).
    const std::uint32_t f = w[9];
    const std::uint32_t u = ((f & 0x7f7f7f7fu) + 0x01010101u) ^ (f & 0x80808080u);
    bad |= ((u + 0x7d7d7d7du) | u) & 0x80808080u;
    bad |= static_cast<std::uint32_t>(((w[10] + 1u) & 0xffu) > 2u);
    bad |= w[10] & 0xffffff00u;  // padding
  }
  return bad;
}

#ifdef DETKIT_CHECKSUM_SSE2
// The same check, 4 boxes (176 bytes = 11 vectors) at a time with SSE2, ~2x fewer instructions
// than the scalar loop (validation is most of the time of opening a big cache). Each of the 11
// vectors of a group has a fixed mix of word kinds (float, category, flags, inside+padding);
// per-vector lane masks select which test applies to which lane:
//   float:    (w & 0x7f800000) + 0x00800000 has its sign bit set iff the exponent is all ones
//   category: w | ~(w - class_count) has its sign bit set iff w >= class_count (unsigned)
//   bytes:    saturate(byte + add - sub) is non-zero for a flag byte not in {FF,00,01}
//             (add 1, sub 2) and for a non-zero padding byte (add 0, sub 0); other lanes sub FF.
template <int Lanes>  // 4 (SSE2) or 8 (AVX2) 32-bit lanes per vector
struct boxes_bad_lane_consts {
  alignas(4 * Lanes) std::uint32_t fmask[11][Lanes], cmask[11][Lanes];
  alignas(4 * Lanes) std::uint8_t add[11][4 * Lanes], sub[11][4 * Lanes];
  boxes_bad_lane_consts() {
    for (int w = 0; w < 11 * Lanes; ++w) {
      const int j = w / Lanes, l = w % Lanes, kind = w % 11;
      fmask[j][l] = kind < 8 ? 0x80000000u : 0;
      cmask[j][l] = kind == 8 ? 0x80000000u : 0;
      for (int byte = 0; byte < 4; ++byte) {
        const bool flag = kind == 9 || (kind == 10 && byte == 0);
        const bool pad = kind == 10 && byte > 0;
        add[j][4 * l + byte] = flag ? 1 : 0;
        sub[j][4 * l + byte] = flag ? 2 : (pad ? 0 : 0xff);
      }
    }
  }
};
using boxes_bad_consts = boxes_bad_lane_consts<4>;
inline std::uint32_t boxes_bad_sse2(const cached_box* b, std::size_t n, std::uint32_t class_count);
#ifdef DETKIT_CHECKSUM_AVX2
// The same with AVX2: 8 boxes (352 bytes = 11 registers) per step, used when the CPU has it.
using boxes_bad_consts8 = boxes_bad_lane_consts<8>;
DETKIT_TARGET_AVX2 inline std::uint32_t boxes_bad_avx2(const unsigned char* p, std::size_t groups,
                                                       std::uint32_t class_count) {
  static const boxes_bad_consts8 k;
  using avx2::u32x8;
  using avx2::u8x32;
  u32x8 acc = {};
  for (std::size_t g = 0; g < groups; ++g, p += 8 * sizeof(cached_box)) {
    for (int j = 0; j < 11; ++j) {
      const auto v = avx2::load<u32x8>(p + 32 * j);
      const u32x8 f = (v & 0x7f800000u) + 0x00800000u;
      const u32x8 c = v | ~(v - class_count);
      const u8x32 bytes = avx2::sub_sat(__builtin_bit_cast(u8x32, v) + avx2::load<u8x32>(k.add[j]),
                                        avx2::load<u8x32>(k.sub[j]));
      acc |= f & avx2::load<u32x8>(k.fmask[j]);
      acc |= c & avx2::load<u32x8>(k.cmask[j]);
      acc |= __builtin_bit_cast(u32x8, bytes);
    }
  }
  return avx2::all_zero(acc) ? 0u : 1u;
}
#endif

inline std::uint32_t boxes_bad(const cached_box* b, std::size_t n, std::uint32_t class_count) {
#ifdef DETKIT_CHECKSUM_AVX2
  if (n >= 8 && cpu_has_avx2()) {
    const std::size_t groups = n / 8;
    const std::uint32_t bad =
        boxes_bad_avx2(reinterpret_cast<const unsigned char*>(b), groups, class_count);
    return bad | boxes_bad_sse2(b + 8 * groups, n - 8 * groups, class_count);
  }
#endif
  return boxes_bad_sse2(b, n, class_count);
}
inline std::uint32_t boxes_bad_sse2(const cached_box* b, std::size_t n, std::uint32_t class_count) {
  static const boxes_bad_consts k;
  const auto* p = reinterpret_cast<const unsigned char*>(b);
  const __m128i e = _mm_set1_epi32(0x7f800000), m = _mm_set1_epi32(0x00800000);
  const __m128i cc = _mm_set1_epi32(static_cast<int>(class_count));
  const __m128i ones = _mm_set1_epi32(-1);
  __m128i acc_f = _mm_setzero_si128(), acc = _mm_setzero_si128();
  auto load = [](const void* q) { return _mm_loadu_si128(static_cast<const __m128i*>(q)); };
  const std::size_t groups = n / 4;
  for (std::size_t g = 0; g < groups; ++g, p += 4 * sizeof(cached_box)) {
    for (int j = 0; j < 11; ++j) {
      const __m128i v = load(p + 16 * j);
      const __m128i f = _mm_add_epi32(_mm_and_si128(v, e), m);
      if (j == 0 || j == 1 || j == 3 || j == 6 || j == 9) {  // all four lanes are coordinates
        acc_f = _mm_or_si128(acc_f, f);
        continue;
      }
      const __m128i c = _mm_or_si128(v, _mm_xor_si128(_mm_sub_epi32(v, cc), ones));
      const __m128i bytes = _mm_subs_epu8(_mm_add_epi8(v, load(k.add[j])), load(k.sub[j]));
      acc = _mm_or_si128(acc, _mm_and_si128(f, load(k.fmask[j])));
      acc = _mm_or_si128(acc, _mm_and_si128(c, load(k.cmask[j])));
      acc = _mm_or_si128(acc, bytes);
    }
  }
  acc = _mm_or_si128(acc, _mm_and_si128(acc_f, _mm_set1_epi32(static_cast<int>(0x80000000u))));
  std::uint32_t bad = _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xffff;
  return bad | boxes_bad_scalar(b + 4 * groups, n - 4 * groups, class_count);
}
#else
inline std::uint32_t boxes_bad(const cached_box* b, std::size_t n, std::uint32_t class_count) {
  return boxes_bad_scalar(b, n, class_count);
}
#endif
inline bool box_values_ok(const cached_box& b);
// What is wrong with a box that boxes_bad() flagged.
inline std::string box_problem(const cached_box& b, std::uint64_t class_count) {
  if (b.category_id < 0 || static_cast<std::uint64_t>(b.category_id) >= class_count) {
    return "category_id " + std::to_string(b.category_id) + " is outside the " +
           std::to_string(class_count) + " classes";
  }
  const tri_flag flags[5] = {b.occluded, b.truncated, b.group_of, b.depiction, b.inside};
  const char* names[5] = {"occluded", "truncated", "group_of", "depiction", "inside"};
  for (int k = 0; k < 5; ++k) {
    if (!valid_flag(flags[k])) {
      return std::string("flag '") + names[k] + "' is " +
             std::to_string(static_cast<int>(flags[k])) + ", expected -1, 0 or 1";
    }
  }
  if (!box_values_ok(b)) return "a coordinate is NaN or infinite";
  return "non-zero padding bytes";
}
inline bool box_values_ok(const cached_box& b) {
  return finite_bits(b.rel.x1) && finite_bits(b.rel.y1) && finite_bits(b.rel.x2) &&
         finite_bits(b.rel.y2) && finite_bits(b.abs.x1) && finite_bits(b.abs.y1) &&
         finite_bits(b.abs.x2) && finite_bits(b.abs.y2);
}

}  // namespace detail
DETKIT_END_NAMESPACE

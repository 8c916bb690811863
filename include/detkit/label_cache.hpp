// detkit/label_cache.hpp — the binary ("JSON-free") label cache: write a label_set once, reopen it
// in well under a second by mmap, with zero-copy views and every byte validated.
//
// It replaces the recipe's JSON round trip (json.dump of Detectron2 dicts, then json.load and the
// BoxMode enum fight). The header follows nanoflann's saved-index and llm.c's checkpoint habit:
// magic, format version, endianness mark and the sizeof of every stored type up front, so a file
// from another build or machine is refused with a reason instead of being misread.
//
// FILE FORMAT, version 1. Integers are in host byte order (the endianness mark rejects a file from a
// machine of the other order); every offset is from the start of the file.
//
//   byte  size  field
//   0     8     magic "DETKITLC"
//   8     4     u32 format_version = 1
//   12    4     u32 endian_mark = 0x01020304 (a byte-swapped value means the other byte order)
//   16    4     u32 header_bytes = 128            ┐
//   20    4     u32 section_entry_bytes = 40      │ sizeof of each stored type, so a build with
//   24    4     u32 class_entry_bytes = 16        │ other padding or field sizes is refused
//   28    4     u32 image_entry_bytes = 48        │ (errc::cache_layout)
//   32    4     u32 box_entry_bytes = 44          │
//   36    4     u32 source_entry_bytes = 40       ┘
//   40    4     u32 section_count (5 in version 1)
//   44    4     u32 hash_block_bytes = 1048576 (block size of the section checksums, below)
//   48    8     u64 file_size (whole file; a shorter file is truncated)
//   56    8     u64 class_list_hash = hash_class_list(classes) (fingerprint of the class list)
//   64    8     u64 payload_checksum = fold of the section checksums in table order
//   72    8     u64 header_checksum = hash64 of bytes [0, 128 + 40*section_count) with this field 0
//   80    4     u32 settings_offset  ┐ a string in the string pool: the prepare settings that shaped
//   84    4     u32 settings_length  ┘ the labels (filters, rounding), part of the fingerprint
//   88    40    reserved, zero
//   128   40*n  section table, one entry per section:
//                 u32 type (1 classes, 2 images, 3 boxes, 4 strings, 5 sources), u32 reserved = 0,
//                 u64 offset (multiple of 64), u64 bytes, u64 count (entries; bytes for strings),
//                 u64 checksum
//   ...         the sections, each starting at a 64-byte boundary, zero padding between them.
//
// Sections (entry layouts are the public structs below; strings are (u32 offset, u32 length) into
// the string pool, not NUL-terminated):
//   classes  cached_class  {mid, name}                              16 bytes, category id = index
//   images   cached_image  {u64 image_id_u64, u64 first_box, image_id, file_name, i32 width,
//                           i32 height, u32 box_count, u32 reserved} 48 bytes, in label_set order;
//                           first_box of image i+1 = first_box + box_count of image i (checked)
//   boxes    cached_box    {f32 rel x1,y1,x2,y2; f32 abs x1,y1,x2,y2 (XYXY_ABS px); i32 category;
//                           i8 occluded, truncated, group_of, depiction, inside (-1/0/1); 3 pad}
//                           44 bytes
//   strings  the string pool (bytes)
//   sources  cached_source {u64 size, i64 mtime_ns, u64 hash, path, u32 mode, u32 reserved}
//                           40 bytes: the fingerprint of each input file (see below)
//
// CHECKSUMS. Each section is cut into hash_block_bytes blocks; block k's hash is
// hash64(block, seed = k), and the section checksum is hash64 of the array of block hashes, seeded
// with the section type (detail/checksum.hpp: XXH3-style 8-lane accumulate, SSE2, runs at memory
// speed: ~22 GB/s on one core of the project's machine). Why blocks: they are independent, so
// try_open verifies them on all cores (cache_open_options::threads) in one pass over the file,
// and validates the entries of each block right after hashing it, while it is in L2: string
// references, the first_box chain, category ids, flags (-1/0/1), finite coordinates and zero
// padding (SSE2, 4 boxes per step). Padding between sections must be zero, so no byte of the
// file goes unchecked. Opening the 14.6M-box train cache (789 MB) with full verification costs
// one memory pass (see bench/bench_cache.cpp for the measured numbers).
// cache_verify::structure is for a file this process just wrote or otherwise trusts: it skips the
// checksums and the box value checks (the header, section table, string references and box ranges
// of the images are still checked, so views never read out of bounds; category ids are NOT
// checked, so do not index classes() with them unchecked in that mode). The default,
// cache_verify::full, is what anything reading a file from disk should use.
// As with any mmap reader, a cache must not be truncated in place while it is open (SIGBUS);
// detkit writes caches to a temp file and renames it, which is safe for open readers.
//
// FINGERPRINT (the stale check). For each input file the cache stores its size, mtime and a hash.
// fingerprint_mode::quick (the default) hashes the size plus the first and last MiB: it costs two
// reads, so checking a 1.2 GB CSV is instant, and catches replaced, truncated, appended or
// re-downloaded files. It misses an in-place edit in the middle of a file that keeps its size;
// fingerprint_mode::full hashes every byte (≈0.1 s per GB from the page cache) and misses
// nothing. mtime is stored and shown but never compared, so copying a dataset (cp, rsync without
// -t) does not invalidate the cache. The class list (MIDs and names, in order) and the settings
// string are part of the fingerprint too.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef DETKIT_NO_THREADS
#include "detkit/detail/run_on_threads.hpp"
#endif

#include "detkit/atomic_file.hpp"
#include "detkit/detail/checksum.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// The format version this library writes and reads.
inline constexpr std::uint32_t label_cache_format_version = 1;

// ---- Stored types (the file's entry layouts; views point straight into the mapping) ----------

/// A string in the cache's string pool.
struct cached_string {
  std::uint32_t offset;  // bytes from the start of the string pool
  std::uint32_t length;  // bytes
};

struct cached_class {
  cached_string mid;   // "/m/03ssj5"
  cached_string name;  // "Bed"
};

struct cached_image {
  std::uint64_t image_id_u64;  // Open Images ImageID as a number
  std::uint64_t first_box;     // index of this image's first box in boxes()
  cached_string image_id;      // 16 hex digits
  cached_string file_name;     // may be empty
  std::int32_t width;          // px, 0 when unknown
  std::int32_t height;         // px, 0 when unknown
  std::uint32_t box_count;
  std::uint32_t reserved;
};

struct cached_box {
  box_xyxy_rel rel;          // fractions in [0,1]
  box_xyxy_abs abs;          // XYXY_ABS, px
  std::int32_t category_id;  // index into classes()
  tri_flag occluded, truncated, group_of, depiction, inside;
  std::uint8_t reserved[3];
};

/// How a source file's content is fingerprinted (see the file comment).
enum class fingerprint_mode : std::uint32_t { quick = 1, full = 2 };

struct cached_source {
  std::uint64_t size;
  std::int64_t mtime_ns;
  std::uint64_t hash;
  cached_string path;
  fingerprint_mode mode;
  std::uint32_t reserved;
};

static_assert(sizeof(cached_string) == 8, "label cache layout");
static_assert(sizeof(cached_class) == 16, "label cache layout");
static_assert(sizeof(cached_image) == 48, "label cache layout");
static_assert(sizeof(cached_box) == 44, "label cache layout");
static_assert(sizeof(cached_source) == 40, "label cache layout");
static_assert(std::is_trivially_copyable<cached_box>::value, "label cache layout");

// ---- Fingerprint ---------------------------------------------------------------------------

/// Identity of one input file when the cache was built.
struct source_fingerprint {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // informational, never compared
  std::uint64_t hash = 0;     // see fingerprint_mode
  fingerprint_mode mode = fingerprint_mode::quick;
};

/// Everything the labels were derived from: the input files, the class list and the settings.
struct cache_fingerprint {
  std::vector<source_fingerprint> sources;
  std::uint64_t class_list_hash = 0;  // hash_class_list(classes); 0 = take it from the label_set
  std::string settings;               // free text, e.g. "rounding=none;group_of=keep"
};

/// Order-sensitive hash of the class list (MIDs and names).
inline std::uint64_t hash_class_list(const std::vector<class_info>& classes) {
  std::uint64_t h = detail::hash64(std::string_view("detkit.classes"), classes.size());
  for (const auto& c : classes) {
    h = detail::hash_combine(h, detail::hash64(c.mid));
    h = detail::hash_combine(h, detail::hash64(c.name));
  }
  return h;
}

namespace detail {

inline error cache_error(errc code, const std::string& file, std::string message) {
  error e = make_error(code, std::move(message));
  e.file = file;
  return e;
}
inline error cache_error_at(errc code, const std::string& file, std::uint64_t offset,
                            std::string message) {
  error e = cache_error(code, file, std::move(message));
  e.byte_offset = offset;
  e.has_offset = true;
  return e;
}

// pread exactly n bytes at pos (fewer only at end of file).
inline bool pread_all(int fd, void* out, std::size_t n, std::uint64_t pos) {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    pos += static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace detail

/// Fingerprint of one input file. quick: size + hash of the first and last MiB (two preads);
/// full: size + hash of every byte (mmap).
[[nodiscard]] inline result<source_fingerprint> try_fingerprint_file(
    const std::string& path, fingerprint_mode mode = fingerprint_mode::quick) {
  source_fingerprint fp;
  fp.path = path;
  fp.mode = mode;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return detail::cache_error(errc::io_open, path,
                               std::string("cannot stat source file: ") + std::strerror(errno));
  }
  fp.size = static_cast<std::uint64_t>(st.st_size);
  fp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  if (mode == fingerprint_mode::full) {
    auto m = detail::mapped_file::try_open(path);
    if (!m) return std::move(m).error();
    fp.hash = detail::hash64(m->data(), m->size(), fp.size);
    return fp;
  }
  constexpr std::uint64_t piece = 1u << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return detail::cache_error(errc::io_open, path,
                               std::string("cannot open source file: ") + std::strerror(errno));
  }
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(fp.size, 2 * piece)));
  bool ok = true;
  if (fp.size <= 2 * piece) {
    ok = detail::pread_all(fd, buf.data(), buf.size(), 0);
  } else {
    ok = detail::pread_all(fd, buf.data(), piece, 0) &&
         detail::pread_all(fd, buf.data() + piece, piece, fp.size - piece);
  }
  const int read_errno = errno;
  ::close(fd);
  if (!ok) {
    return detail::cache_error(
        errc::io_read, path,
        std::string("cannot read source file: ") +
            (read_errno ? std::strerror(read_errno) : "it shrank while being read"));
  }
  fp.hash = detail::hash64(buf.data(), buf.size(), fp.size);
  return fp;
}

/// Fingerprint of a whole preparation: every input file, the class list and the settings.
[[nodiscard]] inline result<cache_fingerprint> try_make_fingerprint(
    const std::vector<std::string>& source_paths, const std::vector<class_info>& classes,
    std::string settings = {}, fingerprint_mode mode = fingerprint_mode::quick) {
  cache_fingerprint fp;
  for (const auto& p : source_paths) {
    auto s = try_fingerprint_file(p, mode);
    if (!s) return std::move(s).error();
    fp.sources.push_back(std::move(*s));
  }
  fp.class_list_hash = hash_class_list(classes);
  fp.settings = std::move(settings);
  return fp;
}

// ---- Format internals ----------------------------------------------------------------------
namespace detail {

enum class cache_section : std::uint32_t {
  classes = 1,
  images = 2,
  boxes = 3,
  strings = 4,
  sources = 5
};
constexpr std::uint32_t cache_section_count = 5;

constexpr const char* cache_section_name(std::uint32_t type) {
  switch (type) {
    case 1:
      return "classes";
    case 2:
      return "images";
    case 3:
      return "boxes";
    case 4:
      return "strings";
    case 5:
      return "sources";
  }
  return "unknown";
}

constexpr char cache_magic[8] = {'D', 'E', 'T', 'K', 'I', 'T', 'L', 'C'};
constexpr std::uint32_t cache_endian_mark = 0x01020304u;
constexpr std::uint32_t cache_hash_block_bytes = 1u << 20;
constexpr std::uint64_t cache_alignment = 64;

struct cache_header {
  char magic[8];
  std::uint32_t format_version;
  std::uint32_t endian_mark;
  std::uint32_t header_bytes;
  std::uint32_t section_entry_bytes;
  std::uint32_t class_entry_bytes;
  std::uint32_t image_entry_bytes;
  std::uint32_t box_entry_bytes;
  std::uint32_t source_entry_bytes;
  std::uint32_t section_count;
  std::uint32_t hash_block_bytes;
  std::uint64_t file_size;
  std::uint64_t class_list_hash;
  std::uint64_t payload_checksum;
  std::uint64_t header_checksum;
  cached_string settings;
  std::uint8_t reserved[40];
};
struct cache_section_entry {
  std::uint32_t type;
  std::uint32_t reserved;
  std::uint64_t offset;
  std::uint64_t bytes;
  std::uint64_t count;
  std::uint64_t checksum;
};
static_assert(sizeof(cache_header) == 128, "label cache layout");
static_assert(offsetof(cache_header, header_checksum) == 72, "label cache layout");
static_assert(offsetof(cache_header, settings) == 80, "label cache layout");
static_assert(sizeof(cache_section_entry) == 40, "label cache layout");

/// header_checksum: hash64 of the header and section table with the checksum field zeroed.
constexpr std::size_t cache_head_bytes = 128 + 5 * 40;  // header + table of version 1
inline std::uint64_t cache_header_checksum(const unsigned char* p) {
  unsigned char copy[cache_head_bytes];
  std::memcpy(copy, p, cache_head_bytes);
  std::memset(copy + offsetof(cache_header, header_checksum), 0, 8);
  return hash64(copy, cache_head_bytes, 0x6865616465720001ULL);
}
static_assert(sizeof(cache_header) + cache_section_count * sizeof(cache_section_entry) ==
                  cache_head_bytes,
              "label cache layout");

inline std::uint64_t cache_block_hash(const void* p, std::size_t n, std::uint64_t block_index) {
  return hash64(p, n, block_index);
}
inline std::uint64_t cache_section_checksum(const std::vector<std::uint64_t>& block_hashes,
                                            std::uint32_t type) {
  return hash64(block_hashes.data(), block_hashes.size() * 8, type);
}
inline std::uint64_t cache_payload_checksum(const cache_section_entry* table, std::uint32_t n) {
  std::uint64_t h = 0x7061796c6f616401ULL;
  for (std::uint32_t i = 0; i < n; ++i) h = hash_combine(h, table[i].checksum);
  return h;
}

inline std::string cache_hex(const unsigned char* p, std::uint64_t n) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return n ? out : std::string("nothing");
}

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

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

// Streams a section's bytes in hash_block_bytes blocks, either hashing them (pass 1 of the
// writer, to fill the section table) or writing them (pass 2). Two passes keep memory flat: the
// 14.6M-box train cache is never held twice.
class cache_block_sink {
 public:
  enum class mode { hash, write };
  cache_block_sink(mode m, atomic_file* out) : mode_(m), out_(out) { buf_.reserve(block_); }

  void begin_section() {
    block_index_ = 0;
    hashes_.clear();
    buf_.clear();
    bytes_ = 0;
  }
  void append(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    bytes_ += n;
    while (n > 0) {
      const std::size_t take = std::min(n, block_ - buf_.size());
      buf_.insert(buf_.end(), c, c + take);
      c += take;
      n -= take;
      if (buf_.size() == block_) flush();
    }
  }
  // Returns the section checksum (hash mode).
  std::uint64_t end_section(std::uint32_t type) {
    if (!buf_.empty()) flush();
    return cache_section_checksum(hashes_, type);
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void flush() {
    if (mode_ == mode::hash) {
      hashes_.push_back(cache_block_hash(buf_.data(), buf_.size(), block_index_));
    } else {
      out_->write(buf_.data(), buf_.size());
    }
    ++block_index_;
    buf_.clear();
  }
  mode mode_;
  atomic_file* out_;
  std::size_t block_ = cache_hash_block_bytes;
  std::vector<char> buf_;
  std::vector<std::uint64_t> hashes_;
  std::uint64_t block_index_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace detail

// ---- Writer --------------------------------------------------------------------------------

/// Writes `labels` and the fingerprint of what they came from to `path` as a label cache, through
/// a temp file renamed into place (atomic_file): a failure never leaves a partial cache.
/// Errors: io_write (disk, permissions), usage (a string pool over 4 GiB, a class list hash
/// that does not match the label_set), oi_bad_box (a box the reader would refuse: category id out
/// of range, a flag not -1/0/1, NaN/inf coordinates).
///
///     auto fp = detkit::try_make_fingerprint({"train-annotations-bbox.csv"}, labels.classes);
///     if (auto r = detkit::try_write_label_cache("train.dkc", labels, *fp); !r) ...
[[nodiscard]] inline result<void> try_write_label_cache(const std::string& path,
                                                        const label_set& labels,
                                                        const cache_fingerprint& fingerprint) {
  using namespace detail;
  auto fail = [&](errc code, std::string msg) { return cache_error(code, path, std::move(msg)); };
  const std::uint64_t class_hash = hash_class_list(labels.classes);
  if (fingerprint.class_list_hash != 0 && fingerprint.class_list_hash != class_hash) {
    return fail(errc::usage,
                "the fingerprint's class list hash differs from the label set's classes: make "
                "the fingerprint from the same class list");
  }
  if (labels.classes.size() > 0x7fffffffu) return fail(errc::usage, "too many classes");

  // String pool, and the checks the reader will apply, done once here.
  std::string pool;
  auto add_string = [&](std::string_view s) {
    cached_string r{static_cast<std::uint32_t>(pool.size()), static_cast<std::uint32_t>(s.size())};
    pool.append(s.data(), s.size());
    return r;
  };
  constexpr std::uint64_t pool_limit = 0xffffffffu;
  std::vector<cached_class> classes;
  classes.reserve(labels.classes.size());
  for (const auto& c : labels.classes) {
    cached_class cc{};
    cc.mid = add_string(c.mid);
    cc.name = add_string(c.name);
    classes.push_back(cc);
  }
  std::uint64_t total_boxes = 0;
  const auto class_count = static_cast<std::int64_t>(labels.classes.size());
  std::uint64_t pool_need = pool.size();
  for (const auto& img : labels.images) {
    pool_need += img.image_id.size() + img.file_name.size();
    if (img.boxes.size() > 0xffffffffu)
      return fail(errc::usage, "more than 2^32 boxes in one image");
    if (img.size.width < 0 || img.size.height < 0) {
      return fail(errc::oi_bad_box, "image '" + img.image_id + "' has a negative size");
    }
    for (std::size_t b = 0; b < img.boxes.size(); ++b) {
      const label_box& box = img.boxes[b];
      cached_box cb{};
      cb.rel = box.rel;
      cb.abs = box.abs;
      if (box.category_id < 0 || box.category_id >= class_count) {
        return fail(errc::oi_bad_box, "image '" + img.image_id + "' box " + std::to_string(b) +
                                          ": category_id " + std::to_string(box.category_id) +
                                          " is outside the " + std::to_string(class_count) +
                                          " classes");
      }
      const box_flags& f = box.flags;
      if (!valid_flag(f.occluded) || !valid_flag(f.truncated) || !valid_flag(f.group_of) ||
          !valid_flag(f.depiction) || !valid_flag(f.inside)) {
        return fail(errc::oi_bad_box, "image '" + img.image_id + "' box " + std::to_string(b) +
                                          ": an attribute flag is not -1, 0 or 1");
      }
      if (!box_values_ok(cb)) {
        return fail(errc::oi_bad_box, "image '" + img.image_id + "' box " + std::to_string(b) +
                                          ": a coordinate is NaN or infinite");
      }
    }
    total_boxes += img.boxes.size();
  }
  for (const auto& s : fingerprint.sources) pool_need += s.path.size();
  pool_need += fingerprint.settings.size();
  if (pool_need > pool_limit) {
    return fail(errc::usage, "the string pool would hold " + std::to_string(pool_need) +
                                 " bytes, over the format's 4 GiB limit");
  }
  pool.reserve(static_cast<std::size_t>(pool_need));
  std::vector<cached_image> images;
  images.reserve(labels.images.size());
  std::uint64_t first_box = 0;
  for (const auto& img : labels.images) {
    cached_image ci{};
    ci.image_id_u64 = img.image_id_u64;
    ci.first_box = first_box;
    ci.image_id = add_string(img.image_id);
    ci.file_name = add_string(img.file_name);
    ci.width = img.size.width;
    ci.height = img.size.height;
    ci.box_count = static_cast<std::uint32_t>(img.boxes.size());
    images.push_back(ci);
    first_box += img.boxes.size();
  }
  std::vector<cached_source> sources;
  for (const auto& s : fingerprint.sources) {
    cached_source cs{};
    cs.size = s.size;
    cs.mtime_ns = s.mtime_ns;
    cs.hash = s.hash;
    cs.path = add_string(s.path);
    cs.mode = s.mode;
    sources.push_back(cs);
  }
  const cached_string settings = add_string(fingerprint.settings);

  // Layout.
  cache_header h{};
  std::memcpy(h.magic, cache_magic, 8);
  h.format_version = label_cache_format_version;
  h.endian_mark = cache_endian_mark;
  h.header_bytes = sizeof(cache_header);
  h.section_entry_bytes = sizeof(cache_section_entry);
  h.class_entry_bytes = sizeof(cached_class);
  h.image_entry_bytes = sizeof(cached_image);
  h.box_entry_bytes = sizeof(cached_box);
  h.source_entry_bytes = sizeof(cached_source);
  h.section_count = cache_section_count;
  h.hash_block_bytes = cache_hash_block_bytes;
  h.class_list_hash = class_hash;
  h.settings = settings;
  cache_section_entry table[cache_section_count] = {};
  const std::uint64_t counts[cache_section_count] = {classes.size(), images.size(), total_boxes,
                                                     pool.size(), sources.size()};
  const std::uint64_t sizes[cache_section_count] = {sizeof(cached_class), sizeof(cached_image),
                                                    sizeof(cached_box), 1, sizeof(cached_source)};
  std::uint64_t at = align_up(sizeof(cache_header) + sizeof(table), cache_alignment);
  for (std::uint32_t i = 0; i < cache_section_count; ++i) {
    table[i].type = i + 1;
    table[i].offset = at;
    table[i].count = counts[i];
    table[i].bytes = counts[i] * sizes[i];
    at = align_up(at + table[i].bytes, cache_alignment);
  }
  h.file_size = table[cache_section_count - 1].offset + table[cache_section_count - 1].bytes;

  // Both passes produce the same bytes; pass 1 hashes them, pass 2 writes them.
  auto produce = [&](cache_block_sink& sink, std::uint32_t type) {
    sink.begin_section();
    switch (type) {
      case 1:
        sink.append(classes.data(), classes.size() * sizeof(cached_class));
        break;
      case 2:
        sink.append(images.data(), images.size() * sizeof(cached_image));
        break;
      case 3:
        for (const auto& img : labels.images) {
          for (const auto& box : img.boxes) {
            cached_box cb{};
            cb.rel = box.rel;
            cb.abs = box.abs;
            cb.category_id = box.category_id;
            cb.occluded = box.flags.occluded;
            cb.truncated = box.flags.truncated;
            cb.group_of = box.flags.group_of;
            cb.depiction = box.flags.depiction;
            cb.inside = box.flags.inside;
            sink.append(&cb, sizeof cb);
          }
        }
        break;
      case 4:
        sink.append(pool.data(), pool.size());
        break;
      case 5:
        sink.append(sources.data(), sources.size() * sizeof(cached_source));
        break;
    }
    return sink.end_section(type);
  };
  {
    cache_block_sink hasher(cache_block_sink::mode::hash, nullptr);
    for (std::uint32_t i = 0; i < cache_section_count; ++i) {
      table[i].checksum = produce(hasher, i + 1);
    }
  }
  h.payload_checksum = cache_payload_checksum(table, cache_section_count);
  std::vector<unsigned char> head(sizeof(cache_header) + sizeof(table));
  std::memcpy(head.data(), &h, sizeof h);
  std::memcpy(head.data() + sizeof h, table, sizeof table);
  h.header_checksum = cache_header_checksum(head.data());
  std::memcpy(head.data() + offsetof(cache_header, header_checksum), &h.header_checksum, 8);

  atomic_file out;
  if (auto r = out.try_open(path); !r) return r;
  out.write(head.data(), head.size());
  std::uint64_t written = head.size();
  static const char zeros[cache_alignment] = {};
  cache_block_sink writer(cache_block_sink::mode::write, &out);
  for (std::uint32_t i = 0; i < cache_section_count; ++i) {
    out.write(zeros, static_cast<std::size_t>(table[i].offset - written));
    produce(writer, i + 1);
    written = table[i].offset + table[i].bytes;
  }
  return out.commit();
}

/// Throwing spelling of try_write_label_cache.
inline void write_label_cache(const std::string& path, const label_set& labels,
                              const cache_fingerprint& fingerprint) {
  try_write_label_cache(path, labels, fingerprint).value();
}

// ---- Reader --------------------------------------------------------------------------------

/// A read-only array inside the mapped cache.
template <class T>
class cache_view {
 public:
  cache_view() = default;
  cache_view(const T* data, std::size_t size) : data_(data), size_(size) {}
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  const T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// How much try_open checks.
enum class cache_verify {
  full,      // header, table, every section checksum, every entry (default; for any file on disk)
  structure  // header, table and image entries only: no checksums, box values not checked.
             // For a cache this process just wrote. Views stay in bounds either way.
};

struct cache_open_options {
  cache_verify verify = cache_verify::full;
  unsigned threads = 0;  // checksum threads; 0 = all cores
};

/// An opened label cache: the mapping plus validated views into it. Movable; views stay valid
/// while the label_cache lives (the mapping does not move).
///
///     auto cache = detkit::label_cache::try_open("train.dkc");
///     if (!cache) { std::cerr << cache.error().to_string() << '\n'; return 1; }
///     for (const detkit::cached_image& img : cache->images())
///       for (const detkit::cached_box& b : cache->boxes_of(img)) use(b.abs, b.category_id);
class label_cache {
 public:
  [[nodiscard]] static result<label_cache> try_open(const std::string& path,
                                                    const cache_open_options& options = {});
  static label_cache open(const std::string& path, const cache_open_options& options = {}) {
    return try_open(path, options).value();
  }

  cache_view<cached_class> classes() const noexcept { return classes_; }
  cache_view<cached_image> images() const noexcept { return images_; }
  cache_view<cached_box> boxes() const noexcept { return boxes_; }
  cache_view<cached_box> boxes_of(const cached_image& img) const noexcept {
    return {boxes_.data() + img.first_box, img.box_count};
  }
  cache_view<cached_box> boxes_of(std::size_t image_index) const noexcept {
    return boxes_of(images_[image_index]);
  }

  std::string_view string(cached_string s) const noexcept {
    return {strings_ + s.offset, s.length};
  }
  std::string_view image_id(const cached_image& img) const noexcept { return string(img.image_id); }
  std::string_view file_name(const cached_image& img) const noexcept {
    return string(img.file_name);
  }
  static image_size size_of(const cached_image& img) noexcept { return {img.width, img.height}; }
  std::string_view class_mid(const cached_class& c) const noexcept { return string(c.mid); }
  std::string_view class_name(const cached_class& c) const noexcept { return string(c.name); }
  std::string_view settings() const noexcept { return string(header().settings); }
  std::uint64_t class_list_hash() const noexcept { return header().class_list_hash; }
  std::uint64_t payload_checksum() const noexcept { return header().payload_checksum; }
  std::uint64_t file_size() const noexcept { return map_.size(); }
  const std::string& path() const noexcept { return path_; }

  /// The fingerprint stored when the cache was written.
  cache_fingerprint fingerprint() const {
    cache_fingerprint fp;
    for (const cached_source& s : sources_) {
      fp.sources.push_back({std::string(string(s.path)), s.size, s.mtime_ns, s.hash, s.mode});
    }
    fp.class_list_hash = class_list_hash();
    fp.settings = std::string(settings());
    return fp;
  }

  /// Checks that the cache was built from the inputs described by `current` (typically
  /// try_make_fingerprint of today's files and class list); errc::cache_stale says what differs.
  [[nodiscard]] result<void> verify_sources(const cache_fingerprint& current) const {
    const std::string rebuild = ": rebuild the cache with detkit-prepare";
    auto stale = [&](std::string msg) {
      return detail::cache_error(errc::cache_stale, path_, std::move(msg) + rebuild);
    };
    if (current.sources.size() != sources_.size()) {
      return stale("the cache was built from " + std::to_string(sources_.size()) +
                   " source file(s), now " + std::to_string(current.sources.size()) + " are given");
    }
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      const cached_source& old = sources_[i];
      const source_fingerprint& now = current.sources[i];
      const std::string name = "source '" + now.path + "'";
      const std::string was = std::string(string(old.path)) == now.path
                                  ? std::string()
                                  : " (built from '" + std::string(string(old.path)) + "')";
      if (old.mode != now.mode) {
        return stale(name + was + ": fingerprinted with another mode (quick vs full)");
      }
      if (old.size != now.size) {
        return stale(name + was + " changed since the cache was written (size " +
                     std::to_string(old.size) + " -> " + std::to_string(now.size) + " bytes)");
      }
      if (old.hash != now.hash) {
        return stale(name + was + " changed since the cache was written (same size, " +
                     std::to_string(now.size) + " bytes, but the content hash differs)");
      }
    }
    if (current.class_list_hash != class_list_hash()) {
      return stale("the class list differs from the one the cache was built with (" +
                   std::to_string(classes_.size()) + " classes in the cache)");
    }
    if (current.settings != settings()) {
      return stale("the settings differ (cache: '" + std::string(settings()) + "', now: '" +
                   current.settings + "')");
    }
    return {};
  }

  /// Copies everything into an ordinary label_set (allocates; the views do not).
  label_set to_label_set() const {
    label_set out;
    out.classes.reserve(classes_.size());
    for (const cached_class& c : classes_) {
      out.classes.push_back({std::string(class_mid(c)), std::string(class_name(c))});
    }
    out.images.resize(images_.size());
    for (std::size_t i = 0; i < images_.size(); ++i) {
      const cached_image& ci = images_[i];
      image_record& r = out.images[i];
      r.image_id = std::string(image_id(ci));
      r.image_id_u64 = ci.image_id_u64;
      r.file_name = std::string(file_name(ci));
      r.size = size_of(ci);
      r.boxes.reserve(ci.box_count);
      for (const cached_box& b : boxes_of(ci)) {
        label_box lb;
        lb.rel = b.rel;
        lb.abs = b.abs;
        lb.category_id = b.category_id;
        lb.flags = {b.occluded, b.truncated, b.group_of, b.depiction, b.inside};
        r.boxes.push_back(lb);
      }
    }
    return out;
  }

 private:
  label_cache() = default;
  const detail::cache_header& header() const noexcept {
    return *reinterpret_cast<const detail::cache_header*>(map_.data());
  }

  std::string path_;
  detail::mapped_file map_;
  cache_view<cached_class> classes_;
  cache_view<cached_image> images_;
  cache_view<cached_box> boxes_;
  cache_view<cached_source> sources_;
  const char* strings_ = "";
  std::uint64_t strings_size_ = 0;
};

namespace detail {

// Work of one checksum thread: a contiguous run of (section, block) pairs.
struct cache_block_job {
  std::uint32_t section;  // index into the table
  std::uint64_t block;
};

struct cache_scan_result {
  bool failed = false;
  std::uint64_t offset = ~std::uint64_t{0};
  std::string message;
  void fail(std::uint64_t at, std::string msg) {
    if (!failed || at < offset) {
      failed = true;
      offset = at;
      message = std::move(msg);
    }
  }
};

}  // namespace detail

inline result<label_cache> label_cache::try_open(const std::string& path,
                                                 const cache_open_options& options) {
  using namespace detail;
  const std::string rebuild = ": rebuild the cache with detkit-prepare";
  auto m = mapped_file::try_open(path, map_advice::sequential);
  if (!m) return std::move(m).error();
  const auto* p = reinterpret_cast<const unsigned char*>(m->data());
  const std::uint64_t size = m->size();

  // 1. Identity: magic, byte order, version — in that order, because a swapped file's version
  //    reads as garbage and a newer version may have another header.
  if (size < 16) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, 8));
    if (size == 0 || std::memcmp(p, cache_magic, n) == 0) {
      return cache_error_at(errc::cache_truncated, path, size,
                            "file is truncated: " + std::to_string(size) +
                                " bytes, too short for the 128-byte header" + rebuild);
    }
  }
  if (size < 8 || std::memcmp(p, cache_magic, 8) != 0) {
    return cache_error_at(errc::cache_bad_magic, path, 0,
                          "not a detkit label cache: starts with " +
                              cache_hex(p, std::min<std::uint64_t>(size, 8)) +
                              " instead of \"DETKITLC\"; give the .dkc file written by "
                              "detkit-prepare");
  }
  std::uint32_t mark, version;
  std::memcpy(&version, p + 8, 4);
  std::memcpy(&mark, p + 12, 4);
  if (mark != cache_endian_mark) {
    if (mark == __builtin_bswap32(cache_endian_mark)) {
      return cache_error_at(errc::cache_endianness, path, 12,
                            "byte order differs: the cache was written on a machine of the other "
                            "endianness; rebuild the cache on this machine with detkit-prepare");
    }
    return cache_error_at(errc::cache_corrupt, path, 12,
                          "endianness mark is " + std::to_string(mark) + ", expected " +
                              std::to_string(cache_endian_mark) + ": the header is damaged" +
                              rebuild);
  }
  if (version > label_cache_format_version) {
    return cache_error_at(errc::cache_version, path, 8,
                          "written by a newer detkit (file=" + std::to_string(version) +
                              ", library=" + std::to_string(label_cache_format_version) +
                              "): upgrade detkit, or rebuild the cache with this version's "
                              "detkit-prepare");
  }
  if (version < label_cache_format_version) {
    return cache_error_at(errc::cache_version, path, 8,
                          "version mismatch (file=" + std::to_string(version) + ", library=" +
                              std::to_string(label_cache_format_version) + ")" + rebuild);
  }

  // 2. Header and section table present and intact.
  if (size < sizeof(cache_header)) {
    return cache_error_at(errc::cache_truncated, path, size,
                          "file is truncated at byte " + std::to_string(size) +
                              ", inside the 128-byte header" + rebuild);
  }
  cache_header h;
  std::memcpy(&h, p, sizeof h);
  auto layout_error = [&](const char* what, std::uint32_t in_file, std::size_t ours,
                          std::uint64_t at) {
    return cache_error_at(
        errc::cache_layout, path, at,
        std::string("stored type sizes differ (") + what + ": file=" + std::to_string(in_file) +
            ", library=" + std::to_string(ours) +
            "): the cache was written by an incompatible build of detkit" + rebuild);
  };
  if (h.header_bytes != sizeof(cache_header)) {
    return layout_error("header", h.header_bytes, sizeof(cache_header), 16);
  }
  if (h.section_count != cache_section_count) {
    return cache_error_at(errc::cache_corrupt, path, 40,
                          "the header lists " + std::to_string(h.section_count) +
                              " sections, format version 1 has " +
                              std::to_string(cache_section_count) + rebuild);
  }
  const std::uint64_t head_bytes =
      sizeof(cache_header) + cache_section_count * sizeof(cache_section_entry);
  if (size < head_bytes) {
    return cache_error_at(errc::cache_truncated, path, size,
                          "file is truncated at byte " + std::to_string(size) +
                              ", inside the section table (ends at byte " +
                              std::to_string(head_bytes) + ")" + rebuild);
  }
  if (cache_header_checksum(p) != h.header_checksum) {
    return cache_error_at(errc::cache_checksum, path, 0,
                          "header checksum mismatch in bytes 0.." + std::to_string(head_bytes) +
                              ": the header or section table is damaged" + rebuild);
  }
  if (h.section_entry_bytes != sizeof(cache_section_entry))
    return layout_error("section entry", h.section_entry_bytes, sizeof(cache_section_entry), 20);
  if (h.class_entry_bytes != sizeof(cached_class))
    return layout_error("class entry", h.class_entry_bytes, sizeof(cached_class), 24);
  if (h.image_entry_bytes != sizeof(cached_image))
    return layout_error("image entry", h.image_entry_bytes, sizeof(cached_image), 28);
  if (h.box_entry_bytes != sizeof(cached_box))
    return layout_error("box entry", h.box_entry_bytes, sizeof(cached_box), 32);
  if (h.source_entry_bytes != sizeof(cached_source))
    return layout_error("source entry", h.source_entry_bytes, sizeof(cached_source), 36);
  if (size < h.file_size) {
    return cache_error_at(errc::cache_truncated, path, size,
                          "file is truncated: " + std::to_string(size) + " of " +
                              std::to_string(h.file_size) +
                              " bytes present (the write was interrupted or the copy is "
                              "incomplete)" +
                              rebuild);
  }
  if (size > h.file_size) {
    return cache_error_at(errc::cache_corrupt, path, h.file_size,
                          std::to_string(size - h.file_size) +
                              " unexpected bytes after the end of the cache (byte " +
                              std::to_string(h.file_size) + ")" + rebuild);
  }
  if (h.hash_block_bytes < 4096 || h.hash_block_bytes > (64u << 20) ||
      (h.hash_block_bytes & (h.hash_block_bytes - 1)) != 0) {
    return cache_error_at(errc::cache_corrupt, path, 44,
                          "hash block size " + std::to_string(h.hash_block_bytes) +
                              " is not a power of two in [4 KiB, 64 MiB]" + rebuild);
  }

  // 3. Section table: every section once, aligned, inside the file, sized by its entries.
  cache_section_entry table[cache_section_count];
  std::memcpy(table, p + sizeof(cache_header), sizeof table);
  const std::uint64_t entry_size[cache_section_count] = {
      sizeof(cached_class), sizeof(cached_image), sizeof(cached_box), 1, sizeof(cached_source)};
  const cache_section_entry* by_type[cache_section_count + 1] = {};
  for (std::uint32_t i = 0; i < cache_section_count; ++i) {
    const cache_section_entry& s = table[i];
    const std::uint64_t at = sizeof(cache_header) + i * sizeof(cache_section_entry);
    auto bad = [&](const std::string& why) {
      return cache_error_at(errc::cache_corrupt, path, at,
                            "section table entry " + std::to_string(i) + " (" +
                                cache_section_name(s.type) + "): " + why + rebuild);
    };
    if (s.type < 1 || s.type > cache_section_count)
      return bad("unknown section type " + std::to_string(s.type));
    if (by_type[s.type]) return bad("the section appears twice");
    by_type[s.type] = &s;
    if (s.offset % cache_alignment != 0)
      return bad("offset " + std::to_string(s.offset) + " is not 64-byte aligned");
    if (s.offset < head_bytes || s.offset > h.file_size || s.bytes > h.file_size - s.offset) {
      return bad("bytes " + std::to_string(s.offset) + "+" + std::to_string(s.bytes) +
                 " fall outside the header..end of file (" + std::to_string(h.file_size) + ")");
    }
    const std::uint64_t es = entry_size[s.type - 1];
    if (s.count > s.bytes / es || s.count * es != s.bytes) {
      return bad(std::to_string(s.bytes) + " bytes do not hold " + std::to_string(s.count) +
                 " entries of " + std::to_string(es) + " bytes");
    }
  }
  {  // no two sections overlap
    const cache_section_entry* order[cache_section_count];
    for (std::uint32_t i = 0; i < cache_section_count; ++i) order[i] = &table[i];
    std::sort(order, order + cache_section_count,
              [](const cache_section_entry* a, const cache_section_entry* b) {
                return a->offset < b->offset;
              });
    for (std::uint32_t i = 1; i < cache_section_count; ++i) {
      if (order[i]->offset < order[i - 1]->offset + order[i - 1]->bytes) {
        return cache_error_at(errc::cache_corrupt, path, order[i]->offset,
                              std::string("sections '") + cache_section_name(order[i - 1]->type) +
                                  "' and '" + cache_section_name(order[i]->type) + "' overlap" +
                                  rebuild);
      }
    }
    // Padding is not covered by a section checksum, so it must be zero: no byte goes unchecked.
    std::uint64_t gap_from = head_bytes;
    for (std::uint32_t i = 0; i <= cache_section_count; ++i) {
      const std::uint64_t gap_to = i < cache_section_count ? order[i]->offset : h.file_size;
      for (std::uint64_t b = gap_from; b < gap_to; ++b) {
        if (p[b] != 0) {
          return cache_error_at(errc::cache_corrupt, path, b,
                                "non-zero padding byte between sections" + rebuild);
        }
      }
      if (i < cache_section_count) gap_from = order[i]->offset + order[i]->bytes;
    }
  }
  if (cache_payload_checksum(table, cache_section_count) != h.payload_checksum) {
    return cache_error_at(errc::cache_checksum, path, 64,
                          "payload checksum does not match the section checksums" + rebuild);
  }

  label_cache c;
  c.path_ = path;
  const char* base = m->data();
  auto sec = [&](cache_section t) -> const cache_section_entry& {
    return *by_type[static_cast<std::uint32_t>(t)];
  };
  c.classes_ = {reinterpret_cast<const cached_class*>(base + sec(cache_section::classes).offset),
                static_cast<std::size_t>(sec(cache_section::classes).count)};
  c.images_ = {reinterpret_cast<const cached_image*>(base + sec(cache_section::images).offset),
               static_cast<std::size_t>(sec(cache_section::images).count)};
  c.boxes_ = {reinterpret_cast<const cached_box*>(base + sec(cache_section::boxes).offset),
              static_cast<std::size_t>(sec(cache_section::boxes).count)};
  c.sources_ = {reinterpret_cast<const cached_source*>(base + sec(cache_section::sources).offset),
                static_cast<std::size_t>(sec(cache_section::sources).count)};
  c.strings_ = base + sec(cache_section::strings).offset;
  c.strings_size_ = sec(cache_section::strings).bytes;
  const std::uint64_t pool = c.strings_size_;
  auto str_ok = [&](cached_string s) { return std::uint64_t{s.offset} + s.length <= pool; };
  auto str_msg = [&](cached_string s) {
    return "string (offset " + std::to_string(s.offset) + ", length " + std::to_string(s.length) +
           ") outside the " + std::to_string(pool) + "-byte string pool";
  };

  // 4. One pass over the payload: block checksums and entry checks, on all cores.
  const bool checksums = options.verify == cache_verify::full;
  std::vector<cache_block_job> jobs;
  std::vector<std::vector<std::uint64_t>> block_hashes(cache_section_count);
  const std::uint64_t block = h.hash_block_bytes;
  for (std::uint32_t i = 0; i < cache_section_count; ++i) {
    const std::uint64_t n = (table[i].bytes + block - 1) / block;
    const bool scan =
        checksums || table[i].type == static_cast<std::uint32_t>(cache_section::images);
    if (!scan) continue;
    block_hashes[i].resize(static_cast<std::size_t>(n));
    for (std::uint64_t b = 0; b < n; ++b) jobs.push_back({i, b});
  }
  const std::uint64_t class_count = c.classes_.size();
  const std::uint64_t box_count = c.boxes_.size();
  auto run_jobs = [&](std::size_t begin, std::size_t end, cache_scan_result& res) {
    for (std::size_t j = begin; j < end; ++j) {
      const cache_section_entry& s = table[jobs[j].section];
      const std::uint64_t lo = jobs[j].block * block;
      const std::uint64_t hi = std::min(lo + block, s.bytes);
      if (checksums) {
        block_hashes[jobs[j].section][static_cast<std::size_t>(jobs[j].block)] = cache_block_hash(
            base + s.offset + lo, static_cast<std::size_t>(hi - lo), jobs[j].block);
      }
      // Entries that start inside this block (their tail may be in the next one).
      if (s.type == static_cast<std::uint32_t>(cache_section::images)) {
        const std::uint64_t first = (lo + sizeof(cached_image) - 1) / sizeof(cached_image);
        const std::uint64_t last = std::min<std::uint64_t>(
            (hi + sizeof(cached_image) - 1) / sizeof(cached_image), s.count);
        for (std::uint64_t i = first; i < last; ++i) {
          const cached_image& img = c.images_[static_cast<std::size_t>(i)];
          const std::uint64_t at = s.offset + i * sizeof(cached_image);
          const std::uint64_t expect_first =
              i == 0 ? 0
                     : c.images_[static_cast<std::size_t>(i - 1)].first_box +
                           c.images_[static_cast<std::size_t>(i - 1)].box_count;
          if (!str_ok(img.image_id) || !str_ok(img.file_name)) {
            res.fail(at, "image " + std::to_string(i) + ": " +
                             str_msg(str_ok(img.image_id) ? img.file_name : img.image_id));
          } else if (img.first_box != expect_first || img.first_box > box_count ||
                     img.box_count > box_count - img.first_box) {
            res.fail(at, "image " + std::to_string(i) + ": boxes " + std::to_string(img.first_box) +
                             "+" + std::to_string(img.box_count) +
                             " do not continue the previous image's or exceed the " +
                             std::to_string(box_count) + " boxes");
          } else if (img.width < 0 || img.height < 0) {
            res.fail(at, "image " + std::to_string(i) + ": negative size");
          } else if (i + 1 == s.count && img.first_box + img.box_count != box_count) {
            res.fail(at, "the images cover " + std::to_string(img.first_box + img.box_count) +
                             " boxes, the boxes section holds " + std::to_string(box_count));
          }
        }
      } else if (checksums && s.type == static_cast<std::uint32_t>(cache_section::boxes)) {
        const std::uint64_t first = (lo + sizeof(cached_box) - 1) / sizeof(cached_box);
        const std::uint64_t last =
            std::min<std::uint64_t>((hi + sizeof(cached_box) - 1) / sizeof(cached_box), s.count);
        const auto cc32 =
            static_cast<std::uint32_t>(std::min<std::uint64_t>(class_count, 0x7fffffffu));
        if (last <= first ||
            boxes_bad(c.boxes_.data() + first, static_cast<std::size_t>(last - first), cc32) == 0) {
          continue;
        }
        for (std::uint64_t i = first; i < last; ++i) {  // find the first bad one, for the message
          const cached_box& b = c.boxes_[static_cast<std::size_t>(i)];
          if (boxes_bad(&b, 1, cc32) == 0) continue;
          res.fail(s.offset + i * sizeof(cached_box),
                   "box " + std::to_string(i) + ": " + box_problem(b, class_count));
          break;
        }
      }
    }
  };
  unsigned threads = options.threads;
#ifdef DETKIT_NO_THREADS
  threads = 1;
#else
  if (threads == 0) threads = hardware_threads();
#endif
  // Small files are not worth a thread start (~20 µs).
  threads = static_cast<unsigned>(
      std::min<std::size_t>(threads, std::max<std::size_t>(1, jobs.size() / 4)));
  std::vector<cache_scan_result> results(threads);
#ifndef DETKIT_NO_THREADS
  auto share = [&](std::size_t t) {
    run_jobs(jobs.size() * t / threads, jobs.size() * (t + 1) / threads, results[t]);
  };
  run_on_threads(threads, share);
#else
  run_jobs(0, jobs.size(), results[0]);
#endif
  if (checksums) {
    for (std::uint32_t i = 0; i < cache_section_count; ++i) {
      if (cache_section_checksum(block_hashes[i], table[i].type) != table[i].checksum) {
        return cache_error_at(errc::cache_checksum, path, table[i].offset,
                              std::string("checksum mismatch in section '") +
                                  cache_section_name(table[i].type) + "' (bytes " +
                                  std::to_string(table[i].offset) + ".." +
                                  std::to_string(table[i].offset + table[i].bytes) +
                                  "): the file is damaged (disk or copy error)" + rebuild);
      }
    }
  }
  cache_scan_result first;
  for (auto& r : results) {
    if (r.failed) first.fail(r.offset, r.message);
  }
  if (first.failed)
    return cache_error_at(errc::cache_corrupt, path, first.offset, first.message + rebuild);

  // 5. The small sections.
  for (std::size_t i = 0; i < c.classes_.size(); ++i) {
    const cached_class& k = c.classes_[i];
    if (!str_ok(k.mid) || !str_ok(k.name)) {
      return cache_error_at(
          errc::cache_corrupt, path, sec(cache_section::classes).offset + i * sizeof(cached_class),
          "class " + std::to_string(i) + ": " + str_msg(str_ok(k.mid) ? k.name : k.mid) + rebuild);
    }
  }
  if (c.classes_.size() > 0x7fffffffu) {
    return cache_error_at(errc::cache_corrupt, path, sec(cache_section::classes).offset,
                          "too many classes" + rebuild);
  }
  for (std::size_t i = 0; i < c.sources_.size(); ++i) {
    const cached_source& s = c.sources_[i];
    if (!str_ok(s.path) ||
        (s.mode != fingerprint_mode::quick && s.mode != fingerprint_mode::full)) {
      return cache_error_at(
          errc::cache_corrupt, path, sec(cache_section::sources).offset + i * sizeof(cached_source),
          "source " + std::to_string(i) + ": bad path reference or fingerprint mode" + rebuild);
    }
  }
  if (!str_ok(h.settings)) {
    return cache_error_at(errc::cache_corrupt, path, 80,
                          "settings: " + str_msg(h.settings) + rebuild);
  }
  if (c.images_.empty() && box_count != 0) {
    return cache_error_at(errc::cache_corrupt, path, sec(cache_section::boxes).offset,
                          std::to_string(box_count) + " boxes but no images" + rebuild);
  }
  {
    std::vector<class_info> cls;
    for (const cached_class& k : c.classes_)
      cls.push_back({std::string(c.class_mid(k)), std::string(c.class_name(k))});
    if (hash_class_list(cls) != h.class_list_hash) {
      return cache_error_at(
          errc::cache_corrupt, path, 56,
          "the class list hash in the header does not match the stored classes" + rebuild);
    }
  }
  c.map_ = std::move(*m);
  return c;
}

DETKIT_END_NAMESPACE

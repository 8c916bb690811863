// detkit/label_cache_format.hpp — the label cache's on-disk layout: the stored entry types (views
// point straight at them in the mapping), the header and section table, the section and block
// checksums, and the fingerprint types. The byte-by-byte layout and the reasons for it are at the
// top of label_cache.hpp; the writer (label_cache_writer.hpp) and the reader
// (label_cache_reader.hpp) share everything here, so the two cannot disagree on a byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "detkit/detail/checksum.hpp"
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

}  // namespace detail

DETKIT_END_NAMESPACE

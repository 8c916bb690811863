// detkit/label_cache_reader.hpp — opens a label cache (format: label_cache.hpp): maps it, checks
// it stage by stage (identity, header, section table, payload, small sections) and hands out
// zero-copy views. Every stage fails with the byte offset and what to do, never with a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef DETKIT_NO_THREADS
#include "detkit/detail/run_on_threads.hpp"
#endif

#include "detkit/detail/label_cache_box_check.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"
#include "detkit/label_cache_format.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

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

inline const std::string& cache_rebuild_hint() {
  static const std::string hint = ": rebuild the cache with detkit-prepare";
  return hint;
}

/// The section table as read by read_cache_section_table: the entries in file order and, for
/// each section type, its entry. Not copyable (by_type points into entries).
struct cache_section_table {
  cache_section_entry entries[cache_section_count];
  const cache_section_entry* by_type[cache_section_count + 1] = {};

  cache_section_table() = default;
  cache_section_table(const cache_section_table&) = delete;
  cache_section_table& operator=(const cache_section_table&) = delete;
  const cache_section_entry& operator[](cache_section type) const {
    return *by_type[static_cast<std::uint32_t>(type)];
  }
};

/// The sections of a mapped cache as views (checked or not: see the stage that made them).
struct cache_sections {
  cache_view<cached_class> classes;
  cache_view<cached_image> images;
  cache_view<cached_box> boxes;
  cache_view<cached_source> sources;
  const char* strings = "";
  std::uint64_t strings_size = 0;

  std::string_view string(cached_string s) const noexcept { return {strings + s.offset, s.length}; }
};

/// Stage 1. Identity: magic, byte order, version — in that order, because a swapped file's
/// version reads as garbage and a newer version may have another header.
[[nodiscard]] inline result<void> check_cache_identity(const std::string& path,
                                                       const unsigned char* p, std::uint64_t size) {
  const std::string& rebuild = cache_rebuild_hint();
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
  return {};
}

/// Stage 2. Header and section table present and intact: sizes of the stored types, file size,
/// hash block size and the header checksum.
[[nodiscard]] inline result<cache_header> read_cache_header(const std::string& path,
                                                            const unsigned char* p,
                                                            std::uint64_t size) {
  const std::string& rebuild = cache_rebuild_hint();
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
  return h;
}

/// Stage 3. Section table: every section once, aligned, inside the file, sized by its entries,
/// no two overlapping, zero padding between them, and the payload checksum over the table.
[[nodiscard]] inline result<void> read_cache_section_table(const std::string& path,
                                                           const unsigned char* p,
                                                           const cache_header& h,
                                                           cache_section_table& section_table) {
  const std::string& rebuild = cache_rebuild_hint();
  const std::uint64_t head_bytes = cache_head_bytes;
  auto& table = section_table.entries;
  std::memcpy(table, p + sizeof(cache_header), sizeof table);
  const std::uint64_t entry_size[cache_section_count] = {
      sizeof(cached_class), sizeof(cached_image), sizeof(cached_box), 1, sizeof(cached_source)};
  auto& by_type = section_table.by_type;
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
  return {};
}

/// The views a checked section table describes (nothing is read).
inline cache_sections cache_sections_of(const char* base, const cache_section_table& t) {
  cache_sections c;
  c.classes = {reinterpret_cast<const cached_class*>(base + t[cache_section::classes].offset),
               static_cast<std::size_t>(t[cache_section::classes].count)};
  c.images = {reinterpret_cast<const cached_image*>(base + t[cache_section::images].offset),
              static_cast<std::size_t>(t[cache_section::images].count)};
  c.boxes = {reinterpret_cast<const cached_box*>(base + t[cache_section::boxes].offset),
             static_cast<std::size_t>(t[cache_section::boxes].count)};
  c.sources = {reinterpret_cast<const cached_source*>(base + t[cache_section::sources].offset),
               static_cast<std::size_t>(t[cache_section::sources].count)};
  c.strings = base + t[cache_section::strings].offset;
  c.strings_size = t[cache_section::strings].bytes;
  return c;
}

/// Stage 4. One pass over the payload: block checksums and entry checks (image string
/// references and box chain always; box values with cache_verify::full), on all cores. Of
/// several bad entries, the one at the lowest offset is reported.
[[nodiscard]] inline result<void> scan_cache_payload(const std::string& path, const char* base,
                                                     const cache_header& h,
                                                     const cache_section_table& section_table,
                                                     const cache_sections& c,
                                                     const cache_open_options& options) {
  const std::string& rebuild = cache_rebuild_hint();
  const auto& table = section_table.entries;
  const std::uint64_t pool = c.strings_size;
  auto str_ok = [&](cached_string s) { return std::uint64_t{s.offset} + s.length <= pool; };
  auto str_msg = [&](cached_string s) {
    return "string (offset " + std::to_string(s.offset) + ", length " + std::to_string(s.length) +
           ") outside the " + std::to_string(pool) + "-byte string pool";
  };
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
  const std::uint64_t class_count = c.classes.size();
  const std::uint64_t box_count = c.boxes.size();
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
          const cached_image& img = c.images[static_cast<std::size_t>(i)];
          const std::uint64_t at = s.offset + i * sizeof(cached_image);
          const std::uint64_t expect_first =
              i == 0 ? 0
                     : c.images[static_cast<std::size_t>(i - 1)].first_box +
                           c.images[static_cast<std::size_t>(i - 1)].box_count;
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
            boxes_bad(c.boxes.data() + first, static_cast<std::size_t>(last - first), cc32) == 0) {
          continue;
        }
        for (std::uint64_t i = first; i < last; ++i) {  // find the first bad one, for the message
          const cached_box& b = c.boxes[static_cast<std::size_t>(i)];
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
  return {};
}

/// Stage 5. The small sections: class and source string references, fingerprint modes, the
/// settings string, and the class list hash against the stored classes.
[[nodiscard]] inline result<void> check_cache_small_sections(
    const std::string& path, const cache_header& h, const cache_section_table& section_table,
    const cache_sections& c) {
  const std::string& rebuild = cache_rebuild_hint();
  const std::uint64_t box_count = c.boxes.size();
  const std::uint64_t pool = c.strings_size;
  auto str_ok = [&](cached_string s) { return std::uint64_t{s.offset} + s.length <= pool; };
  auto str_msg = [&](cached_string s) {
    return "string (offset " + std::to_string(s.offset) + ", length " + std::to_string(s.length) +
           ") outside the " + std::to_string(pool) + "-byte string pool";
  };
  for (std::size_t i = 0; i < c.classes.size(); ++i) {
    const cached_class& k = c.classes[i];
    if (!str_ok(k.mid) || !str_ok(k.name)) {
      return cache_error_at(
          errc::cache_corrupt, path,
          section_table[cache_section::classes].offset + i * sizeof(cached_class),
          "class " + std::to_string(i) + ": " + str_msg(str_ok(k.mid) ? k.name : k.mid) + rebuild);
    }
  }
  if (c.classes.size() > 0x7fffffffu) {
    return cache_error_at(errc::cache_corrupt, path, section_table[cache_section::classes].offset,
                          "too many classes" + rebuild);
  }
  for (std::size_t i = 0; i < c.sources.size(); ++i) {
    const cached_source& s = c.sources[i];
    if (!str_ok(s.path) ||
        (s.mode != fingerprint_mode::quick && s.mode != fingerprint_mode::full)) {
      return cache_error_at(
          errc::cache_corrupt, path,
          section_table[cache_section::sources].offset + i * sizeof(cached_source),
          "source " + std::to_string(i) + ": bad path reference or fingerprint mode" + rebuild);
    }
  }
  if (!str_ok(h.settings)) {
    return cache_error_at(errc::cache_corrupt, path, 80,
                          "settings: " + str_msg(h.settings) + rebuild);
  }
  if (c.images.empty() && box_count != 0) {
    return cache_error_at(errc::cache_corrupt, path, section_table[cache_section::boxes].offset,
                          std::to_string(box_count) + " boxes but no images" + rebuild);
  }
  {
    std::vector<class_info> cls;
    for (const cached_class& k : c.classes)
      cls.push_back({std::string(c.string(k.mid)), std::string(c.string(k.name))});
    if (hash_class_list(cls) != h.class_list_hash) {
      return cache_error_at(
          errc::cache_corrupt, path, 56,
          "the class list hash in the header does not match the stored classes" + rebuild);
    }
  }
  return {};
}

}  // namespace detail

inline result<label_cache> label_cache::try_open(const std::string& path,
                                                 const cache_open_options& options) {
  using namespace detail;
  auto m = mapped_file::try_open(path, map_advice::sequential);
  if (!m) return std::move(m).error();
  const auto* p = reinterpret_cast<const unsigned char*>(m->data());
  const std::uint64_t size = m->size();
  if (auto r = check_cache_identity(path, p, size); !r) return r.error();
  auto h = read_cache_header(path, p, size);
  if (!h) return std::move(h).error();
  cache_section_table table;
  if (auto r = read_cache_section_table(path, p, *h, table); !r) return r.error();
  const cache_sections s = cache_sections_of(m->data(), table);
  if (auto r = scan_cache_payload(path, m->data(), *h, table, s, options); !r) return r.error();
  if (auto r = check_cache_small_sections(path, *h, table, s); !r) return r.error();

  label_cache c;
  c.path_ = path;
  c.classes_ = s.classes;
  c.images_ = s.images;
  c.boxes_ = s.boxes;
  c.sources_ = s.sources;
  c.strings_ = s.strings;
  c.strings_size_ = s.strings_size;
  c.map_ = std::move(*m);
  return c;
}

DETKIT_END_NAMESPACE

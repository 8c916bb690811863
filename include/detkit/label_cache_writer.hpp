// detkit/label_cache_writer.hpp — writes a label_set and its fingerprint as a label cache (format:
// label_cache.hpp), in two streaming passes (hash, then write) through a temp file renamed into
// place, after checking every box as the reader will.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detkit/atomic_file.hpp"
#include "detkit/detail/label_cache_box_check.hpp"
#include "detkit/error.hpp"
#include "detkit/label_cache_format.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

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

DETKIT_END_NAMESPACE

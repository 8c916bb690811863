// detkit/coco_json.hpp — COCO instances (ground truth) and COCO results JSON readers.
//
// Mirrors what pycocotools' COCO(annotation_file) and COCO.loadRes(results) read for bbox
// evaluation, with simdjson's On-Demand parser. **This header needs simdjson**: link
// `simdjson::simdjson` (Debian libsimdjson-dev; find_package(simdjson)). coco_eval.hpp does not.
//
// Errors are located: file, line and byte column, the member name, and what was read, e.g.
//   dt.json:3:40: error: field 'score': expected a number [detkit.json.schema]
// Fields read (others are skipped):
//   GT:      images[{id, width?, height?, file_name?}], categories[{id, name?}],
//            annotations[{id, image_id, category_id, bbox:[x,y,w,h], area, iscrowd? (0/1/bool)}]
//   results: [{image_id, category_id, bbox:[x,y,w,h], score}]
// Ids must be JSON integers; numbers must be finite. An empty results list is valid (empty set).
#pragma once

#include <simdjson.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "detkit/coco_types.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/detail/parallel_for.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// How lenient the ground-truth reader is (see try_read_coco_ground_truth).
struct coco_read_options {
  eval_mode mode = eval_mode::pycocotools;
  std::function<void(const error&)> on_warning;  // called for each input it had to repair
};

namespace detail {

// Padded bytes for simdjson: the mapped file itself when the page tail has room for the padding,
// else a padded copy.
class json_source {
 public:
  [[nodiscard]] static result<json_source> try_open(const std::string& path) {
    auto mapped = mapped_file::try_open(path, map_advice::sequential);
    if (!mapped) return std::move(mapped).error();
    json_source s;
    s.map_ = std::move(*mapped);
    const std::size_t size = s.map_.size();
    const long page = ::sysconf(_SC_PAGESIZE);
    const std::size_t ps = page > 0 ? static_cast<std::size_t>(page) : 4096;
    const std::size_t tail = size % ps;
    if (size > 0 && tail != 0 && ps - tail >= simdjson::SIMDJSON_PADDING) {
      s.data_ = s.map_.data();  // bytes past EOF up to the page end read as zeros
      s.size_ = size;
      s.capacity_ = size + simdjson::SIMDJSON_PADDING;
    } else {
      s.copy_ = simdjson::padded_string(s.map_.data(), size);
      s.data_ = s.copy_.data();
      s.size_ = size;
      s.capacity_ = size + simdjson::SIMDJSON_PADDING;
    }
    return s;
  }
  static json_source from_memory(std::string_view text) {
    json_source s;
    s.copy_ = simdjson::padded_string(text.data(), text.size());
    s.data_ = s.copy_.data();
    s.size_ = text.size();
    s.capacity_ = text.size() + simdjson::SIMDJSON_PADDING;
    return s;
  }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  mapped_file map_;
  simdjson::padded_string copy_;
  const char* data_ = "";
  std::size_t size_ = 0, capacity_ = 0;
};

struct json_locator {
  const char* base;
  std::size_t size;
  const std::string* file;

  error at(const char* where, errc code, std::string message, std::string field = {}) const {
    error e = make_error(code, std::move(message), std::move(field));
    e.file = *file;
    std::size_t off = size;
    if (where && where >= base && where <= base + size)
      off = static_cast<std::size_t>(where - base);
    std::uint64_t line = 1, col = 1;
    for (std::size_t i = 0; i < off; ++i) {
      if (base[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    e.line = line;
    e.column = col;
    e.byte_offset = off;
    e.has_offset = true;
    return e;
  }
  template <class V>
  const char* where(V& v) const {
    const char* p = nullptr;
    if (v.current_location().get(p)) return base + size;
    return p;
  }
  error syntax(simdjson::error_code ec, const char* where_ptr) const {
    return at(where_ptr, errc::json_syntax,
              std::string("invalid JSON: ") + simdjson::error_message(ec));
  }
};

using ondemand_value = simdjson::ondemand::value;

// A scalar that fails to parse is not consumed, so its location is only looked up on error.
inline result<std::int64_t> json_int(const json_locator& loc, ondemand_value v, const char* field) {
  std::int64_t x = 0;
  if (auto ec = v.get_int64().get(x)) {
    const char* w = loc.where(v);
    if (ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_OUT_OF_RANGE)
      return loc.at(w, errc::json_schema, "expected an integer id", field);
    return loc.syntax(ec, w);
  }
  return x;
}

inline result<double> json_number(const json_locator& loc, ondemand_value v, const char* field) {
  double x = 0;
  if (auto ec = v.get_double().get(x)) {
    const char* w = loc.where(v);
    if (ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_OUT_OF_RANGE)
      return loc.at(w, errc::json_schema, "expected a number", field);
    return loc.syntax(ec, w);
  }
  // (simdjson refuses out-of-range literals such as 1e999 above; should one get through, the
  // location is just after it.)
  if (!std::isfinite(x))
    return loc.at(loc.where(v), errc::eval_bad_value, "number is not finite", field);
  return x;
}

inline result<coco_bbox> json_bbox(const json_locator& loc, ondemand_value v) {
  const char* w = loc.where(v);
  simdjson::ondemand::array arr;
  if (auto ec = v.get_array().get(arr)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(w, errc::json_schema, "expected an array [x, y, w, h]", "bbox");
    return loc.syntax(ec, w);
  }
  double xs[4] = {0, 0, 0, 0};
  std::size_t n = 0;
  for (auto el : arr) {
    ondemand_value ev;
    if (auto ec = std::move(el).get(ev)) return loc.syntax(ec, w);
    if (n >= 4) return loc.at(loc.where(ev), errc::json_schema, "more than 4 numbers", "bbox");
    auto x = json_number(loc, ev, "bbox");
    if (!x) return std::move(x).error();
    xs[n++] = *x;
  }
  if (n != 4)
    return loc.at(w, errc::json_schema, "expected 4 numbers, got " + std::to_string(n), "bbox");
  return coco_bbox{xs[0], xs[1], xs[2], xs[3]};
}

// Calls fn(object, start pointer) for each element of an array of objects.
template <class Fn>
result<void> for_each_object(const json_locator& loc, ondemand_value v, const char* field,
                             Fn&& fn) {
  const char* w = loc.where(v);
  simdjson::ondemand::array arr;
  if (auto ec = v.get_array().get(arr)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(w, errc::json_schema, "expected an array of objects", field);
    return loc.syntax(ec, w);
  }
  for (auto el : arr) {
    ondemand_value ev;
    if (auto ec = std::move(el).get(ev)) return loc.syntax(ec, w);
    const char* ow = loc.where(ev);
    simdjson::ondemand::object obj;
    if (auto ec = ev.get_object().get(obj)) {
      if (ec == simdjson::INCORRECT_TYPE)
        return loc.at(ow, errc::json_schema, "expected an object", field);
      return loc.syntax(ec, ow);
    }
    if (auto r = fn(obj, ow); !r) return r;
  }
  return {};
}

inline result<void> json_missing(const json_locator& loc, const char* where, unsigned have,
                                 unsigned need, const char* const* names, std::size_t count,
                                 const char* what) {
  for (std::size_t i = 0; i < count; ++i)
    if ((need & (1u << i)) && !(have & (1u << i)))
      return loc.at(where, errc::json_schema, std::string(what) + " has no member", names[i]);
  return {};
}

inline result<std::string> json_string(const json_locator& loc, ondemand_value v,
                                       const char* field) {
  std::string_view s;
  const char* w = loc.where(v);
  if (auto ec = v.get_string().get(s)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(w, errc::json_schema, "expected a string", field);
    return loc.syntax(ec, w);
  }
  return std::string(s);
}

inline result<coco_ground_truth> parse_coco_gt(const json_source& src, const std::string& name,
                                               const coco_read_options& opt = {}) {
  json_locator loc{src.data(), src.size(), &name};
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (auto ec = parser.iterate(src.data(), src.size(), src.capacity()).get(doc))
    return loc.syntax(ec, src.data());
  simdjson::ondemand::object root;
  if (auto ec = doc.get_object().get(root)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(src.data(), errc::json_schema,
                    "expected a COCO instances object {\"images\", \"annotations\", "
                    "\"categories\"}");
    return loc.syntax(ec, loc.where(doc));
  }
  coco_ground_truth gt;
  bool seen_images = false, seen_anns = false, seen_cats = false;
  for (auto fr : root) {
    simdjson::ondemand::field f;
    if (auto ec = std::move(fr).get(f)) return loc.syntax(ec, loc.where(doc));
    const auto key = f.key();
    if (key == "images") {
      seen_images = true;
      auto r = for_each_object(
          loc, f.value(), "images",
          [&](simdjson::ondemand::object& o, const char* ow) -> result<void> {
            coco_image im;
            bool has_id = false;
            for (auto mr : o) {
              simdjson::ondemand::field m;
              if (auto ec = std::move(mr).get(m)) return loc.syntax(ec, ow);
              const auto k = m.key();
              if (k == "id") {
                auto x = json_int(loc, m.value(), "id");
                if (!x) return std::move(x).error();
                im.id = *x;
                has_id = true;
              } else if (k == "width" || k == "height") {
                const bool is_w = k == "width";
                auto x = json_number(loc, m.value(), is_w ? "width" : "height");
                if (!x) return std::move(x).error();
                (is_w ? im.width : im.height) =
                    static_cast<std::int32_t>(std::min(std::max(*x, 0.0), 2147483647.0));
              } else if (k == "file_name") {
                auto s = json_string(loc, m.value(), "file_name");
                if (!s) return std::move(s).error();
                im.file_name = std::move(*s);
              }
            }
            if (!has_id) return loc.at(ow, errc::json_schema, "image has no member", "id");
            gt.images.push_back(std::move(im));
            return {};
          });
      if (!r) return r.error();
    } else if (key == "categories") {
      seen_cats = true;
      auto r =
          for_each_object(loc, f.value(), "categories",
                          [&](simdjson::ondemand::object& o, const char* ow) -> result<void> {
                            coco_category c;
                            bool has_id = false;
                            for (auto mr : o) {
                              simdjson::ondemand::field m;
                              if (auto ec = std::move(mr).get(m)) return loc.syntax(ec, ow);
                              const auto k = m.key();
                              if (k == "id") {
                                auto x = json_int(loc, m.value(), "id");
                                if (!x) return std::move(x).error();
                                c.id = *x;
                                has_id = true;
                              } else if (k == "name") {
                                auto s = json_string(loc, m.value(), "name");
                                if (!s) return std::move(s).error();
                                c.name = std::move(*s);
                              }
                            }
                            if (!has_id)
                              return loc.at(ow, errc::json_schema, "category has no member", "id");
                            gt.categories.push_back(std::move(c));
                            return {};
                          });
      if (!r) return r.error();
    } else if (key == "annotations") {
      seen_anns = true;
      auto r = for_each_object(
          loc, f.value(), "annotations",
          [&](simdjson::ondemand::object& o, const char* ow) -> result<void> {
            coco_annotation a;
            unsigned have = 0;
            for (auto mr : o) {
              simdjson::ondemand::field m;
              if (auto ec = std::move(mr).get(m)) return loc.syntax(ec, ow);
              const auto k = m.key();
              if (k == "id") {
                auto x = json_int(loc, m.value(), "id");
                if (!x) return std::move(x).error();
                a.id = *x;
                have |= 1u;
              } else if (k == "image_id") {
                auto x = json_int(loc, m.value(), "image_id");
                if (!x) return std::move(x).error();
                a.image_id = *x;
                have |= 2u;
              } else if (k == "category_id") {
                auto x = json_int(loc, m.value(), "category_id");
                if (!x) return std::move(x).error();
                a.category_id = *x;
                have |= 4u;
              } else if (k == "bbox") {
                auto b = json_bbox(loc, m.value());
                if (!b) return std::move(b).error();
                a.bbox = *b;
                have |= 8u;
              } else if (k == "area") {
                auto x = json_number(loc, m.value(), "area");
                if (!x) return std::move(x).error();
                a.area = *x;
                have |= 16u;
              } else if (k == "iscrowd") {
                ondemand_value v = m.value();
                const char* w = loc.where(v);
                bool bv = false;
                std::int64_t iv = 0;
                simdjson::ondemand::json_type jt;
                if (auto ec = v.type().get(jt)) return loc.syntax(ec, w);
                if (jt == simdjson::ondemand::json_type::boolean) {
                  if (auto ec = v.get_bool().get(bv)) return loc.syntax(ec, w);
                  a.iscrowd = bv;
                } else if (v.get_int64().get(iv) == simdjson::SUCCESS) {
                  a.iscrowd = iv != 0;
                } else {
                  return loc.at(w, errc::json_schema, "expected 0, 1 or a boolean", "iscrowd");
                }
              }
            }
            if (!(have & 16u) && (have & 8u) && opt.mode == eval_mode::fixed) {
              // fixed mode: a missing area is the box's (pycocotools: KeyError 'area').
              a.area = a.bbox.w * a.bbox.h;
              have |= 16u;
              if (opt.on_warning)
                opt.on_warning(loc.at(ow, errc::json_schema,
                                      "annotation has no member: area taken as bbox w*h", "area"));
            }
            static const char* const names[] = {"id", "image_id", "category_id", "bbox", "area"};
            if (auto r2 = json_missing(loc, ow, have, 31u, names, 5, "annotation"); !r2) return r2;
            gt.annotations.push_back(a);
            return {};
          });
      if (!r) return r.error();
    }
  }
  if (const char* rest = nullptr; !doc.current_location().get(rest))
    return loc.at(rest, errc::json_syntax, "trailing content after JSON");
  if (!seen_images) return loc.at(src.data(), errc::json_schema, "no member", "images");
  if (!seen_cats) return loc.at(src.data(), errc::json_schema, "no member", "categories");
  if (!seen_anns) return loc.at(src.data(), errc::json_schema, "no member", "annotations");
  return gt;
}

// One results entry {image_id, category_id, bbox, score} (other members are skipped).
inline result<void> parse_detection(const json_locator& loc, ondemand_value ev, coco_detection& d) {
  const char* ow = loc.where(ev);
  simdjson::ondemand::object o;
  if (auto ec = ev.get_object().get(o)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(ow, errc::json_schema, "expected a detection object");
    return loc.syntax(ec, ow);
  }
  unsigned have = 0;
  for (auto mr : o) {
    simdjson::ondemand::field m;
    if (auto ec = std::move(mr).get(m)) return loc.syntax(ec, ow);
    const auto k = m.key();
    if (k == "image_id") {
      auto x = json_int(loc, m.value(), "image_id");
      if (!x) return std::move(x).error();
      d.image_id = *x;
      have |= 1u;
    } else if (k == "category_id") {
      auto x = json_int(loc, m.value(), "category_id");
      if (!x) return std::move(x).error();
      d.category_id = *x;
      have |= 2u;
    } else if (k == "bbox") {
      auto b = json_bbox(loc, m.value());
      if (!b) return std::move(b).error();
      d.bbox = *b;
      have |= 4u;
    } else if (k == "score") {
      auto x = json_number(loc, m.value(), "score");
      if (!x) return std::move(x).error();
      d.score = *x;
      have |= 8u;
    }
  }
  static const char* const names[] = {"image_id", "category_id", "bbox", "score"};
  return json_missing(loc, ow, have, 15u, names, 4, "detection");
}

// The entries of one results array, appended to `out`.
inline result<void> parse_detection_array(simdjson::ondemand::parser& parser,
                                          const json_locator& loc, const char* text,
                                          std::size_t len, std::size_t capacity,
                                          std::vector<coco_detection>& out) {
  simdjson::ondemand::document doc;
  if (auto ec = parser.iterate(text, len, capacity).get(doc)) return loc.syntax(ec, text);
  simdjson::ondemand::array arr;
  if (auto ec = doc.get_array().get(arr)) {
    if (ec == simdjson::INCORRECT_TYPE)
      return loc.at(text, errc::json_schema,
                    "expected a COCO results list [{\"image_id\", \"category_id\", \"bbox\", "
                    "\"score\"}, ...]");
    return loc.syntax(ec, loc.where(doc));
  }
  for (auto el : arr) {
    ondemand_value ev;
    if (auto ec = std::move(el).get(ev)) return loc.syntax(ec, loc.where(doc));
    coco_detection d;
    if (auto r = parse_detection(loc, ev, d); !r) return r;
    out.push_back(d);
  }
  if (const char* rest = nullptr; !doc.current_location().get(rest))
    return loc.at(rest, errc::json_syntax, "trailing content after JSON");
  return {};
}

inline bool json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The first place in text[0, size) where a results array can be cut: a `}` SEP `{` whose
// separator SEP (one ',' and whitespace) is at least two bytes long, as json.dump's ", " and
// line-per-entry files have. Returns the offset of SEP's first byte (it becomes the ']' closing
// one chunk; SEP's last byte, stored in sep_last, becomes the '[' opening the next), or npos. A
// cut inside a string or a nested value leaves a chunk unbalanced, so a wrong guess fails the
// chunked parse (which then runs in one piece) rather than misreading anything.
inline std::size_t results_cut_in(const char* text, std::size_t size, std::size_t& sep_last) {
  for (std::size_t i = 0; i < size; ++i) {
    if (text[i] != '}') continue;
    std::size_t j = i + 1, commas = 0;
    for (; j < size && (json_space(text[j]) || text[j] == ','); ++j) commas += text[j] == ',';
    if (j < size && text[j] == '{' && commas == 1 && j - i - 1 >= 2) {
      sep_last = j - 1;
      return i + 1;
    }
  }
  return std::string::npos;
}

// Results files are parsed in chunks of about this size: simdjson indexes a whole document
// before reading it (4 bytes per structural character, about the file's size again), so a chunk
// at a time keeps that index small, and the chunks parse on several threads.
inline constexpr std::size_t results_chunk_bytes = std::size_t{16} << 20;

// Reads bytes [offset, offset + len) of the input into dst; false on a read error.
using byte_reader = std::function<bool(std::size_t offset, std::size_t len, char* dst)>;

// Parses a results array of `size` bytes in chunks read through `read` into per-thread buffers:
// chunk i is text[begin[i] .. end[i]] with its first byte (i > 0) turned into '[' and its last
// (all but the last chunk) into ']', i.e. an array of whole entries. Returns false, with `out`
// empty, when the text cannot be cut or a chunk does not parse: the caller then parses the whole
// text in one piece, which also locates any error against the original text.
inline bool parse_results_in_chunks(std::size_t size, const byte_reader& read, unsigned threads,
                                    std::vector<coco_detection>& out) {
  std::vector<std::size_t> begin{0}, end;
  std::vector<char> window;
  for (std::size_t at = results_chunk_bytes; at + results_chunk_bytes / 2 < size;
       at += results_chunk_bytes) {
    std::size_t found = std::string::npos, sep_last = 0;
    for (std::size_t from = at; found == std::string::npos && from < at + (std::size_t{1} << 20);
         from += std::size_t{1} << 16) {
      // 64 KiB windows overlapping by 256 bytes, so a cut at a window's end is seen whole in the
      // next one (one with a longer separator is passed over: a later cut serves as well).
      const std::size_t len = std::min<std::size_t>((std::size_t{1} << 16) + 256, size - from);
      window.resize(len);
      if (!read(from, len, window.data())) return false;
      found = results_cut_in(window.data(), len, sep_last);
      if (found != std::string::npos) {
        found += from;
        sep_last += from;
      }
      if (from + len >= size) break;
    }
    if (found == std::string::npos) return false;
    if (found <= begin.back()) continue;
    end.push_back(found);
    begin.push_back(sep_last);
  }
  if (begin.size() < 2) return false;
  end.push_back(size - 1);
  const std::size_t n = begin.size();
  std::vector<std::vector<coco_detection>> parts(n);
  std::atomic<bool> failed{false};
  std::atomic<std::size_t> next{0};
  auto worker = [&](std::size_t) {
    simdjson::ondemand::parser parser;
    std::vector<char> buf;
    const std::string chunk_name = "<chunk>";
    for (std::size_t i = next++; i < n && !failed; i = next++) {
      const std::size_t len = end[i] + 1 - begin[i];
      buf.resize(len + simdjson::SIMDJSON_PADDING);
      if (!read(begin[i], len, buf.data())) {
        failed = true;
        break;
      }
      std::memset(buf.data() + len, 0, simdjson::SIMDJSON_PADDING);
      if (i > 0) buf[0] = '[';
      if (i + 1 < n) buf[len - 1] = ']';
      json_locator loc{buf.data(), len, &chunk_name};
      parts[i].reserve(len / 80 + 1);  // ~90 bytes per entry in typical files
      if (!parse_detection_array(parser, loc, buf.data(), len, buf.size(), parts[i])) failed = true;
    }
  };
  detail::run_on_threads(std::min<std::size_t>(threads, n), worker);
  if (failed) return false;
  std::size_t total = 0;
  for (const auto& v : parts) total += v.size();
  out.reserve(total);
  for (auto& v : parts) {
    out.insert(out.end(), v.begin(), v.end());
    std::vector<coco_detection>().swap(v);  // freed as out fills: one copy at a time
  }
  return true;
}

// The whole text in one piece (small files, and the fallback that locates errors).
inline result<std::vector<coco_detection>> parse_coco_results(const json_source& src,
                                                              const std::string& name) {
  json_locator loc{src.data(), src.size(), &name};
  std::vector<coco_detection> out;
  out.reserve(src.size() / 80 + 1);
  simdjson::ondemand::parser parser;
  if (auto r = parse_detection_array(parser, loc, src.data(), src.size(), src.capacity(), out); !r)
    return std::move(r).error();
  return out;
}

}  // namespace detail

/// Reads a COCO instances file (pycocotools COCO(path)). The error names file:line:column.
/// With opt.mode == eval_mode::fixed a missing `area` is computed (w*h) and reported through
/// opt.on_warning (a located error used as a warning); pycocotools mode refuses it.
[[nodiscard]] inline result<coco_ground_truth> try_read_coco_ground_truth(
    const std::string& path, const coco_read_options& opt = {}) noexcept {
  try {
    auto src = detail::json_source::try_open(path);
    if (!src) return std::move(src).error();
    return detail::parse_coco_gt(*src, path, opt);
  } catch (const std::bad_alloc&) {
    error e = make_error(errc::io_read, "out of memory");
    e.file = path;
    return e;
  }
}
inline coco_ground_truth read_coco_ground_truth(const std::string& path) {
  return try_read_coco_ground_truth(path).value();
}
/// The same from text in memory; `name` is used in errors.
[[nodiscard]] inline result<coco_ground_truth> try_parse_coco_ground_truth(
    std::string_view json, const std::string& name = "<memory>",
    const coco_read_options& opt = {}) {
  return detail::parse_coco_gt(detail::json_source::from_memory(json), name, opt);
}

/// Reads a COCO results file (a JSON list of detections, as loadRes takes). Files over 8 MiB are
/// parsed in `threads` chunks (0 = all cores, 1 = serial); the result is the same either way.
[[nodiscard]] inline result<std::vector<coco_detection>> try_read_coco_results(
    const std::string& path, unsigned threads = 0) noexcept {
  try {
    // Large files: chunks read with pread (the file is never mapped whole, so it adds nothing
    // to the resident size); anything unusual falls through to the mapped one-piece parse.
    if (const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      struct stat st {};
      std::vector<coco_detection> out;
      bool done = false;
      if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<std::size_t>(st.st_size) >= 2 * detail::results_chunk_bytes) {
        auto pread_all = [fd](std::size_t offset, std::size_t len, char* dst) {
          while (len > 0) {
            const ssize_t got = ::pread(fd, dst, len, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return false;
            offset += static_cast<std::size_t>(got);
            dst += got;
            len -= static_cast<std::size_t>(got);
          }
          return true;
        };
        done = detail::parse_results_in_chunks(static_cast<std::size_t>(st.st_size), pread_all,
                                               detail::resolve_threads(threads), out);
      }
      ::close(fd);
      if (done) return out;
    }
    auto src = detail::json_source::try_open(path);
    if (!src) return std::move(src).error();
    return detail::parse_coco_results(*src, path);
  } catch (const std::bad_alloc&) {
    error e = make_error(errc::io_read, "out of memory");
    e.file = path;
    return e;
  }
}
inline std::vector<coco_detection> read_coco_results(const std::string& path) {
  return try_read_coco_results(path).value();
}
[[nodiscard]] inline result<std::vector<coco_detection>> try_parse_coco_results(
    std::string_view json, const std::string& name = "<memory>", unsigned threads = 0) {
  if (json.size() >= 2 * detail::results_chunk_bytes) {
    std::vector<coco_detection> out;
    auto copy = [json](std::size_t offset, std::size_t len, char* dst) {
      std::memcpy(dst, json.data() + offset, len);
      return true;
    };
    if (detail::parse_results_in_chunks(json.size(), copy, detail::resolve_threads(threads), out))
      return out;
  }
  return detail::parse_coco_results(detail::json_source::from_memory(json), name);
}

DETKIT_END_NAMESPACE

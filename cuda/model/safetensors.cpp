// cuda/model/safetensors.cpp — safetensors reader/writer (format of huggingface/safetensors,
// docs "Format" section) with a small strict JSON parser for its header, and the RetinaNet glue.
#include "safetensors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "detkit/atomic_file.hpp"
#include "retinanet.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

const named_tensor* safetensors_file::find(const std::string& name) const {
  for (const named_tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const std::string* safetensors_file::find_metadata(const std::string& key) const {
  for (const auto& kv : metadata)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

namespace {

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the format's own limit is 100 MB

error located(const std::string& path, std::uint64_t offset, std::string message,
              std::string field = {}, errc code = errc::model_weights) {
  error e = make_error(code, std::move(message), std::move(field));
  e.file = path;
  e.byte_offset = offset;
  e.has_offset = true;
  return e;
}

// Strict parser for the subset safetensors headers use: objects, strings, non-negative integers,
// arrays of integers. Positions are byte offsets within the header.
struct json_cursor {
  const char* s = nullptr;
  std::size_t n = 0, i = 0;
  std::string err;
  std::size_t err_at = 0;

  bool fail(const std::string& m) {
    if (err.empty()) {
      err = m;
      err_at = i;
    }
    return false;
  }
  void ws() {
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool expect(char c) {
    ws();
    if (i < n && s[i] == c) {
      ++i;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }
  bool peek(char c) {
    ws();
    return i < n && s[i] == c;
  }
  bool string(std::string& out) {
    ws();
    if (i >= n || s[i] != '"') return fail("expected a string");
    ++i;
    out.clear();
    while (i < n && s[i] != '"') {
      char c = s[i++];
      if (c == '\\') {
        if (i >= n) break;
        const char e = s[i++];
        switch (e) {
          case '"':
            c = '"';
            break;
          case '\\':
            c = '\\';
            break;
          case '/':
            c = '/';
            break;
          case 'n':
            c = '\n';
            break;
          case 't':
            c = '\t';
            break;
          case 'r':
            c = '\r';
            break;
          case 'b':
            c = '\b';
            break;
          case 'f':
            c = '\f';
            break;
          default:
            return fail("unsupported escape in a string");
        }
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in a string");
      }
      out.push_back(c);
    }
    if (i >= n) return fail("unterminated string");
    ++i;
    return true;
  }
  bool integer(std::uint64_t& v) {
    ws();
    if (i >= n || s[i] < '0' || s[i] > '9') return fail("expected a non-negative integer");
    v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      const std::uint64_t d = static_cast<std::uint64_t>(s[i] - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
        return fail("integer overflows 64 bits");
      v = v * 10 + d;
      ++i;
    }
    return true;
  }
  bool int_array(std::vector<std::uint64_t>& out) {
    out.clear();
    if (!expect('[')) return false;
    if (peek(']')) return expect(']');
    for (;;) {
      std::uint64_t v = 0;
      if (!integer(v)) return false;
      out.push_back(v);
      if (peek(',')) {
        ++i;
        continue;
      }
      return expect(']');
    }
  }
};

struct header_entry {
  std::string name, dtype;
  std::vector<std::uint64_t> shape, offsets;
  std::size_t at = 0;  // header byte offset of the entry
};

struct parsed_header {
  std::vector<header_entry> entries;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// The JSON header (bytes 8 .. 8 + length of the file): tensor entries and "__metadata__", not yet
// checked against the data.
result<parsed_header> parse_header(std::string_view header, const std::string& path) {
  parsed_header out;
  json_cursor js;
  js.s = header.data();
  js.n = header.size();
  bool ok = js.expect('{');
  if (ok && js.peek('}')) {
    ok = js.expect('}');
  } else {
    while (ok) {
      header_entry e;
      e.at = js.i;
      if (!js.string(e.name) || !js.expect(':') || !js.expect('{')) {
        ok = false;
        break;
      }
      if (e.name == "__metadata__") {
        if (!js.peek('}'))
          for (;;) {
            std::string k, v;
            if (!js.string(k) || !js.expect(':') || !js.string(v)) {
              ok = false;
              break;
            }
            out.metadata.emplace_back(k, v);
            if (js.peek(',')) {
              ++js.i;
              continue;
            }
            break;
          }
        ok = ok && js.expect('}');
      } else {
        bool has_dtype = false, has_shape = false, has_offsets = false;
        for (;;) {
          std::string key;
          if (!js.string(key) || !js.expect(':')) {
            ok = false;
            break;
          }
          if (key == "dtype") {
            ok = js.string(e.dtype);
            has_dtype = true;
          } else if (key == "shape") {
            ok = js.int_array(e.shape);
            has_shape = true;
          } else if (key == "data_offsets") {
            ok = js.int_array(e.offsets);
            has_offsets = true;
          } else {
            ok = js.fail("unknown member '" + key + "' in tensor '" + e.name + "'");
          }
          if (!ok) break;
          if (js.peek(',')) {
            ++js.i;
            continue;
          }
          break;
        }
        ok = ok && js.expect('}');
        if (ok && (!has_dtype || !has_shape || !has_offsets))
          return located(path, 8 + e.at, "tensor lacks dtype, shape or data_offsets", e.name,
                         errc::json_schema);
        if (ok) out.entries.push_back(std::move(e));
      }
      if (!ok) break;
      if (js.peek(',')) {
        ++js.i;
        continue;
      }
      ok = js.expect('}');
      break;
    }
  }
  if (!ok) return located(path, 8 + js.err_at, js.err, {}, errc::json_syntax);
  js.ws();
  if (js.i != js.n)
    return located(path, 8 + js.i, "junk after the header object", {}, errc::json_syntax);

  return out;
}

error cannot_open(const std::string& path) {
  error e = make_error(errc::io_open, "cannot open the weights file");
  e.file = path;
  return e;
}

}  // namespace

result<safetensors_file> try_read_safetensors(const std::string& path) noexcept {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return cannot_open(path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return located(path, 0, "read failed", {}, errc::io_read);
    return try_parse_safetensors(bytes, path);
  } catch (const std::bad_alloc&) {
    return located(path, 0, "out of memory while reading", {}, errc::other);
  }
}

result<safetensors_file> try_parse_safetensors(std::string_view bytes,
                                               const std::string& path) noexcept {
  try {
    const std::uint64_t size = bytes.size();
    if (size < 8) return located(path, 0, "file too short for a safetensors header length");
    std::uint64_t header_len = 0;
    for (int b = 7; b >= 0; --b)
      header_len =
          (header_len << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(b)]);
    if (header_len > kMaxHeader || header_len > size - 8)
      return located(path, 0,
                     "header length " + std::to_string(header_len) + " does not fit the file (" +
                         std::to_string(size) + " bytes)");
    const std::string_view header = bytes.substr(8, static_cast<std::size_t>(header_len));
    const std::uint64_t data_start = 8 + header_len;
    const std::uint64_t data_size = size - data_start;

    auto parsed = parse_header(header, path);
    if (!parsed) return std::move(parsed).error();
    std::vector<header_entry>& entries = parsed->entries;
    safetensors_file file;
    file.metadata = std::move(parsed->metadata);

    // Validate every entry before reading data: dtype, sizes, bounds, no overlaps.
    std::sort(entries.begin(), entries.end(), [](const header_entry& a, const header_entry& b) {
      return a.offsets.size() == 2 && b.offsets.size() == 2 ? a.offsets[0] < b.offsets[0]
                                                            : a.at < b.at;
    });
    std::uint64_t prev_end = 0;
    for (const header_entry& e : entries) {
      if (e.dtype != "F32")
        return located(path, 8 + e.at, "dtype " + e.dtype + " is not supported (only F32)", e.name);
      if (e.offsets.size() != 2 || e.offsets[0] > e.offsets[1])
        return located(path, 8 + e.at, "data_offsets must be [begin, end] with begin <= end",
                       e.name, errc::json_schema);
      std::uint64_t count = 1;
      for (std::uint64_t d : e.shape) {
        if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / 4 / d)
          return located(path, 8 + e.at, "shape overflows", e.name, errc::model_shape);
        count *= d;
      }
      if (e.offsets[1] - e.offsets[0] != count * 4)
        return located(path, 8 + e.at,
                       "data_offsets span " + std::to_string(e.offsets[1] - e.offsets[0]) +
                           " bytes, the shape needs " + std::to_string(count * 4),
                       e.name, errc::model_shape);
      if (e.offsets[1] > data_size)
        return located(path, data_start + e.offsets[0], "tensor data runs past the end of the file",
                       e.name, errc::io_read);
      if (e.offsets[0] < prev_end)
        return located(path, data_start + e.offsets[0], "tensor data overlaps the previous tensor",
                       e.name);
      prev_end = e.offsets[1];
    }
    for (std::size_t i = 0; i < entries.size(); ++i)
      for (std::size_t j = i + 1; j < entries.size(); ++j)
        if (entries[i].name == entries[j].name)
          return located(path, 8 + entries[j].at, "tensor name appears twice", entries[j].name,
                         errc::json_schema);
    for (const header_entry& e : entries) {
      named_tensor t;
      t.name = e.name;
      for (std::uint64_t d : e.shape) t.shape.push_back(static_cast<std::int64_t>(d));
      t.data.resize(static_cast<std::size_t>((e.offsets[1] - e.offsets[0]) / 4));
      if (!t.data.empty())
        std::memcpy(t.data.data(), bytes.data() + data_start + e.offsets[0], t.data.size() * 4);
      file.tensors.push_back(std::move(t));
    }
    return file;
  } catch (const std::bad_alloc&) {
    return located(path, 0, "out of memory while reading", {}, errc::other);
  }
}

result<recorded_settings> try_read_recorded_settings(const std::string& path) noexcept {
  try {
    // Only the header: a settings check must not read a 100+ MB file that the load reads again.
    std::ifstream in(path, std::ios::binary);
    if (!in) return cannot_open(path);
    unsigned char len[8] = {};
    if (!in.read(reinterpret_cast<char*>(len), 8))
      return located(path, 0, "file too short for a safetensors header length");
    std::uint64_t header_len = 0;
    for (int b = 7; b >= 0; --b) header_len = (header_len << 8) | len[b];
    if (header_len > kMaxHeader)
      return located(path, 0, "header length " + std::to_string(header_len) + " is over the limit");
    std::string header(static_cast<std::size_t>(header_len), '\0');
    if (!in.read(header.data(), static_cast<std::streamsize>(header_len)))
      return located(path, 0,
                     "header length " + std::to_string(header_len) + " does not fit the file");
    auto parsed = parse_header(header, path);
    if (!parsed) return std::move(parsed).error();
    recorded_settings out;
    for (const auto& kv : parsed->metadata) {
      if (kv.first != "bn_eps") continue;
      // Strict: the whole value is one finite number in [0, 1); "1e-5x", "nan" or "-0.1" would
      // otherwise run a network other than the one the file was made for.
      const std::string& v = kv.second;
      char* end = nullptr;
      const double d = v.empty() || std::isspace(static_cast<unsigned char>(v[0]))
                           ? std::nan("")
                           : std::strtod(v.c_str(), &end);
      if (end == nullptr || *end != '\0' || !std::isfinite(d) || d < 0.0 || d >= 1.0)
        return located(path, 8, "expected a number in [0, 1), got '" + v + "'",
                       "__metadata__.bn_eps", errc::json_schema);
      out.bn_eps = static_cast<float>(d);
    }
    return out;
  } catch (const std::bad_alloc&) {
    return located(path, 0, "out of memory while reading", {}, errc::other);
  }
}

safetensors_file read_safetensors(const std::string& path) {
  return try_read_safetensors(path).value();
}

namespace {
std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : " ";
    } else {
      out.push_back(c);
    }
  }
  return out;
}
}  // namespace

result<void> try_write_safetensors(const std::string& path, const safetensors_file& file) noexcept {
  try {
    std::string h = "{";
    bool first = true;
    if (!file.metadata.empty()) {
      h += "\"__metadata__\":{";
      for (std::size_t i = 0; i < file.metadata.size(); ++i) {
        if (i) h += ",";
        h += "\"" + json_escape(file.metadata[i].first) + "\":\"" +
             json_escape(file.metadata[i].second) + "\"";
      }
      h += "}";
      first = false;
    }
    std::uint64_t at = 0;
    for (const named_tensor& t : file.tensors) {
      std::uint64_t count = 1;
      for (std::int64_t d : t.shape) count *= static_cast<std::uint64_t>(d);
      if (count != t.data.size()) {
        error e = make_error(errc::model_shape, "shape does not match the data size", t.name);
        e.file = path;
        return e;
      }
      if (!first) h += ",";
      first = false;
      h += "\"" + json_escape(t.name) + "\":{\"dtype\":\"F32\",\"shape\":[";
      for (std::size_t i = 0; i < t.shape.size(); ++i)
        h += (i ? "," : "") + std::to_string(t.shape[i]);
      h +=
          "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + count * 4) + "]}";
      at += count * 4;
    }
    h += "}";
    while (h.size() % 8 != 0)
      h.push_back(' ');  // data starts 8-byte aligned, as the format advises
    atomic_file out;
    if (auto r = out.try_open(path); !r) return r;
    unsigned char len[8];
    std::uint64_t hl = h.size();
    for (int b = 0; b < 8; ++b) len[b] = static_cast<unsigned char>((hl >> (8 * b)) & 0xff);
    out.write(len, 8);
    out.write(h);
    for (const named_tensor& t : file.tensors) out.write(t.data.data(), t.data.size() * 4);
    return out.commit();
  } catch (const std::bad_alloc&) {
    return make_error(errc::other, "out of memory while writing " + path);
  }
}

// ---- RetinaNet glue --------------------------------------------------------------------------------
namespace {
safetensors_file model_weights(const retinanet& model) {
  safetensors_file f;
  for (const param_info& p : model.params()) {
    named_tensor t;
    t.name = p.name;
    for (int d : p.shape) t.shape.push_back(d);
    t.data = model.get_param(p.name);
    f.tensors.push_back(std::move(t));
  }
  f.metadata.emplace_back("format", "pt");
  f.metadata.emplace_back("producer", "detkit " DETKIT_VERSION_STRING);
  // The eps the model ran with, so a model fine-tuned from COCO weights (eps 0) keeps it.
  char eps[32];
  const auto r = std::to_chars(eps, eps + sizeof eps, model.config().bn_eps);
  f.metadata.emplace_back("bn_eps", std::string(eps, r.ptr));
  return f;
}

result<load_report> load_into(retinanet& model, const safetensors_file& f, const std::string& path,
                              const load_options& o, const std::string& skip_prefix) {
  load_report rep;
  for (const param_info& p : model.params()) {
    const named_tensor* t = f.find(p.name);
    if (t == nullptr) {
      if (o.missing == mismatch_policy::error) {
        error e =
            make_error(errc::model_weights, "the file has no tensor for this parameter", p.name);
        e.file = path;
        return e;
      }
      rep.missing.push_back(p.name);
      continue;
    }
    bool same = t->shape.size() == p.shape.size();
    for (std::size_t i = 0; same && i < p.shape.size(); ++i) same = t->shape[i] == p.shape[i];
    if (!same) {
      std::string want, got;
      for (int d : p.shape) want += (want.empty() ? "" : "x") + std::to_string(d);
      for (std::int64_t d : t->shape) got += (got.empty() ? "" : "x") + std::to_string(d);
      if (o.shape_mismatch == mismatch_policy::error) {
        error e = make_error(errc::model_shape,
                             "shape " + got + " in the file, the model has " + want, p.name);
        e.file = path;
        return e;
      }
      rep.skipped_shape.push_back(p.name);
      continue;
    }
    model.set_param(p.name, t->data.data(), t->data.size());
    ++rep.loaded;
  }
  for (const named_tensor& t : f.tensors) {
    if (!skip_prefix.empty() && t.name.compare(0, skip_prefix.size(), skip_prefix) == 0) continue;
    if (model.find_param(t.name) != nullptr) continue;
    // torchvision's FrozenBatchNorm2d has no num_batches_tracked; BatchNorm2d state dicts do.
    if (t.name.size() > 20 && t.name.compare(t.name.size() - 20, 20, ".num_batches_tracked") == 0)
      continue;
    if (o.unexpected == mismatch_policy::error) {
      error e = make_error(errc::model_weights, "the model has no parameter of this name", t.name);
      e.file = path;
      return e;
    }
    rep.unexpected.push_back(t.name);
  }
  return rep;
}
}  // namespace

result<load_report> try_load_weights(retinanet& model, const std::string& path,
                                     const load_options& options) noexcept {
  try {
    auto f = try_read_safetensors(path);
    if (!f) return std::move(f).error();
    return load_into(model, *f, path, options, "optimizer.");
  } catch (const std::exception& ex) {
    return make_error(errc::model_weights, ex.what());
  }
}

result<void> try_save_weights(const retinanet& model, const std::string& path) noexcept {
  try {
    return try_write_safetensors(path, model_weights(model));
  } catch (const std::exception& ex) {
    return make_error(errc::model_weights, ex.what());
  }
}

result<void> try_save_checkpoint(const retinanet& model, const std::string& path,
                                 std::int64_t step) noexcept {
  try {
    safetensors_file f = model_weights(model);
    named_tensor m;
    m.name = "optimizer.momentum";
    m.data = model.get_momentum();
    m.shape = {static_cast<std::int64_t>(m.data.size())};
    f.tensors.push_back(std::move(m));
    f.metadata.emplace_back("step", std::to_string(step));
    return try_write_safetensors(path, f);
  } catch (const std::exception& ex) {
    return make_error(errc::model_weights, ex.what());
  }
}

result<std::int64_t> try_load_checkpoint(retinanet& model, const std::string& path) noexcept {
  try {
    auto f = try_read_safetensors(path);
    if (!f) return std::move(f).error();
    auto rep = load_into(model, *f, path, load_options{}, "optimizer.");
    if (!rep) return std::move(rep).error();
    const named_tensor* m = f->find("optimizer.momentum");
    const std::string* step = f->find_metadata("step");
    if (m == nullptr || step == nullptr) {
      error e = make_error(errc::model_weights, "not a checkpoint: no optimizer.momentum or step");
      e.file = path;
      return e;
    }
    if (m->data.size() != model.get_momentum().size()) {
      error e = make_error(errc::model_shape, "momentum state does not fit this model",
                           "optimizer.momentum");
      e.file = path;
      return e;
    }
    model.set_momentum(m->data);
    return static_cast<std::int64_t>(std::stoll(*step));
  } catch (const std::exception& ex) {
    return make_error(errc::model_weights, ex.what());
  }
}

}  // namespace cuda
DETKIT_END_NAMESPACE

// detkit/open_images_hierarchy.hpp — the Open Images class hierarchy
// (`bbox_labels_600_hierarchy.json`).
//
// A small dedicated parser for this fixed schema (no JSON library needed): every node is
// {"LabelName": "/m/..", "Subcategory": [node...]?, "Part": [node...]?}. Nodes with several
// parents repeat in the file (848 nodes, 602 distinct MIDs in 2018_04), so the result is a DAG
// over distinct MIDs. Like the TF expansion tool (oid_hierarchical_labels_expansion.py),
// ancestors() follows Subcategory only; Part edges are kept separately. Errors are located
// (line:column) json_syntax / json_schema / oi_bad_hierarchy errors.
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

struct class_hierarchy {
  std::vector<std::string> mids;                         // distinct MIDs, root first
  std::unordered_map<std::string, std::uint32_t> index;  // MID → position in mids
  std::vector<std::vector<std::uint32_t>> parents;       // Subcategory parents (distinct)
  std::vector<std::vector<std::uint32_t>> children;      // Subcategory children (distinct)
  std::vector<std::vector<std::uint32_t>> parts;         // Part children (distinct)
  std::size_t node_count = 0;                            // nodes as written in the file
  std::uint32_t root = 0;

  /// Index of `mid`, or -1.
  std::int64_t find(std::string_view mid) const {
    auto it = index.find(std::string(mid));
    return it == index.end() ? -1 : static_cast<std::int64_t>(it->second);
  }
  /// Every Subcategory ancestor of class i (the root excluded, as the TF tool skips it), each once,
  /// in breadth-first order.
  std::vector<std::uint32_t> ancestors(std::uint32_t i) const {
    std::vector<std::uint32_t> out;
    std::vector<std::uint32_t> todo(parents[i].begin(), parents[i].end());
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::uint32_t p = todo[k];
      if (p == root || std::find(out.begin(), out.end(), p) != out.end()) continue;
      out.push_back(p);
      todo.insert(todo.end(), parents[p].begin(), parents[p].end());
    }
    return out;
  }
  /// Every Subcategory descendant of class i (i itself excluded), each once, in breadth-first
  /// order: what "--descendants" expands a target class to.
  std::vector<std::uint32_t> descendants(std::uint32_t i) const {
    std::vector<std::uint32_t> out;
    std::vector<char> seen(mids.size(), 0);
    seen[i] = 1;
    std::vector<std::uint32_t> todo = children[i];
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::uint32_t c = todo[k];
      if (seen[c]) continue;
      seen[c] = 1;
      out.push_back(c);
      todo.insert(todo.end(), children[c].begin(), children[c].end());
    }
    return out;
  }
};

namespace detail {

class hierarchy_parser {
 public:
  hierarchy_parser(std::string_view text, std::string name) : s_(text), name_(std::move(name)) {}

  result<class_hierarchy> run() {
    skip_ws();
    if (pos_ == 0 && s_.size() >= 3 && s_.substr(0, 3) == "\xEF\xBB\xBF") {
      pos_ = 3;
      skip_ws();
    }
    std::uint32_t root = 0;
    if (!node(0, root)) return err_;
    skip_ws();
    if (pos_ != s_.size()) {
      fail(errc::json_syntax, "unexpected data after the root object");
      return err_;
    }
    h_.root = root;
    return std::move(h_);
  }

 private:
  static constexpr int max_depth = 64;

  void fail(errc code, std::string msg) {
    if (failed_) return;
    failed_ = true;
    err_ = make_error(code, std::move(msg));
    err_.file = name_;
    std::uint64_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    err_.line = line;
    err_.column = col;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool expect(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    fail(errc::json_syntax, std::string("expected '") + c + "', got " + describe());
    return false;
  }
  std::string describe() const {
    if (pos_ >= s_.size()) return "the end of the file";
    return std::string("'") + s_[pos_] + "'";
  }
  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(std::uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= s_.size()) return false;
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  bool string(std::string& out) {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != '"') {
      fail(errc::json_syntax, "expected a string, got " + describe());
      return false;
    }
    ++pos_;
    out.clear();
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail(errc::json_syntax, "control character inside a string");
        return false;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) {
            fail(errc::json_syntax, "bad \\u escape");
            return false;
          }
          if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            pos_ += 2;
            std::uint32_t lo;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) {
              fail(errc::json_syntax, "bad surrogate pair");
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail(errc::json_syntax, std::string("bad escape '\\") + e + "'");
          return false;
      }
    }
    fail(errc::json_syntax, "string not closed before the end of the file");
    return false;
  }
  std::uint32_t intern(const std::string& mid) {
    auto it = h_.index.find(mid);
    if (it != h_.index.end()) return it->second;
    const auto i = static_cast<std::uint32_t>(h_.mids.size());
    h_.index.emplace(mid, i);
    h_.mids.push_back(mid);
    h_.parents.emplace_back();
    h_.children.emplace_back();
    h_.parts.emplace_back();
    return i;
  }
  static void add_unique(std::vector<std::uint32_t>& v, std::uint32_t x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
  }
  // Parses a node object; `out` gets its MID index.
  bool node(int depth, std::uint32_t& out) {
    if (depth > max_depth) {
      fail(errc::oi_bad_hierarchy, "nesting deeper than " + std::to_string(max_depth) + " levels");
      return false;
    }
    const std::size_t obj_pos = pos_;
    if (!expect('{')) return false;
    ++h_.node_count;
    std::string key, mid;
    bool has_label = false;
    std::vector<std::uint32_t> subs, parts;
    skip_ws();
    bool first = true;
    for (;;) {
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == '}' && first) {
        ++pos_;
        break;
      }
      skip_ws();
      const std::size_t key_pos = pos_;
      if (!string(key)) return false;
      if (!expect(':')) return false;
      if (key == "LabelName") {
        if (!string(mid)) return false;
        if (mid.empty()) {
          fail(errc::json_schema, "member 'LabelName': empty MID");
          return false;
        }
        has_label = true;
      } else if (key == "Subcategory" || key == "Part") {
        auto& dst = key == "Subcategory" ? subs : parts;
        if (!expect('[')) return false;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
        } else {
          for (;;) {
            std::uint32_t child;
            if (!node(depth + 1, child)) return false;
            dst.push_back(child);
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ',') {
              ++pos_;
              continue;
            }
            if (!expect(']')) return false;
            break;
          }
        }
      } else {
        pos_ = key_pos;
        fail(errc::json_schema,
             "unknown member '" + key + "' (a node has LabelName, Subcategory and Part)");
        return false;
      }
      first = false;
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (!expect('}')) return false;
      break;
    }
    if (!has_label) {
      pos_ = obj_pos;
      fail(errc::json_schema, "node without 'LabelName'");
      return false;
    }
    out = intern(mid);
    for (std::uint32_t c : subs) {
      if (c == out) {
        pos_ = obj_pos;
        fail(errc::oi_bad_hierarchy, "class " + mid + " is its own subcategory");
        return false;
      }
      add_unique(h_.children[out], c);
      add_unique(h_.parents[c], out);
    }
    for (std::uint32_t c : parts) add_unique(h_.parts[out], c);
    return true;
  }

  std::string_view s_;
  std::string name_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  error err_;
  class_hierarchy h_;
};

}  // namespace detail

/// Parses hierarchy JSON held in memory; `name` is used in error messages.
template <class = void>
[[nodiscard]] result<class_hierarchy> try_parse_class_hierarchy(std::string_view json,
                                                                std::string name) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    error e = make_error(errc::json_syntax, "empty file, expected the hierarchy's root object");
    e.file = std::move(name);
    return e;
  }
  detail::hierarchy_parser p(json, std::move(name));
  auto r = p.run();
  if (!r) return r;
  // intern() numbers nodes in post-order (children first), so move the root to index 0.
  class_hierarchy& h = *r;
  const std::uint32_t old_root = h.root;
  if (old_root != 0) {
    const std::size_t n = h.mids.size();
    std::vector<std::uint32_t> remap(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      remap[i] = i == old_root ? 0 : (i < old_root ? i + 1 : i);
    }
    class_hierarchy g;
    g.mids.resize(n);
    g.parents.resize(n);
    g.children.resize(n);
    g.parts.resize(n);
    g.node_count = h.node_count;
    g.root = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t j = remap[i];
      g.mids[j] = std::move(h.mids[i]);
      for (auto x : h.parents[i]) g.parents[j].push_back(remap[x]);
      for (auto x : h.children[i]) g.children[j].push_back(remap[x]);
      for (auto x : h.parts[i]) g.parts[j].push_back(remap[x]);
    }
    for (std::uint32_t i = 0; i < n; ++i) g.index.emplace(g.mids[i], i);
    return g;
  }
  return r;
}

/// Reads `bbox_labels_600_hierarchy.json`.
template <class = void>
[[nodiscard]] result<class_hierarchy> try_read_class_hierarchy(const std::string& path) {
  auto m = detail::mapped_file::try_open(path);
  if (!m) return std::move(m).error();
  return try_parse_class_hierarchy(m->view(), path);
}

DETKIT_END_NAMESPACE

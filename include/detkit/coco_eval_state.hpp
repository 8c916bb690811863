// detkit/coco_eval_state.hpp — shard-and-merge for COCO evaluation: the cutoff-independent state
// of a matching (coco_matches, coco_eval.hpp) for a shard of images, as a small binary file, and
// the merge of any number of shards into the matching a single run over all images would make.
//
// Why the merge is bit-identical: pycocotools matches each (image, category) on its own, and
// accumulate only reads, per category, the detections ordered by (score desc, image, rank) with
// their TP/ignore flags and the non-ignored GT count. A shard stores exactly that for its images;
// merging concatenates, re-sorts by the same key and rebuilds the TP events, so accumulate and
// summarize see the same arrays in the same order and do the same arithmetic.
//
// Shards must have been evaluated with equal parameters and category lists, on disjoint images.
// Detection and annotation indices of the merged state count through the shards in argument order.
//
// File layout (little-endian): "DKEVSTAT" | u32 version (1) | u32 0 | u64 payload bytes | payload |
// u64 detail::hash64(payload). Written atomically (atomic_file.hpp); read with located errors
// (file, byte offset, field).
//
// Usage:
//     detkit::write_eval_state("shard-3.state", detkit::evaluate_images(gt_3, dt_3, params));
//     auto all = detkit::merge_eval_states({read_eval_state("shard-0.state"), ...});
//     auto s = detkit::summarize(detkit::accumulate(all), all);
//
// The entry points are `template <class = void>` only so that a file including this header
// instantiates their bodies when it calls them, not before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "detkit/atomic_file.hpp"
#include "detkit/coco_eval.hpp"
#include "detkit/detail/checksum.hpp"

DETKIT_BEGIN_NAMESPACE

inline constexpr std::uint32_t eval_state_version = 1;

namespace detail {
inline constexpr char eval_state_magic[8] = {'D', 'K', 'E', 'V', 'S', 'T', 'A', 'T'};

class state_writer {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_arithmetic<T>::value, "scalars only");
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(reinterpret_cast<const char*>(b), sizeof(T));
  }
  template <class T>
  void put_vec(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put_str(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_ += s;
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class state_reader {
 public:
  state_reader(const std::string& file, const char* data, std::size_t n, std::size_t base)
      : file_(file), p_(data), n_(n), base_(base) {}
  template <class T>
  result<T> get(const char* field) {
    if (n_ - pos_ < sizeof(T)) return fail(field, "truncated");
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <class T>
  result<std::vector<T>> get_vec(const char* field, std::uint64_t expect = ~std::uint64_t{0}) {
    auto n = get<std::uint64_t>(field);
    if (!n) return std::move(n).error();
    if (expect != ~std::uint64_t{0} && *n != expect)
      return fail(field,
                  "holds " + std::to_string(*n) + " entries, expected " + std::to_string(expect));
    if (*n > (n_ - pos_) / sizeof(T)) return fail(field, "truncated (length past the end)");
    std::vector<T> v(static_cast<std::size_t>(*n));
    if (!v.empty()) std::memcpy(v.data(), p_ + pos_, v.size() * sizeof(T));
    pos_ += v.size() * sizeof(T);
    return v;
  }
  result<std::string> get_str(const char* field) {
    auto v = get_vec<char>(field);
    if (!v) return std::move(v).error();
    return std::string(v->begin(), v->end());
  }
  error fail(const char* field, const std::string& message) const {
    error e = make_error(errc::eval_bad_state, message, field);
    e.file = file_;
    e.has_offset = true;
    e.byte_offset = base_ + pos_;
    return e;
  }
  bool at_end() const { return pos_ == n_; }

 private:
  std::string file_;
  const char* p_;
  std::size_t n_, pos_ = 0, base_;
};

#define DETKIT_STATE_GET(var, expr) \
  auto var##_r = (expr);            \
  if (!var##_r) return std::move(var##_r).error();
}  // namespace detail

/// The state file's bytes.
template <class = void>
std::string serialize_eval_state(const coco_matches& mt) {
  detail::state_writer w;
  const coco_eval_params& p = mt.params;
  w.put_vec(p.iou_thresholds);
  w.put_vec(p.recall_thresholds);
  w.put_vec(p.max_dets);
  w.put<std::uint64_t>(p.area_ranges.size());
  for (const auto& a : p.area_ranges) {
    w.put_str(a.label);
    w.put(a.lo);
    w.put(a.hi);
  }
  w.put(static_cast<std::uint8_t>(p.categories));
  w.put(static_cast<std::uint8_t>(p.gt_id_zero));
  w.put(static_cast<std::uint8_t>(p.mode));
  w.put(static_cast<std::uint8_t>(p.unknown_images));
  w.put_vec(mt.image_ids);
  w.put<std::uint64_t>(mt.report.detections_read);
  w.put<std::uint64_t>(mt.report.detections_unknown_category);
  w.put<std::uint64_t>(mt.report.detections_unknown_image);
  w.put<std::uint64_t>(mt.report.detections_over_max_dets);
  w.put<std::uint64_t>(mt.categories.size());
  for (const auto& c : mt.categories) {
    w.put(c.category_id);
    w.put_vec(c.num_gt);
    w.put_vec(c.score);
    w.put_vec(c.image_index);
    w.put_vec(c.detection_index);
    w.put_vec(c.rank);
    w.put_vec(c.tp_mask);
    w.put_vec(c.ignore_mask);
    w.put_vec(c.gt_index);
  }
  w.put<std::uint64_t>(mt.gt.size());
  for (const auto& g : mt.gt) {
    w.put(g.image_index);
    w.put(static_cast<std::uint8_t>(g.ignored));
    w.put(static_cast<std::uint8_t>(g.matched));
    w.put(g.match_score);
  }
  std::string payload = std::move(w.bytes());
  detail::state_writer head;
  head.bytes().append(detail::eval_state_magic, 8);
  head.put(eval_state_version);
  head.put(std::uint32_t{0});
  head.put<std::uint64_t>(payload.size());
  head.bytes() += payload;
  head.put(detail::hash64(payload.data(), payload.size()));
  return std::move(head.bytes());
}

/// Parses and validates a state (`name` is used in errors).
template <class = void>
[[nodiscard]] result<coco_matches> try_parse_eval_state(const std::string& bytes,
                                                        const std::string& name) {
  detail::state_reader hr(name, bytes.data(), bytes.size(), 0);
  if (bytes.size() < 24 || std::memcmp(bytes.data(), detail::eval_state_magic, 8) != 0)
    return hr.fail("magic", "not a detkit evaluation state (expected \"DKEVSTAT\")");
  detail::state_reader h(name, bytes.data() + 8, 16, 8);
  DETKIT_STATE_GET(version, h.get<std::uint32_t>("version"))
  if (*version_r != eval_state_version)
    return h.fail("version", "version " + std::to_string(*version_r) + ", this build reads " +
                                 std::to_string(eval_state_version));
  DETKIT_STATE_GET(reserved, h.get<std::uint32_t>("reserved"))
  DETKIT_STATE_GET(size, h.get<std::uint64_t>("payload_size"))
  if (*size_r != bytes.size() - 32 || bytes.size() < 32)
    return h.fail("payload_size", "says " + std::to_string(*size_r) + " bytes, the file holds " +
                                      std::to_string(bytes.size() < 32 ? 0 : bytes.size() - 32) +
                                      " (truncated or trailing data)");
  const char* payload = bytes.data() + 24;
  const std::size_t n = static_cast<std::size_t>(*size_r);
  std::uint64_t stored = 0;
  std::memcpy(&stored, payload + n, 8);
  if (stored != detail::hash64(payload, n)) {
    detail::state_reader cr(name, payload + n, 8, 24 + n);
    return cr.fail("checksum", "checksum mismatch (the file is corrupt)");
  }
  detail::state_reader r(name, payload, n, 24);
  coco_matches mt;
  coco_eval_params& p = mt.params;
  DETKIT_STATE_GET(iou, r.get_vec<double>("iou_thresholds"))
  p.iou_thresholds = std::move(*iou_r);
  DETKIT_STATE_GET(rec, r.get_vec<double>("recall_thresholds"))
  p.recall_thresholds = std::move(*rec_r);
  DETKIT_STATE_GET(md, r.get_vec<std::uint32_t>("max_dets"))
  p.max_dets = std::move(*md_r);
  DETKIT_STATE_GET(na, r.get<std::uint64_t>("area_ranges"))
  if (*na_r > 64) return r.fail("area_ranges", "more than 64 area ranges");
  p.area_ranges.clear();
  for (std::uint64_t i = 0; i < *na_r; ++i) {
    coco_area_range a;
    DETKIT_STATE_GET(label, r.get_str("area_range.label"))
    a.label = std::move(*label_r);
    DETKIT_STATE_GET(lo, r.get<double>("area_range.lo"))
    DETKIT_STATE_GET(hi, r.get<double>("area_range.hi"))
    a.lo = *lo_r;
    a.hi = *hi_r;
    p.area_ranges.push_back(std::move(a));
  }
  std::uint8_t modes[4];
  for (std::uint8_t& m : modes) {
    DETKIT_STATE_GET(v, r.get<std::uint8_t>("mode_flags"))
    if (*v_r > 1) return r.fail("mode_flags", "unknown value " + std::to_string(*v_r));
    m = *v_r;
  }
  p.categories = static_cast<category_mode>(modes[0]);
  p.gt_id_zero = static_cast<gt_id_zero_policy>(modes[1]);
  p.mode = static_cast<eval_mode>(modes[2]);
  p.unknown_images = static_cast<unknown_image_policy>(modes[3]);
  if (auto ok = detail::validate_params(p); !ok) return r.fail("params", ok.error().message);
  const std::size_t A = p.area_ranges.size();
  DETKIT_STATE_GET(imgs, r.get_vec<std::int64_t>("image_ids"))
  mt.image_ids = std::move(*imgs_r);
  for (std::size_t i = 1; i < mt.image_ids.size(); ++i)
    if (mt.image_ids[i - 1] >= mt.image_ids[i])
      return r.fail("image_ids", "not strictly ascending");
  std::uint64_t rep[4];
  for (auto& v : rep) {
    DETKIT_STATE_GET(x, r.get<std::uint64_t>("report"))
    v = *x_r;
  }
  mt.report = {static_cast<std::size_t>(rep[0]), static_cast<std::size_t>(rep[1]),
               static_cast<std::size_t>(rep[2]), static_cast<std::size_t>(rep[3])};
  DETKIT_STATE_GET(K, r.get<std::uint64_t>("categories"))
  if (*K_r > n / 8) return r.fail("categories", "count past the end of the file");
  mt.categories.resize(static_cast<std::size_t>(*K_r));
  for (auto& c : mt.categories) {
    DETKIT_STATE_GET(id, r.get<std::int64_t>("category_id"))
    c.category_id = *id_r;
    DETKIT_STATE_GET(ng, r.get_vec<std::uint32_t>("num_gt", A))
    c.num_gt = std::move(*ng_r);
    DETKIT_STATE_GET(sc, r.get_vec<double>("score"))
    c.score = std::move(*sc_r);
    const std::uint64_t D = c.score.size();
    DETKIT_STATE_GET(im, r.get_vec<std::uint32_t>("image_index", D))
    c.image_index = std::move(*im_r);
    DETKIT_STATE_GET(di, r.get_vec<std::uint32_t>("detection_index", D))
    c.detection_index = std::move(*di_r);
    DETKIT_STATE_GET(rk, r.get_vec<std::uint32_t>("rank", D))
    c.rank = std::move(*rk_r);
    DETKIT_STATE_GET(tp, r.get_vec<std::uint32_t>("tp_mask", D * A))
    c.tp_mask = std::move(*tp_r);
    DETKIT_STATE_GET(ig, r.get_vec<std::uint32_t>("ignore_mask", D * A))
    c.ignore_mask = std::move(*ig_r);
    DETKIT_STATE_GET(gi, r.get_vec<std::uint32_t>("gt_index", D))
    c.gt_index = std::move(*gi_r);
    // One bit per IoU threshold: a bit past them would index past accumulate's arrays.
    const std::size_t T = p.iou_thresholds.size();
    const std::uint32_t outside = T >= 32 ? 0u : ~((1u << T) - 1u);
    for (std::size_t j = 0; j < c.tp_mask.size(); ++j)
      if ((c.tp_mask[j] & outside) != 0 || (c.ignore_mask[j] & outside) != 0)
        return r.fail(c.tp_mask[j] & outside ? "tp_mask" : "ignore_mask",
                      "entry " + std::to_string(j) + " has a bit past the " + std::to_string(T) +
                          " IoU thresholds");
    for (std::size_t i = 0; i < c.score.size(); ++i) {
      if (c.image_index[i] >= mt.image_ids.size())
        return r.fail("image_index", "entry " + std::to_string(i) + " names image " +
                                         std::to_string(c.image_index[i]) + " of " +
                                         std::to_string(mt.image_ids.size()));
      if (std::isnan(c.score[i]) || (i > 0 && c.score[i - 1] < c.score[i]))
        return r.fail("score", "not in descending order at entry " + std::to_string(i));
    }
  }
  DETKIT_STATE_GET(G, r.get<std::uint64_t>("gt"))
  if (*G_r > n / 8) return r.fail("gt", "count past the end of the file");
  mt.gt.resize(static_cast<std::size_t>(*G_r));
  for (auto& g : mt.gt) {
    DETKIT_STATE_GET(im, r.get<std::uint32_t>("gt.image_index"))
    if (*im_r >= mt.image_ids.size()) return r.fail("gt.image_index", "out of range");
    g.image_index = *im_r;
    DETKIT_STATE_GET(ig, r.get<std::uint8_t>("gt.ignored"))
    DETKIT_STATE_GET(ma, r.get<std::uint8_t>("gt.matched"))
    DETKIT_STATE_GET(sc, r.get<double>("gt.match_score"))
    g.ignored = *ig_r != 0;
    g.matched = *ma_r != 0;
    g.match_score = *sc_r;
  }
  for (const auto& c : mt.categories)
    for (std::uint32_t gi : c.gt_index)
      if (gi != no_match && gi >= mt.gt.size()) return r.fail("gt_index", "out of range");
  if (!r.at_end()) return r.fail("payload", "trailing bytes after the last field");
  for (auto& c : mt.categories) detail::build_events(c, mt.params);
  return mt;
}

template <class = void>
[[nodiscard]] result<void> try_write_eval_state(const std::string& path, const coco_matches& mt) {
  return try_write_file_atomically(path, serialize_eval_state(mt));
}

template <class = void>
[[nodiscard]] result<coco_matches> try_read_eval_state(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error e = make_error(errc::io_open, "cannot open");
    e.file = path;
    return e;
  }
  std::string bytes;
  char buf[1 << 16];
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, got);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) {
    error e = make_error(errc::io_open, "read failed");
    e.file = path;
    return e;
  }
  return try_parse_eval_state(bytes, path);
}

namespace detail {
inline bool same_params(const coco_eval_params& a, const coco_eval_params& b) {
  if (a.iou_thresholds != b.iou_thresholds || a.recall_thresholds != b.recall_thresholds ||
      a.max_dets != b.max_dets || a.area_ranges.size() != b.area_ranges.size() ||
      a.categories != b.categories || a.gt_id_zero != b.gt_id_zero || a.mode != b.mode)
    return false;
  for (std::size_t i = 0; i < a.area_ranges.size(); ++i)
    if (a.area_ranges[i].label != b.area_ranges[i].label ||
        !(a.area_ranges[i].lo == b.area_ranges[i].lo) ||
        !(a.area_ranges[i].hi == b.area_ranges[i].hi))
      return false;
  return true;
}
}  // namespace detail

/// Merges shards (equal params and categories, disjoint images) into the single-run matching.
/// `names` (optional, one per shard) label errors.
template <class = void>
[[nodiscard]] result<coco_matches> try_merge_eval_states(
    const std::vector<coco_matches>& shards, const std::vector<std::string>& names = {}) {
  auto fail = [&](std::size_t s, std::string message) {
    error e = make_error(errc::eval_bad_state, std::move(message));
    if (s < names.size()) e.file = names[s];
    return e;
  };
  if (shards.empty()) return fail(0, "nothing to merge");
  coco_matches out;
  out.params = shards[0].params;
  const std::size_t A = out.params.area_ranges.size();
  for (std::size_t s = 0; s < shards.size(); ++s) {
    if (!detail::same_params(shards[s].params, out.params))
      return fail(s, "evaluated with other parameters than the first shard");
    if (shards[s].categories.size() != shards[0].categories.size())
      return fail(s, "has another category list than the first shard");
    for (std::size_t k = 0; k < shards[s].categories.size(); ++k)
      if (shards[s].categories[k].category_id != shards[0].categories[k].category_id)
        return fail(s, "has another category list than the first shard");
    out.image_ids.insert(out.image_ids.end(), shards[s].image_ids.begin(),
                         shards[s].image_ids.end());
    out.report.detections_read += shards[s].report.detections_read;
    out.report.detections_unknown_category += shards[s].report.detections_unknown_category;
    out.report.detections_unknown_image += shards[s].report.detections_unknown_image;
    out.report.detections_over_max_dets += shards[s].report.detections_over_max_dets;
  }
  std::sort(out.image_ids.begin(), out.image_ids.end());
  if (auto dup = std::adjacent_find(out.image_ids.begin(), out.image_ids.end());
      dup != out.image_ids.end()) {
    for (std::size_t s = 1; s < shards.size(); ++s)
      if (std::binary_search(shards[s].image_ids.begin(), shards[s].image_ids.end(), *dup))
        return fail(s, "image_id " + std::to_string(*dup) +
                           " is also in an earlier shard (shards must hold disjoint images)");
    return fail(0, "image_id " + std::to_string(*dup) + " appears twice");
  }
  const detail::id_index img(out.image_ids);
  std::vector<std::vector<std::uint32_t>> remap(shards.size());
  std::vector<std::uint32_t> det_base(shards.size()), gt_base(shards.size());
  std::uint64_t db = 0, gb = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    for (std::int64_t id : shards[s].image_ids) remap[s].push_back(img.find(id));
    det_base[s] = static_cast<std::uint32_t>(db);
    gt_base[s] = static_cast<std::uint32_t>(gb);
    db += shards[s].report.detections_read;
    gb += shards[s].gt.size();
    for (const auto& g : shards[s].gt) {
      out.gt.push_back(g);
      out.gt.back().image_index = remap[s][g.image_index];
    }
  }
  if (db >= 0xffffffffu || gb >= 0x7fffffffu) return fail(0, "too many detections or annotations");
  const std::size_t K = shards[0].categories.size();
  out.categories.resize(K);
  detail::parallel_for(K, out.params.threads, [&](std::size_t k) {
    coco_category_matches& c = out.categories[k];
    c.category_id = shards[0].categories[k].category_id;
    c.num_gt.assign(A, 0);
    struct key {
      double score;
      std::uint32_t image, rank, shard, pos;
    };
    std::vector<key> keys;
    for (std::size_t s = 0; s < shards.size(); ++s) {
      const coco_category_matches& x = shards[s].categories[k];
      for (std::size_t a = 0; a < A; ++a) c.num_gt[a] += x.num_gt[a];
      for (std::size_t i = 0; i < x.score.size(); ++i)
        keys.push_back({x.score[i], remap[s][x.image_index[i]], x.rank[i],
                        static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(i)});
    }
    // The single run's order: stable sort by score of the (image, rank)-ordered list.
    std::sort(keys.begin(), keys.end(), [](const key& x, const key& y) {
      if (x.score != y.score) return x.score > y.score;
      if (x.image != y.image) return x.image < y.image;
      return x.rank < y.rank;
    });
    const std::size_t n = keys.size();
    detail::resize_ranked(c, n, A);
    for (std::size_t i = 0; i < n; ++i) {
      const key& kk = keys[i];
      const coco_category_matches& x = shards[kk.shard].categories[k];
      c.score[i] = kk.score;
      c.image_index[i] = kk.image;
      c.rank[i] = kk.rank;
      c.detection_index[i] = det_base[kk.shard] + x.detection_index[kk.pos];
      c.gt_index[i] =
          x.gt_index[kk.pos] == no_match ? no_match : gt_base[kk.shard] + x.gt_index[kk.pos];
      for (std::size_t a = 0; a < A; ++a) {
        c.tp_mask[i * A + a] = x.tp_mask[kk.pos * A + a];
        c.ignore_mask[i * A + a] = x.ignore_mask[kk.pos * A + a];
      }
    }
    detail::build_events(c, out.params);
  });
  return out;
}

template <class = void>
void write_eval_state(const std::string& path, const coco_matches& mt) {
  try_write_eval_state(path, mt).value();
}
template <class = void>
coco_matches read_eval_state(const std::string& path) {
  return try_read_eval_state(path).value();
}
template <class = void>
coco_matches merge_eval_states(const std::vector<coco_matches>& shards) {
  return try_merge_eval_states(shards).value();
}

#undef DETKIT_STATE_GET

DETKIT_END_NAMESPACE

// detkit/class_selection.hpp — which Open Images classes a subset contains: exact names or MIDs,
// or a superclass of the hierarchy minus some subclasses, optionally relabelled to the parent;
// per-class attribute filtering with the reason counted; verified negatives as empty images.
//
// Mirrors what users ask of OIDv4_ToolKit (#73 "exclude some subset … label all in same super
// label", #34 negatives) and the TF expansion tool's view of the hierarchy: only Subcategory edges
// are followed (Part edges, e.g. Human face under Person, are not descendants), the root (Entity)
// is never a class.
//
// How it composes with the join (open_images_boxes.hpp): `join_classes` is the expanded MID list to
// join on (category id = index there); relabel() then maps those ids to the output classes.
//
//     auto sel = detkit::try_select_classes(table, &hierarchy,
//                    {{"Home appliance"}, {"Oven"}, selection_expansion::descendants,
//                     relabel_mode::to_parent});
//     try_join_boxes_file(csv, sel->join_classes, jo, joined);
//     detkit::relabel(sel.value(), joined);   // every box is now category 0 = Home appliance
//
// A class with two selected parents (Oven is under Home appliance and Kitchen appliance) goes to
// the parent listed first in the request, and is listed in `shared` so the caller can say so.
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detkit/amenity_classes.hpp"
#include "detkit/detail/format_hex.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"
#include "detkit/label_record.hpp"
#include "detkit/open_images_boxes.hpp"
#include "detkit/open_images_classes.hpp"
#include "detkit/open_images_hierarchy.hpp"
#include "detkit/open_images_labels.hpp"

DETKIT_BEGIN_NAMESPACE

/// Whether a target stands for itself only or for its whole Subcategory subtree.
enum class selection_expansion : std::uint8_t { exact, descendants };

/// What category a descendant's boxes get.
enum class relabel_mode : std::uint8_t {
  keep,      // each selected class is its own output class (targets first, then descendants)
  to_parent  // every descendant's boxes become the target's class (the superclass)
};

struct selection_request {
  std::vector<std::string> targets;   // display names or MIDs, in output order
  std::vector<std::string> excludes;  // display names or MIDs; removed with their descendants
  selection_expansion expansion = selection_expansion::exact;
  relabel_mode relabel = relabel_mode::keep;
};

/// A descendant reachable from two selected targets (a class with two parents).
struct shared_class {
  std::string mid;
  std::int32_t assigned_to = -1;  // output category it was given (the earlier target)
  std::int32_t also_under = -1;   // the other target's output category
};

struct class_selection {
  std::vector<class_info> join_classes;  // every MID to join; join category id = index
  std::vector<std::int32_t> output_of;   // join category id → output category id
  std::vector<class_info> classes;       // the output classes (category id = index)
  std::vector<std::string> excluded;     // MIDs removed by the excludes (with descendants)
  std::vector<shared_class> shared;      // classes with two selected parents

  /// Join index of `mid`, or -1.
  std::int32_t join_index(std::string_view mid) const {
    for (std::size_t i = 0; i < join_classes.size(); ++i) {
      if (join_classes[i].mid == mid) return static_cast<std::int32_t>(i);
    }
    return -1;
  }
};

namespace detail {

inline class_info class_of_mid(const class_table& table, const std::string& mid) {
  const auto i = table.find_mid(mid);
  // A hierarchy MID missing from the class file keeps its MID as its name (never dropped).
  return i < 0 ? class_info{mid, mid} : table.classes[static_cast<std::size_t>(i)];
}

}  // namespace detail

/// Resolves a selection request. Names are matched as try_resolve_classes does (exact, '_' for
/// ' ', MIDs). Errors: oi_unknown_class (a name not in `table`, with suggestions), usage
/// (descendants requested without a hierarchy, a target excluded, nothing left), oi_bad_hierarchy
/// (a target that is not in the hierarchy while descendants are requested).
template <class = void>
[[nodiscard]] result<class_selection> try_select_classes(const class_table& table,
                                                         const class_hierarchy* hierarchy,
                                                         const selection_request& req) {
  if (req.targets.empty()) return make_error(errc::usage, "no target classes given");
  if (req.expansion == selection_expansion::descendants && hierarchy == nullptr) {
    return make_error(errc::usage, "selecting descendants needs the class hierarchy JSON");
  }
  auto targets = try_resolve_classes(table, req.targets);
  if (!targets) return std::move(targets).error();
  std::vector<class_info> excludes;
  if (!req.excludes.empty()) {
    auto e = try_resolve_classes(table, req.excludes);
    if (!e) return std::move(e).error();
    excludes = std::move(*e);
  }
  // Excluded MIDs, with their descendants when a hierarchy is known.
  std::vector<std::string> excluded;
  for (const auto& e : excludes) {
    excluded.push_back(e.mid);
    if (hierarchy != nullptr) {
      const auto i = hierarchy->find(e.mid);
      if (i >= 0) {
        for (auto d : hierarchy->descendants(static_cast<std::uint32_t>(i))) {
          excluded.push_back(hierarchy->mids[d]);
        }
      }
    }
  }
  auto is_excluded = [&](const std::string& mid) {
    return std::find(excluded.begin(), excluded.end(), mid) != excluded.end();
  };
  class_selection sel;
  std::unordered_map<std::string, std::int32_t> join_of;  // MID → join index
  auto add_join = [&](const class_info& c, std::int32_t output) {
    join_of.emplace(c.mid, static_cast<std::int32_t>(sel.join_classes.size()));
    sel.join_classes.push_back(c);
    sel.output_of.push_back(output);
  };
  // Targets first, so with relabel_mode::keep category id t is the t-th target.
  for (const auto& t : *targets) {
    if (is_excluded(t.mid)) {
      return make_error(errc::usage, "target '" + t.name + "' (" + t.mid + ") is also excluded");
    }
    const auto out = static_cast<std::int32_t>(sel.classes.size());
    sel.classes.push_back(t);
    add_join(t, out);
  }
  if (req.expansion == selection_expansion::descendants) {
    for (std::size_t ti = 0; ti < targets->size(); ++ti) {
      const class_info& t = (*targets)[ti];
      const auto root = hierarchy->find(t.mid);
      if (root < 0) {
        return make_error(errc::oi_bad_hierarchy,
                          "target '" + t.name + "' (" + t.mid + ") is not in the class hierarchy");
      }
      for (auto d : hierarchy->descendants(static_cast<std::uint32_t>(root))) {
        const std::string& mid = hierarchy->mids[d];
        if (is_excluded(mid)) continue;
        const auto it = join_of.find(mid);
        if (it != join_of.end()) {
          // Already selected (another target, or a descendant of an earlier target).
          const std::int32_t prev = sel.output_of[static_cast<std::size_t>(it->second)];
          const auto here = static_cast<std::int32_t>(ti);
          if (req.relabel == relabel_mode::to_parent && prev != here &&
              static_cast<std::size_t>(it->second) >= targets->size()) {
            sel.shared.push_back({mid, prev, here});
          }
          continue;
        }
        const class_info c = detail::class_of_mid(table, mid);
        if (req.relabel == relabel_mode::to_parent) {
          add_join(c, static_cast<std::int32_t>(ti));
        } else {
          const auto out = static_cast<std::int32_t>(sel.classes.size());
          sel.classes.push_back(c);
          add_join(c, out);
        }
      }
    }
  }
  sel.excluded = std::move(excluded);
  return sel;
}

/// Splits "a,b,c" at `sep`; empty fields are kept (so "a,,b" is an error later, not a silent skip).
inline std::vector<std::string> split_list(std::string_view s, char sep = ',') {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

/// A target list as users write it: "airbnb" (the 30 amenity classes' MIDs, amenity_classes.hpp),
/// "@FILE" (one name or MID per line, CR/LF and blank lines ignored) or "NAME,NAME,...".
/// Errors: io_open (the @FILE), usage (an empty list).
[[nodiscard]] inline result<std::vector<std::string>> try_target_list(const std::string& spec) {
  std::vector<std::string> names;
  if (spec == "airbnb") {
    for (const auto& c : amenity_class_table) names.emplace_back(c.mid);
  } else if (!spec.empty() && spec[0] == '@') {
    auto m = detail::mapped_file::try_open(spec.substr(1));
    if (!m) return std::move(m).error();
    for (auto line : split_list(m->view(), '\n')) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
  } else if (!spec.empty()) {
    names = split_list(spec, ',');
  }
  if (names.empty()) return make_error(errc::usage, "the target list '" + spec + "' is empty");
  return names;
}

/// Sets the rule for the attribute called `name`: occluded, truncated, group-of (or group_of),
/// depiction, inside. Errors: usage naming the allowed names.
[[nodiscard]] inline result<void> try_set_attribute_rule(attribute_filter& f, std::string_view name,
                                                         flag_rule rule) {
  flag_rule* slot = name == "occluded"                           ? &f.occluded
                    : name == "truncated"                        ? &f.truncated
                    : (name == "group-of" || name == "group_of") ? &f.group_of
                    : name == "depiction"                        ? &f.depiction
                    : name == "inside"                           ? &f.inside
                                                                 : nullptr;
  if (slot == nullptr) {
    return make_error(errc::usage, "unknown attribute '" + std::string(name) +
                                       "' (occluded, truncated, group-of, depiction, inside)");
  }
  *slot = rule;
  return {};
}

/// "ATTR=1" → require_yes, "ATTR=0" → require_no. Errors: usage.
[[nodiscard]] inline result<void> try_set_attribute_requirement(attribute_filter& f,
                                                                std::string_view spec) {
  const auto eq = spec.find('=');
  const std::string_view v =
      eq == std::string_view::npos ? std::string_view() : spec.substr(eq + 1);
  if (v != "0" && v != "1") {
    return make_error(errc::usage, "expected ATTR=0 or ATTR=1, got '" + std::string(spec) + "'");
  }
  return try_set_attribute_rule(f, spec.substr(0, eq),
                                v == "1" ? flag_rule::require_yes : flag_rule::require_no);
}

/// Maps join category ids (index into sel.join_classes) to output category ids and sets
/// labels.classes to the output classes. Errors: oi_bad_box (a category id outside the join list).
[[nodiscard]] inline result<void> try_relabel(const class_selection& sel, label_set& labels) {
  for (auto& img : labels.images) {
    for (auto& b : img.boxes) {
      if (b.category_id < 0 || static_cast<std::size_t>(b.category_id) >= sel.output_of.size()) {
        return make_error(errc::oi_bad_box, "image '" + img.image_id + "': category_id " +
                                                std::to_string(b.category_id) +
                                                " is outside the selection's join classes");
      }
      b.category_id = sel.output_of[static_cast<std::size_t>(b.category_id)];
    }
  }
  labels.classes = sel.classes;
  return {};
}

/// Why a box was filtered: the first attribute (in this order) whose rule it fails.
enum class filter_reason : std::uint8_t { occluded, truncated, group_of, depiction, inside };
inline constexpr std::size_t filter_reason_count = 5;
inline const char* filter_reason_name(filter_reason r) noexcept {
  static const char* const names[filter_reason_count] = {"occluded", "truncated", "group-of",
                                                         "depiction", "inside"};
  return names[static_cast<std::size_t>(r)];
}

/// Per-class counts of an attribute filtering pass.
struct filter_counts {
  std::vector<std::array<std::uint64_t, filter_reason_count>> boxes_by_reason;  // [class][reason]
  std::vector<std::uint64_t> images_emptied;  // images of the class that lost all their boxes
  std::uint64_t boxes_seen = 0, boxes_kept = 0;
  std::uint64_t boxes_filtered() const noexcept {
    std::uint64_t n = 0;
    for (const auto& a : boxes_by_reason) {
      for (auto v : a) n += v;
    }
    return n;
  }
};

/// Drops boxes that fail `filter` (same rules as join_options::attributes, but counted per class
/// and reason); images left without boxes are removed (images that had none, i.e. verified
/// negatives, are kept). seen = kept + filtered always holds.
inline filter_counts filter_attributes(label_set& labels, const attribute_filter& filter) {
  filter_counts fc;
  const std::size_t k = labels.classes.size();
  fc.boxes_by_reason.assign(k, {});
  fc.images_emptied.assign(k, 0);
  const flag_rule rules[filter_reason_count] = {filter.occluded, filter.truncated, filter.group_of,
                                                filter.depiction, filter.inside};
  std::vector<image_record> kept;
  kept.reserve(labels.images.size());
  std::vector<char> had(k), has(k);
  for (auto& img : labels.images) {
    std::fill(had.begin(), had.end(), 0);
    std::fill(has.begin(), has.end(), 0);
    const bool had_none = img.boxes.empty();
    std::size_t w = 0;
    for (std::size_t i = 0; i < img.boxes.size(); ++i) {
      const label_box& b = img.boxes[i];
      const auto c = static_cast<std::size_t>(b.category_id);
      const tri_flag flags[filter_reason_count] = {
          b.flags.occluded, b.flags.truncated, b.flags.group_of, b.flags.depiction, b.flags.inside};
      ++fc.boxes_seen;
      if (c < k) had[c] = 1;
      std::size_t failed = filter_reason_count;
      for (std::size_t r = 0; r < filter_reason_count && failed == filter_reason_count; ++r) {
        if (!detail::flag_passes(rules[r], flags[r])) failed = r;
      }
      if (failed != filter_reason_count) {
        if (c < k) ++fc.boxes_by_reason[c][failed];
        continue;
      }
      if (c < k) has[c] = 1;
      img.boxes[w++] = b;
    }
    img.boxes.resize(w);
    fc.boxes_kept += w;
    for (std::size_t c = 0; c < k; ++c) {
      if (had[c] && !has[c]) ++fc.images_emptied[c];
    }
    // Images that had no boxes to begin with (verified negatives) stay; emptied ones go.
    if (w > 0 || had_none) kept.push_back(std::move(img));
  }
  labels.images = std::move(kept);
  return fc;
}

/// Adds verified-negative images: images with an image-level label of confidence 0 for a
/// selected (join) class, no confidence-1 label for any selected class and no box in `labels`.
/// They become records without boxes (true negatives for training). `labels_table` is the class
/// table the image labels were read with. Returns how many were added; labels stay sorted.
template <class = void>
std::size_t add_verified_negatives(label_set& labels, const class_selection& sel,
                                   const class_table& labels_table,
                                   const std::vector<image_label>& image_labels) {
  std::vector<char> selected(labels_table.classes.size(), 0);
  for (const auto& c : sel.join_classes) {
    const auto i = labels_table.find_mid(c.mid);
    if (i >= 0) selected[static_cast<std::size_t>(i)] = 1;
  }
  std::vector<std::uint64_t> neg, pos;
  for (const auto& l : image_labels) {
    if (l.class_index < 0 || !selected[static_cast<std::size_t>(l.class_index)]) continue;
    (l.confidence == 0.0f ? neg : pos).push_back(l.image_id);
  }
  auto uniq = [](std::vector<std::uint64_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  uniq(neg);
  uniq(pos);
  std::vector<std::uint64_t> have;
  have.reserve(labels.images.size());
  for (const auto& img : labels.images) have.push_back(img.image_id_u64);
  uniq(have);
  std::size_t added = 0;
  for (std::uint64_t id : neg) {
    if (std::binary_search(pos.begin(), pos.end(), id) ||
        std::binary_search(have.begin(), have.end(), id)) {
      continue;
    }
    image_record rec;
    rec.image_id_u64 = id;
    rec.image_id = detail::format_hex16(id);
    rec.file_name = rec.image_id + ".jpg";
    labels.images.push_back(std::move(rec));
    ++added;
  }
  normalize_label_set(labels);
  return added;
}

DETKIT_END_NAMESPACE

// detkit/split.hpp — seeded stratified subsets of a label_set, and merging splits.
//
// The recipe trains on a fraction of Open Images train and evaluates on validation + test merged
// into one "val_test" set. A plain random fraction under-samples rare classes (Dishwasher has 92
// train images); this one keeps every class's image count close to fraction x its full count.
// Algorithm: iterative stratification (Sechidis, Tsoumakas & Vlahavas, ECML 2011) for two
// subsets: repeatedly take the class with the fewest unassigned images and give each of them to
// the subset that still wants more of that class (ties: the subset that wants more images in
// total, then a coin). An image with several classes is counted once per class it contains, and
// assigned once. Images without boxes fill the remaining total at the end.
// Determinism: the only randomness is a splitmix64 stream (own code, not std::*_distribution, whose
// output differs between standard libraries), so a seed gives the same split on every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "detkit/error.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

namespace detail {

/// splitmix64 (Steele, Lea & Flood 2014): tiny, fast, the same numbers everywhere.
class split_rng {
 public:
  explicit split_rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound), bound > 0, without modulo bias (rejection).
  std::uint64_t below(std::uint64_t bound) noexcept {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (true) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  std::uint64_t state_;
};

inline label_set subset_of(const label_set& in, const std::vector<char>& take, char which) {
  label_set out;
  out.classes = in.classes;
  for (std::size_t i = 0; i < in.images.size(); ++i) {
    if (take[i] == which) out.images.push_back(in.images[i]);
  }
  return out;
}

}  // namespace detail

/// The two halves of a split; both keep the input's class list and image order.
struct split_pair {
  label_set selected;  // ≈ fraction of the images, stratified by class
  label_set rest;      // everything else
};

/// Splits `labels` into a stratified `fraction` (in [0,1]) and the rest, deterministically for
/// `seed`. Errors: usage (fraction outside [0,1] or NaN), oi_bad_box (a category id outside the
/// class list).
///
///     auto half = detkit::try_split_stratified(train, 0.1, 42);   // 10% of train, every class
[[nodiscard]] inline result<split_pair> try_split_stratified(const label_set& labels,
                                                             double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    return make_error(errc::usage,
                      "split fraction must be in [0, 1], got " + std::to_string(fraction));
  }
  const std::size_t n = labels.images.size();
  const std::size_t k = labels.classes.size();
  // Shuffled visiting order (Fisher–Yates), so ties never favour low image ids.
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  detail::split_rng rng(seed);
  for (std::size_t i = n; i > 1; --i) {
    std::swap(order[i - 1], order[static_cast<std::size_t>(rng.below(i))]);
  }
  // Distinct classes of each image, and each class's images in shuffled order.
  std::vector<std::vector<std::int32_t>> classes_of(n);
  std::vector<std::vector<std::size_t>> images_of(k);
  std::vector<char> seen(k, 0);
  for (std::size_t oi = 0; oi < n; ++oi) {
    const std::size_t i = order[oi];
    for (const label_box& b : labels.images[i].boxes) {
      if (b.category_id < 0 || static_cast<std::size_t>(b.category_id) >= k) {
        return make_error(errc::oi_bad_box, "image '" + labels.images[i].image_id +
                                                "': category_id " + std::to_string(b.category_id) +
                                                " is outside the " + std::to_string(k) +
                                                " classes");
      }
      const auto c = static_cast<std::size_t>(b.category_id);
      if (!seen[c]) {
        seen[c] = 1;
        classes_of[i].push_back(b.category_id);
        images_of[c].push_back(i);
      }
    }
    for (std::int32_t c : classes_of[i]) seen[static_cast<std::size_t>(c)] = 0;
  }
  // Desired counts per subset (0 = selected, 1 = rest), per class and in total.
  std::vector<double> want_sel(k), want_rest(k);
  std::vector<std::size_t> unassigned(k);
  for (std::size_t c = 0; c < k; ++c) {
    want_sel[c] = fraction * static_cast<double>(images_of[c].size());
    want_rest[c] = static_cast<double>(images_of[c].size()) - want_sel[c];
    unassigned[c] = images_of[c].size();
  }
  double total_sel = std::round(fraction * static_cast<double>(n));
  double total_rest = static_cast<double>(n) - total_sel;
  std::vector<char> assigned(n, -1);  // -1 unassigned, 0 selected, 1 rest
  auto assign = [&](std::size_t i, char to) {
    assigned[i] = to;
    (to == 0 ? total_sel : total_rest) -= 1.0;
    for (std::int32_t c32 : classes_of[i]) {
      const auto c = static_cast<std::size_t>(c32);
      (to == 0 ? want_sel[c] : want_rest[c]) -= 1.0;
      --unassigned[c];
    }
  };
  while (true) {
    std::size_t best = k;
    for (std::size_t c = 0; c < k; ++c) {
      if (unassigned[c] > 0 && (best == k || unassigned[c] < unassigned[best])) best = c;
    }
    if (best == k) break;
    for (std::size_t i : images_of[best]) {
      if (assigned[i] != -1) continue;
      char to;
      if (want_sel[best] != want_rest[best]) {
        to = want_sel[best] > want_rest[best] ? 0 : 1;
      } else if (total_sel != total_rest) {
        to = total_sel > total_rest ? 0 : 1;
      } else {
        to = static_cast<char>(rng.below(2));
      }
      assign(i, to);
    }
  }
  for (std::size_t i : order) {  // images without boxes
    if (assigned[i] == -1) assign(i, total_sel > 0 && total_sel >= total_rest ? 0 : 1);
  }
  split_pair out;
  out.selected = detail::subset_of(labels, assigned, 0);
  out.rest = detail::subset_of(labels, assigned, 1);
  return out;
}

/// Only the selected part of try_split_stratified.
[[nodiscard]] inline result<label_set> try_stratified_fraction(const label_set& labels,
                                                               double fraction,
                                                               std::uint64_t seed) {
  auto r = try_split_stratified(labels, fraction, seed);
  if (!r) return std::move(r).error();
  return std::move(r->selected);
}

/// Throwing spelling of try_stratified_fraction.
inline label_set stratified_fraction(const label_set& labels, double fraction, std::uint64_t seed) {
  return try_stratified_fraction(labels, fraction, seed).value();
}

/// What try_merge_splits does when one ImageID is in two splits.
enum class duplicate_policy {
  error,      // errc::oi_duplicate_key naming the image and both splits (default)
  keep_first  // keep the record from the earlier split in the argument list, drop the other
};

/// Concatenates splits (e.g. validation + test → val_test, as the recipe does) into one
/// label_set sorted by image_id. All splits must have the same class list (same MIDs and names in
/// the same order), so category ids keep their meaning; otherwise errc::usage.
///
///     auto val_test = detkit::try_merge_splits({&validation, &test});
[[nodiscard]] inline result<label_set> try_merge_splits(
    const std::vector<const label_set*>& splits,
    duplicate_policy policy = duplicate_policy::error) {
  label_set out;
  if (splits.empty()) return out;
  out.classes = splits[0]->classes;
  for (std::size_t s = 1; s < splits.size(); ++s) {
    const auto& cls = splits[s]->classes;
    if (cls.size() != out.classes.size()) {
      return make_error(errc::usage, "split " + std::to_string(s) + " has " +
                                         std::to_string(cls.size()) + " classes, split 0 has " +
                                         std::to_string(out.classes.size()) +
                                         ": merge only splits prepared with the same class list");
    }
    for (std::size_t c = 0; c < cls.size(); ++c) {
      if (cls[c].mid != out.classes[c].mid || cls[c].name != out.classes[c].name) {
        return make_error(errc::usage, "category " + std::to_string(c) + " is '" + cls[c].name +
                                           "' (" + cls[c].mid + ") in split " + std::to_string(s) +
                                           " but '" + out.classes[c].name + "' (" +
                                           out.classes[c].mid +
                                           ") in split 0: merge only splits prepared with the "
                                           "same class list");
      }
    }
  }
  struct ref {
    const image_record* rec;
    std::size_t split;
  };
  std::vector<ref> all;
  for (std::size_t s = 0; s < splits.size(); ++s) {
    for (const auto& img : splits[s]->images) all.push_back({&img, s});
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const ref& a, const ref& b) { return a.rec->image_id < b.rec->image_id; });
  out.images.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].rec->image_id == all[i - 1].rec->image_id) {
      if (policy == duplicate_policy::error) {
        return make_error(errc::oi_duplicate_key,
                          "image '" + all[i].rec->image_id + "' is in split " +
                              std::to_string(all[i - 1].split) + " and split " +
                              std::to_string(all[i].split) +
                              ": pass duplicate_policy::keep_first to keep the first");
      }
      continue;  // keep_first: stable sort put the earlier split first
    }
    out.images.push_back(*all[i].rec);
  }
  return out;
}

/// Throwing spelling of try_merge_splits.
inline label_set merge_splits(const std::vector<const label_set*>& splits,
                              duplicate_policy policy = duplicate_policy::error) {
  return try_merge_splits(splits, policy).value();
}

DETKIT_END_NAMESPACE

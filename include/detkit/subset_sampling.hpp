// detkit/subset_sampling.hpp — seeded per-class caps, class-balanced sampling, and a stated
// tolerance check for stratified fractions (the fraction itself is split.hpp's
// try_stratified_fraction; this file does not re-implement it).
//
// Users ask for "N images per class" (OIDv4_ToolKit --limit is a total; Person has 800k images,
// Dishwasher 92) and for "10% with the same class distribution" (the Airbnb recipe). Counting
// rule everywhere here: an image counts once for every class it contains, however many boxes of
// that class it has, and is taken (or not) whole — boxes are never dropped, because a dropped box
// would turn a labelled object into a false "background".
//
// Caps: classes are visited rarest first (fewest images); each takes images from its own shuffled
// list until it holds `cap` images. An image taken for one class also counts for its other
// classes, so a frequent class that co-occurs with rare ones can end above its cap (reported in
// cap_report::over_cap); a class with fewer than `cap` images keeps all of them.
// Determinism: the shuffle is split.hpp's splitmix64 stream, so a seed gives the same subset on
// every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "detkit/error.hpp"
#include "detkit/label_record.hpp"
#include "detkit/split.hpp"

DETKIT_BEGIN_NAMESPACE

/// Images per class (each image once per class it contains). Category ids outside the class list
/// are not counted (the joins never produce them).
inline std::vector<std::uint64_t> class_image_counts(const label_set& labels) {
  const std::size_t k = labels.classes.size();
  std::vector<std::uint64_t> n(k, 0);
  std::vector<std::uint32_t> last(k, 0);  // image index + 1 of the last count, per class
  for (std::size_t i = 0; i < labels.images.size(); ++i) {
    for (const label_box& b : labels.images[i].boxes) {
      const auto c = static_cast<std::size_t>(b.category_id);
      if (c >= k || last[c] == i + 1) continue;
      last[c] = static_cast<std::uint32_t>(i + 1);
      ++n[c];
    }
  }
  return n;
}

/// Per-class image counts after sampling, and the classes that ended above their cap.
struct cap_report {
  std::vector<std::uint64_t> before, after;
  std::vector<std::int32_t> over_cap;  // category ids with after > cap (co-occurrence)
};

/// Keeps at most about `cap` images per class (see the file comment for the exact rule). Images
/// without boxes (verified negatives) are kept only up to `negatives_cap` (shuffled, seeded).
[[nodiscard]] inline result<label_set> try_cap_per_class(const label_set& labels, std::uint64_t cap,
                                                         std::uint64_t seed,
                                                         std::uint64_t negatives_cap = 0,
                                                         cap_report* report = nullptr) {
  const std::size_t n = labels.images.size(), k = labels.classes.size();
  std::vector<std::vector<std::size_t>> images_of(k);
  std::vector<std::size_t> negatives;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& img = labels.images[i];
    if (img.boxes.empty()) negatives.push_back(i);
    for (const label_box& b : img.boxes) {
      if (b.category_id < 0 || static_cast<std::size_t>(b.category_id) >= k) {
        return make_error(errc::oi_bad_box, "image '" + img.image_id + "': category_id " +
                                                std::to_string(b.category_id) + " is outside the " +
                                                std::to_string(k) + " classes");
      }
      auto& v = images_of[static_cast<std::size_t>(b.category_id)];
      if (v.empty() || v.back() != i) v.push_back(i);
    }
  }
  detail::split_rng rng(seed);
  auto shuffle = [&rng](std::vector<std::size_t>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[static_cast<std::size_t>(rng.below(i))]);
    }
  };
  std::vector<std::size_t> order(k);
  for (std::size_t c = 0; c < k; ++c) {
    order[c] = c;
    shuffle(images_of[c]);
  }
  shuffle(negatives);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return images_of[a].size() < images_of[b].size();
  });
  std::vector<char> take(n, 0);
  std::vector<std::uint64_t> held(k, 0);
  auto take_image = [&](std::size_t i) {
    take[i] = 1;
    std::int32_t last = -1;  // boxes of a class are usually adjacent; count each class once
    std::vector<std::int32_t> seen;
    for (const label_box& b : labels.images[i].boxes) {
      if (b.category_id == last ||
          std::find(seen.begin(), seen.end(), b.category_id) != seen.end()) {
        continue;
      }
      last = b.category_id;
      seen.push_back(b.category_id);
      ++held[static_cast<std::size_t>(b.category_id)];
    }
  };
  for (std::size_t c : order) {
    for (std::size_t i : images_of[c]) {
      if (held[c] >= cap) break;
      if (!take[i]) take_image(i);
    }
  }
  for (std::size_t j = 0; j < negatives.size() && j < negatives_cap; ++j) take[negatives[j]] = 1;
  if (report != nullptr) {
    report->before.assign(k, 0);
    for (std::size_t c = 0; c < k; ++c) report->before[c] = images_of[c].size();
    report->after = held;
    report->over_cap.clear();
    for (std::size_t c = 0; c < k; ++c) {
      if (held[c] > cap) report->over_cap.push_back(static_cast<std::int32_t>(c));
    }
  }
  return detail::subset_of(labels, take, 1);
}

/// Class-balanced sampling: every class capped at the image count of the rarest present class
/// (or at `cap` when it is smaller and non-zero). Same rule and report as try_cap_per_class.
[[nodiscard]] inline result<label_set> try_balance_classes(const label_set& labels,
                                                           std::uint64_t seed,
                                                           std::uint64_t cap = 0,
                                                           cap_report* report = nullptr) {
  const auto counts = class_image_counts(labels);
  std::uint64_t rarest = 0;
  for (auto v : counts) {
    if (v > 0 && (rarest == 0 || v < rarest)) rarest = v;
  }
  if (cap != 0 && cap < rarest) rarest = cap;
  return try_cap_per_class(labels, rarest, seed, 0, report);
}

/// How close a subset's class distribution is to the full split's.
/// share = images containing the class / all images of the set. The check is on
/// |share_subset - share_full| <= tolerance (absolute, as a fraction: 0.02 = 2 percentage
/// points). kept_fraction = subset images of the class / full images of the class is reported
/// beside it (it should be close to the requested fraction).
struct proportion_row {
  std::uint64_t full_images = 0, subset_images = 0;
  double share_full = 0, share_subset = 0;
  double kept_fraction = 0;  // subset_images / full_images (0 when the class is absent)
  bool within = true;
};

struct proportion_check {
  double tolerance = 0;
  double max_deviation = 0;  // max |share_subset - share_full| over the classes
  std::vector<proportion_row> rows;
  bool ok() const noexcept { return max_deviation <= tolerance; }
};

/// Compares per-class shares of `subset` against `full` (same class list).
[[nodiscard]] inline result<proportion_check> try_check_proportions(const label_set& full,
                                                                    const label_set& subset,
                                                                    double tolerance) {
  if (full.classes.size() != subset.classes.size()) {
    return make_error(errc::usage, "the subset has " + std::to_string(subset.classes.size()) +
                                       " classes, the full split " +
                                       std::to_string(full.classes.size()));
  }
  if (!(tolerance >= 0.0)) {
    return make_error(errc::usage, "tolerance must be >= 0, got " + std::to_string(tolerance));
  }
  const auto a = class_image_counts(full), b = class_image_counts(subset);
  const double nf = static_cast<double>(full.images.size());
  const double ns = static_cast<double>(subset.images.size());
  proportion_check pc;
  pc.tolerance = tolerance;
  pc.rows.resize(a.size());
  for (std::size_t c = 0; c < a.size(); ++c) {
    proportion_row& r = pc.rows[c];
    r.full_images = a[c];
    r.subset_images = b[c];
    r.share_full = nf > 0 ? static_cast<double>(a[c]) / nf : 0.0;
    r.share_subset = ns > 0 ? static_cast<double>(b[c]) / ns : 0.0;
    r.kept_fraction = a[c] > 0 ? static_cast<double>(b[c]) / static_cast<double>(a[c]) : 0.0;
    const double d = std::fabs(r.share_subset - r.share_full);
    r.within = d <= tolerance;
    pc.max_deviation = std::max(pc.max_deviation, d);
  }
  return pc;
}

DETKIT_END_NAMESPACE

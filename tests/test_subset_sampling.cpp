// tests/test_subset_sampling.cpp — detkit/subset_sampling.hpp: per-class caps and balance on the
// real Bed rows and on a seeded multi-class set, stratified fractions with the tolerance check.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "detkit/open_images.hpp"
#include "detkit/subset_sampling.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

detkit::label_set bed_labels() {
  auto table =
      detkit::read_class_descriptions(fixture("openimages/class-descriptions-boxable.v4.csv"));
  auto targets = detkit::try_resolve_classes(table, {"Bed"});
  detkit::label_set out;
  detkit::join_options jo;
  auto r = detkit::try_join_boxes_file(fixture("openimages/validation-annotations-bbox.v5.bed.csv"),
                                       *targets, jo, out);
  if (!r) throw std::runtime_error(r.error().to_string());
  return out;
}

// A seeded multi-class set: class c appears in about n / (c + 2) images (skewed like Open
// Images), images have 1-3 classes. Independent of the code under test (own LCG).
detkit::label_set synthetic(std::size_t n, std::size_t k, std::uint64_t seed) {
  detkit::label_set ls;
  for (std::size_t c = 0; c < k; ++c)
    ls.classes.push_back({"/m/c" + std::to_string(c), "c" + std::to_string(c)});
  std::uint64_t s = seed;
  auto next = [&s] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  for (std::size_t i = 0; i < n; ++i) {
    detkit::image_record rec;
    rec.image_id_u64 = i + 1;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(i + 1));
    rec.image_id = buf;
    const std::size_t m = 1 + next() % 3;
    for (std::size_t j = 0; j < m; ++j) {
      // Pick class c with weight 1 / (c + 2).
      double total = 0;
      for (std::size_t c = 0; c < k; ++c) total += 1.0 / static_cast<double>(c + 2);
      double u = static_cast<double>(next() % 1000000) / 1e6 * total;
      std::size_t c = 0;
      while (c + 1 < k && u >= 1.0 / static_cast<double>(c + 2)) {
        u -= 1.0 / static_cast<double>(c + 2);
        ++c;
      }
      const std::size_t boxes = 1 + next() % 2;
      for (std::size_t b = 0; b < boxes; ++b) {
        detkit::label_box box;
        box.category_id = static_cast<std::int32_t>(c);
        rec.boxes.push_back(box);
      }
    }
    ls.images.push_back(rec);
  }
  return ls;
}

std::set<std::string> ids(const detkit::label_set& l) {
  std::set<std::string> s;
  for (const auto& i : l.images) s.insert(i.image_id);
  return s;
}

// Images per class, counted here by hand (each image once per class).
std::vector<std::size_t> count_by_hand(const detkit::label_set& l) {
  std::vector<std::size_t> n(l.classes.size());
  for (const auto& img : l.images) {
    std::set<std::int32_t> seen;
    for (const auto& b : img.boxes) seen.insert(b.category_id);
    for (auto c : seen) ++n[static_cast<std::size_t>(c)];
  }
  return n;
}

}  // namespace

TEST_CASE("subset_sampling: caps on the real Bed rows", "[subset]") {
  const auto bed = bed_labels();
  REQUIRE(bed.images.size() == 103);
  CHECK(detkit::class_image_counts(bed) == std::vector<std::uint64_t>{103});
  auto a = detkit::try_cap_per_class(bed, 50, 7);
  REQUIRE(a);
  CHECK(a->images.size() == 50);
  std::size_t boxes = 0;
  for (const auto& img : a->images) boxes += img.boxes.size();
  CHECK(boxes >= 50);  // images are taken whole (all their Bed boxes)
  auto again = detkit::try_cap_per_class(bed, 50, 7);
  CHECK(ids(*again) == ids(*a));  // seeded: the same images
  auto other = detkit::try_cap_per_class(bed, 50, 8);
  CHECK(ids(*other) != ids(*a));
  auto all = detkit::try_cap_per_class(bed, 1000, 7);
  CHECK(all->images.size() == 103);  // fewer than the cap: all kept
  // Kept images keep their order (sorted by ImageID) and are from the input.
  const auto in = ids(bed);
  for (const auto& i : a->images) CHECK(in.count(i.image_id) == 1);
  CHECK(std::is_sorted(a->images.begin(), a->images.end(),
                       [](const auto& x, const auto& y) { return x.image_id < y.image_id; }));
}

TEST_CASE("subset_sampling: caps and balance with several classes per image", "[subset]") {
  const auto full = synthetic(3000, 12, 11);
  const auto before = count_by_hand(full);
  for (std::uint64_t cap : {5u, 40u, 200u}) {
    detkit::cap_report rep;
    auto s = detkit::try_cap_per_class(full, cap, 3, 0, &rep);
    REQUIRE(s);
    const auto after = count_by_hand(*s);
    for (std::size_t c = 0; c < after.size(); ++c) {
      CHECK(rep.before[c] == before[c]);
      CHECK(rep.after[c] == after[c]);
      // Every class reaches its cap (or all its images) ...
      CHECK(after[c] >= std::min<std::size_t>(cap, before[c]));
      const bool listed = std::find(rep.over_cap.begin(), rep.over_cap.end(),
                                    static_cast<std::int32_t>(c)) != rep.over_cap.end();
      // ... and the classes above it are the ones reported.
      CHECK(listed == (after[c] > cap));
    }
  }
  const std::size_t rarest = *std::min_element(before.begin(), before.end());
  detkit::cap_report rep;
  auto bal = detkit::try_balance_classes(full, 3, 0, &rep);
  REQUIRE(bal);
  for (auto v : count_by_hand(*bal)) CHECK(v >= rarest);
  // A category id outside the class list is an error, not a crash.
  auto broken = full;
  broken.images[0].boxes[0].category_id = 99;
  CHECK_FALSE(detkit::try_cap_per_class(broken, 5, 1));
}

TEST_CASE("subset_sampling: stratified fraction within a stated tolerance", "[subset]") {
  const auto full = synthetic(20000, 30, 5);
  auto sub = detkit::try_stratified_fraction(full, 0.1, 42);
  REQUIRE(sub);
  // split.hpp balances per-class wants first, so the total lands near (not at) 10%.
  const double ns = static_cast<double>(sub->images.size());
  CHECK(std::fabs(ns - 2000.0) <= 20.0);
  auto pc = detkit::try_check_proportions(full, *sub, 0.02);
  REQUIRE(pc);
  CHECK(pc->ok());
  // Recompute the shares by hand and compare with the report.
  const auto a = count_by_hand(full), b = count_by_hand(*sub);
  double worst = 0;
  for (std::size_t c = 0; c < a.size(); ++c) {
    const double sf = static_cast<double>(a[c]) / 20000.0, ss = static_cast<double>(b[c]) / ns;
    CHECK(pc->rows[c].share_full == Approx(sf));
    CHECK(pc->rows[c].share_subset == Approx(ss));
    worst = std::max(worst, std::fabs(ss - sf));
    // Iterative stratification keeps each class within about one image of 10%.
    CHECK(std::fabs(static_cast<double>(b[c]) - 0.1 * static_cast<double>(a[c])) <= 2.0);
  }
  CHECK(pc->max_deviation == Approx(worst));
  // The check can fail: a subset made of class-0 images only is far off.
  detkit::label_set biased;
  biased.classes = full.classes;
  for (const auto& img : full.images) {
    if (img.boxes[0].category_id == 0 && biased.images.size() < 2000) biased.images.push_back(img);
  }
  auto bad = detkit::try_check_proportions(full, biased, 0.02);
  REQUIRE(bad);
  CHECK_FALSE(bad->ok());
  CHECK_FALSE(bad->rows[0].within);
  // Usage errors.
  CHECK_FALSE(detkit::try_check_proportions(full, biased, -1.0));
  detkit::label_set other;
  CHECK_FALSE(detkit::try_check_proportions(full, other, 0.02));
}

TEST_CASE("subset_sampling: stratified halves of the real Bed + Apple + Orange labels",
          "[subset]") {
  auto table =
      detkit::read_class_descriptions(fixture("openimages/class-descriptions-boxable.v4.csv"));
  auto targets = detkit::try_resolve_classes(table, {"Bed", "Apple", "Orange"});
  REQUIRE(targets);
  detkit::label_set ls;
  REQUIRE(detkit::try_join_boxes_file(fixture("openimages/validation-annotations-bbox.v5.bed.csv"),
                                      *targets, {}, ls));
  for (int k = 1; k <= 2; ++k) {
    detkit::join_options jo;
    jo.label_for_all = (*targets)[static_cast<std::size_t>(k)].mid;
    REQUIRE(detkit::try_join_boxes_file(
        fixture(std::string("openimages/images/") + (k == 1 ? "Apple" : "Orange") + ".csv"),
        *targets, jo, ls));
  }
  detkit::normalize_label_set(ls);
  const auto full = count_by_hand(ls);
  REQUIRE(full == std::vector<std::size_t>{103, 4, 4});
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto half = detkit::try_split_stratified(ls, 0.5, seed);
    REQUIRE(half);
    const auto a = count_by_hand(half->selected), b = count_by_hand(half->rest);
    for (std::size_t c = 0; c < 3; ++c) {
      CHECK(a[c] + b[c] == full[c]);
      CHECK(std::fabs(static_cast<double>(a[c]) - 0.5 * static_cast<double>(full[c])) <= 1.0);
    }
    // Shares within 2 points of the full set's (the stated tolerance), checked both ways.
    auto pc = detkit::try_check_proportions(ls, half->selected, 0.02);
    REQUIRE(pc);
    CHECK(pc->ok());
    // The deviation is real (111 images cannot split exactly) and a tolerance below it fails.
    REQUIRE(pc->max_deviation > 0.0);
    auto strict = detkit::try_check_proportions(ls, half->selected, pc->max_deviation / 2);
    REQUIRE(strict);
    CHECK_FALSE(strict->ok());
  }
}

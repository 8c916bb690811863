// tests/retinanet/test_detection_compare.cpp — the tie-tolerant detection comparison of the GPU
// tests (tests/cuda/detection_compare.hpp), checked on the CPU: it accepts what near-equal scores
// can do (swap ranks, keep another box at a cut, keep a tie partner) and rejects the rest.
#include <catch2/catch.hpp>
#include <vector>

#include "../cuda/detection_compare.hpp"

namespace {

using det = detkit::cuda::detection;
det make(float x, float score, int label) {
  return det{{x, 10.0f, x + 20.0f, 40.0f}, score, label};
}

// Ten detections, best first, scores 0.9, 0.8, ... apart by far more than the tolerance; the last
// two tied within it.
std::vector<det> reference() {
  std::vector<det> v;
  for (int i = 0; i < 8; ++i)
    v.push_back(make(50.0f * static_cast<float>(i), 0.9f - 0.05f * static_cast<float>(i), i % 3));
  v.push_back(make(500.0f, 0.3f, 1));
  v.push_back(make(550.0f, 0.3f - 2e-6f, 2));
  return v;
}

}  // namespace

TEST_CASE("detection compare: equal lists, tie swaps and cuts pass", "[retinanet][detections]") {
  const auto ref = reference();
  detection_comparison r = compare_detections(ref, ref, {0.05});
  CHECK(r.matched == ref.size());
  CHECK(r.order_errors == 0);
  CHECK(r.unexplained == 0);

  auto swapped = ref;  // the tied pair in the other order, scores a few ulps apart
  std::swap(swapped[8], swapped[9]);
  swapped[8].score += 1e-6f;
  swapped[8].box[0] += 0.001f;
  r = compare_detections(swapped, ref, {0.05});
  CHECK(r.order_errors == 0);
  CHECK(r.unexplained == 0);

  auto cut = ref;  // the last one dropped, a new one kept at the same (cut) score
  cut.back() = make(700.0f, 0.3f - 3e-6f, 0);
  r = compare_detections(cut, ref, {0.05, 0.3 - 2e-6});
  CHECK(r.unexplained == 0);

  auto partner = ref;  // NMS between near-tied overlapping boxes: the other one of the pair kept
  partner[8] = make(505.0f, 0.3f + 1e-6f, 1);  // overlaps the reference's by 0.6
  r = compare_detections(partner, ref, {0.05});
  CHECK(r.unexplained == 0);
}

TEST_CASE("detection compare: real differences fail", "[retinanet][detections]") {
  const auto ref = reference();
  auto order = ref;  // two far-apart scores in the other order
  std::swap(order[1], order[2]);
  CHECK(compare_detections(order, ref, {0.05}).order_errors > 0);

  auto moved = ref;  // a box moved (IoU 0.25 with where it was), label and score kept
  moved[3].box[0] += 12.0f;
  moved[3].box[2] += 12.0f;
  CHECK(compare_detections(moved, ref, {0.05}).unexplained == 2);

  auto relabelled = ref;
  relabelled[4].label = 2;
  CHECK(compare_detections(relabelled, ref, {0.05}).unexplained == 2);

  auto rescored = ref;  // a score off by 1e-4, not at a cut
  rescored[5].score += 1e-4f;
  CHECK(compare_detections(rescored, ref, {0.05}).unexplained == 2);

  auto missing = ref;  // a detection lost in the middle of the list
  missing.erase(missing.begin() + 2);
  CHECK(compare_detections(missing, ref, {0.05}).unexplained == 1);
  CHECK(compare_detections(missing, ref, {0.05}).order_errors == 0);
}

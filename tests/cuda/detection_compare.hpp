// tests/cuda/detection_compare.hpp — detections of two devices compared up to ties (used by
// test_ops_gpu.cpp; its rules are tested on the CPU in tests/retinanet/test_detection_compare.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "model/retinanet.hpp"

struct detection_comparison {
  std::size_t matched = 0;
  int order_errors = 0;  // matched pairs in another order where their reference scores differ
  int unexplained = 0;   // leftovers that are neither a tie partner nor at a cut
};

inline double box_iou_host(const float* a, const float* b) {
  const double iw = static_cast<double>(std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double ih = static_cast<double>(std::min(a[3], b[3]) - std::max(a[1], b[1]));
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double ua = static_cast<double>(a[2] - a[0]) * static_cast<double>(a[3] - a[1]);
  const double ub = static_cast<double>(b[2] - b[0]) * static_cast<double>(b[3] - b[1]);
  return inter / (ua + ub - inter);
}

/// Detections of the two devices (`ref`: the CPU twin's, best first), equal up to ties: CUDA's
/// expf differs from glibc's by an ulp or two and a free-running forward adds GEMM-order noise, so
/// scores closer than `score_tol` may swap ranks, and at a cut (the score threshold, a level's
/// top-k, the last of max_keep, NMS between near-tied boxes) one device may keep a box the other
/// dropped. Every reference detection must find one of the same label with IoU >= 0.99 and score
/// within score_tol; matched pairs keep their order wherever their reference scores differ by more
/// than score_tol; a leftover on either side must be a tie partner (a leftover of the other side
/// with the same label, score within score_tol, overlapping it by more than the NMS threshold, so
/// that either could have suppressed the other) or sit within score_tol of one of `cuts`. (A box
/// moved by less than that overlap, keeping its label and score, looks like such a partner.)
inline detection_comparison compare_detections(const std::vector<detkit::cuda::detection>& got,
                                               const std::vector<detkit::cuda::detection>& ref,
                                               const std::vector<double>& cuts,
                                               double score_tol = 1e-5, double nms_iou = 0.5) {
  auto score = [](const detkit::cuda::detection& d) { return static_cast<double>(d.score); };
  detection_comparison r;
  std::vector<char> used(got.size(), 0), matched(ref.size(), 0);
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (ref rank, got rank)
  for (std::size_t i = 0; i < ref.size(); ++i)
    for (std::size_t j = 0; j < got.size(); ++j) {
      if (used[j] || got[j].label != ref[i].label ||
          std::fabs(score(got[j]) - score(ref[i])) > score_tol ||
          box_iou_host(got[j].box, ref[i].box) < 0.99)
        continue;
      used[j] = matched[i] = 1;
      pairs.emplace_back(i, j);
      break;
    }
  r.matched = pairs.size();
  for (const auto& p : pairs)
    for (const auto& q : pairs)
      if (score(ref[p.first]) > score(ref[q.first]) + score_tol && p.second > q.second)
        ++r.order_errors;
  auto at_a_cut = [&](double s) {
    for (double c : cuts)
      if (std::fabs(s - c) <= score_tol) return true;
    return false;
  };
  std::vector<char> partner(got.size(), 0);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (matched[i]) continue;
    bool ok = at_a_cut(score(ref[i]));
    for (std::size_t j = 0; j < got.size() && !ok; ++j)
      if (!used[j] && !partner[j] && got[j].label == ref[i].label &&
          std::fabs(score(got[j]) - score(ref[i])) <= score_tol &&
          box_iou_host(got[j].box, ref[i].box) > nms_iou) {
        partner[j] = 1;
        ok = true;
      }
    r.unexplained += ok ? 0 : 1;
  }
  for (std::size_t j = 0; j < got.size(); ++j)
    if (!used[j] && !partner[j] && !at_a_cut(score(got[j]))) ++r.unexplained;
  return r;
}

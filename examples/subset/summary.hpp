// examples/subset/summary.hpp — detkit-subset's per-class report: the typed rows (found,
// filtered by reason, requested, sampled, on disk, kept) and its two renderers, the printed table
// and the --summary TSV.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "detkit/class_selection.hpp"
#include "detkit/label_record.hpp"
#include "detkit/subset_sampling.hpp"

namespace detkit_subset {

// Per-class numbers of the run summary.
struct class_row {
  std::uint64_t found_images = 0, found_boxes = 0;
  std::array<std::uint64_t, detkit::filter_reason_count> filtered{};
  std::uint64_t requested = 0;  // what the sampling asked for (images)
  std::uint64_t sampled_images = 0;
  std::uint64_t downloaded = 0, missing = 0, corrupt = 0;  // among the sampled (with --images)
  std::uint64_t kept_images = 0, kept_boxes = 0;
};

/// Sets rows[c].*images (and .*boxes unless null) to class c's image (box) count in `l`.
void count_found(const detkit::label_set& l, std::vector<class_row>& rows,
                 std::uint64_t class_row::*images, std::uint64_t class_row::*boxes);

/// The rows as TSV (one line per class; '-' for the image-file columns without --images).
std::string summary_tsv(const detkit::label_set& l, const std::vector<class_row>& rows,
                        bool have_images);

/// The rows as the printed table on stdout.
void print_summary(const detkit::label_set& l, const std::vector<class_row>& rows,
                   bool have_images);

}  // namespace detkit_subset

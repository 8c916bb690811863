// examples/eval/cache_ground_truth.hpp — detkit-eval's reader for a detkit label cache as Open
// Images ground truth (its own translation unit, so label_cache.hpp and csv.hpp never share one).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "detkit/error.hpp"
#include "detkit/label_record.hpp"
#include "detkit/open_images_eval.hpp"

namespace detkit_eval {

/// Opens (and verifies) a label cache written by detkit-prepare; appends its classes, its boxes as
/// Open Images GT boxes (relative coordinates, group-of flag), and returns the image count.
detkit::result<std::size_t> read_cache_ground_truth(const std::string& path,
                                                    std::vector<detkit::class_info>& classes,
                                                    std::vector<detkit::oi_gt_box>& boxes);

}  // namespace detkit_eval

// examples/eval/worst_images.hpp — detkit-eval --worst pictures: an image with its GT boxes and
// detections drawn, each labelled with its class, score and kind (matched GT, missed GT, true or
// false positive), and a legend strip under the picture naming the kinds' colours.
#pragma once

#include <string>
#include <vector>

#include "common/draw.hpp"
#include "detkit/box.hpp"
#include "detkit/coco_eval.hpp"

namespace detkit_eval {

enum class box_kind { matched_gt, missed_gt, true_positive, false_positive };

/// A COCO [x, y, w, h] box with its kind, class name and score (detections) as a labelled box.
detkit_draw::labelled_box worst_box(const detkit::coco_bbox& b, box_kind kind,
                                    const std::string& class_name, double score);

/// Draws `boxes` and the legend on the image `in` and writes the PNG `out` (temp file + rename).
/// Returns false, with a message on stderr, when the image cannot be read or written.
bool draw_image(const std::string& in, const std::string& out,
                const std::vector<detkit_draw::labelled_box>& boxes);

}  // namespace detkit_eval

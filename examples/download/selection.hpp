// examples/download/selection.hpp — which images detkit-download fetches, and their labels.
//
// Two inputs: the Open Images CSVs joined on exact MIDs (the library's class-descriptions and
// bbox readers, the same join detkit-prepare uses), or a downloader.py-style `split/ImageID` list.
// The labels of the selected images are written as a label cache per split once the images are on
// disk (image sizes come from the JPEG headers).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "detkit/error.hpp"
#include "detkit/label_record.hpp"
#include "detkit/open_images_boxes.hpp"

namespace detkit_download {

struct selection_request {
  std::vector<std::string> boxes;   // bbox CSVs
  std::vector<std::string> splits;  // one per boxes file, or one split for all of them
  std::string classes_path;         // class descriptions CSV
  std::string target;               // "A,B", "@file" (one per line) or "airbnb"
  std::string image_list;  // with boxes: keep only these ImageIDs; alone: the images to fetch,
                           // lines split/ImageID (downloader.py's input, no labels)
  std::size_t limit = 0;   // 0: no limit
  std::size_t max_per_class = 0;  // 0: no cap
  detkit::attribute_filter attributes{};
  detkit::rounding_policy rounding = detkit::rounding_policy::none;
  std::string settings;  // the selection flags as text (for the cache fingerprint)
  unsigned threads = 0;  // CSV scan threads (0: all cores)
};

struct class_count {
  std::string name;
  std::size_t images = 0, boxes = 0;
};

struct split_selection {
  std::string split;
  std::vector<std::string> image_ids;  // sorted, unique
  detkit::label_set labels;            // classes empty when from an image list
  std::vector<std::string> sources;    // input files (for the cache fingerprint)
  std::string settings;                // selection settings (for the cache fingerprint)
  detkit::rounding_policy rounding = detkit::rounding_policy::none;
  std::size_t boxes_kept = 0;
  std::vector<class_count> per_class;  // in target order
};

/// True for 16 hex digits (an Open Images ImageID).
bool is_image_id(const std::string& s);

/// True for a split name that is safe as a folder name: [A-Za-z0-9_-]+ (train, validation,
/// test, challenge2018, ...), so a list line can never write outside --out.
bool is_split_name(const std::string& s);

/// Resolves targets, joins the CSVs (the library's exact-MID join) or reads the list, applies
/// --max-per-class and --limit. Errors are located (file:line) and never partial.
[[nodiscard]] detkit::result<std::vector<split_selection>> select_images(
    const selection_request& req);

/// Writes `<dir>/labels.dkc` (atomically) for the selected images marked `present` (same order
/// as sel.image_ids). `sizes` (same order) caches the sizes read from the JPEG headers between
/// calls, so periodic rewrites during a download read each header once. Returns a one-line
/// description.
[[nodiscard]] detkit::result<std::string> write_split_labels(
    const split_selection& sel, const std::string& dir, const std::vector<bool>& present,
    std::vector<detkit::image_size>& sizes);

}  // namespace detkit_download

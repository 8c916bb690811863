// examples/subset/summary.cpp — see summary.hpp.
#include "subset/summary.hpp"

#include <algorithm>
#include <cstdio>

#include "detkit/class_selection.hpp"

namespace detkit_subset {

void count_found(const detkit::label_set& l, std::vector<class_row>& rows,
                 std::uint64_t class_row::*images, std::uint64_t class_row::*boxes) {
  const auto n = detkit::class_image_counts(l);
  for (std::size_t c = 0; c < rows.size(); ++c) rows[c].*images = n[c];
  if (boxes == nullptr) return;
  for (const auto& img : l.images) {
    for (const auto& b : img.boxes) ++(rows[static_cast<std::size_t>(b.category_id)].*boxes);
  }
}

std::string summary_tsv(const detkit::label_set& l, const std::vector<class_row>& rows,
                        bool have_images) {
  std::string out =
      "id\tclass\tmid\tfound_images\tfound_boxes\tfiltered_occluded\tfiltered_truncated\t"
      "filtered_group_of\tfiltered_depiction\tfiltered_inside\trequested\tsampled\t"
      "downloaded\tmissing\tcorrupt\tkept_images\tkept_boxes\n";
  for (std::size_t c = 0; c < rows.size(); ++c) {
    const class_row& r = rows[c];
    out += std::to_string(c) + "\t" + l.classes[c].name + "\t" + l.classes[c].mid + "\t" +
           std::to_string(r.found_images) + "\t" + std::to_string(r.found_boxes);
    for (auto f : r.filtered) out += "\t" + std::to_string(f);
    out += "\t" + std::to_string(r.requested) + "\t" + std::to_string(r.sampled_images);
    if (have_images) {
      out += "\t" + std::to_string(r.downloaded) + "\t" + std::to_string(r.missing) + "\t" +
             std::to_string(r.corrupt);
    } else {
      out += "\t-\t-\t-";
    }
    out += "\t" + std::to_string(r.kept_images) + "\t" + std::to_string(r.kept_boxes) + "\n";
  }
  return out;
}

void print_summary(const detkit::label_set& l, const std::vector<class_row>& rows,
                   bool have_images) {
  std::size_t w = 5;
  for (const auto& c : l.classes) w = std::max(w, c.name.size());
  std::printf("%3s  %-*s  %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "id", static_cast<int>(w),
              "class", "found", "boxes", "filtered", "request", "sampled", "download", "missing",
              "corrupt", "kept");
  for (std::size_t c = 0; c < rows.size(); ++c) {
    const class_row& r = rows[c];
    std::uint64_t filtered = 0;
    for (auto f : r.filtered) filtered += f;
    auto img = [&](std::uint64_t v) { return have_images ? std::to_string(v) : std::string("-"); };
    std::printf(
        "%3zu  %-*s  %8llu %8llu %8llu %8llu %8llu %8s %8s %8s %8llu\n", c, static_cast<int>(w),
        l.classes[c].name.c_str(), static_cast<unsigned long long>(r.found_images),
        static_cast<unsigned long long>(r.found_boxes), static_cast<unsigned long long>(filtered),
        static_cast<unsigned long long>(r.requested),
        static_cast<unsigned long long>(r.sampled_images), img(r.downloaded).c_str(),
        img(r.missing).c_str(), img(r.corrupt).c_str(),
        static_cast<unsigned long long>(r.kept_images));
  }
}

}  // namespace detkit_subset

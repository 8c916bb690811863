// examples/download/selection.cpp — image selection and label writing for detkit-download (see
// selection.hpp). The CSV side uses the library's readers; nothing here re-parses Open Images.
#include "download/selection.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "detkit/amenity_classes.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/image_header.hpp"
#include "detkit/label_cache.hpp"
#include "detkit/open_images_classes.hpp"

namespace detkit_download {

bool is_image_id(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

bool is_split_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

namespace {

detkit::error located(detkit::errc code, const std::string& file, std::uint64_t line,
                      std::string msg, std::string field = {}) {
  detkit::error e = detkit::make_error(code, std::move(msg), std::move(field));
  e.file = file;
  e.line = line;
  e.column = line ? 1 : 0;
  return e;
}

// downloader.py's input: one `split/ImageID` per line (".jpg" allowed, blank lines skipped).
detkit::result<std::vector<split_selection>> read_image_list(const selection_request& req) {
  std::ifstream in(req.image_list);
  if (!in) return located(detkit::errc::io_open, req.image_list, 0, "cannot open the image list");
  std::map<std::string, std::set<std::string>> by_split;
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    const auto slash = line.rfind('/');
    if (slash == std::string::npos || slash == 0)
      return located(
          detkit::errc::usage, req.image_list, n,
          "expected 'split/ImageID' (e.g. validation/0001eeaf4aed83f9), got '" + line + "'");
    std::string id = line.substr(slash + 1);
    if (id.size() > 4 && id.compare(id.size() - 4, 4, ".jpg") == 0) id.resize(id.size() - 4);
    if (!is_image_id(id))
      return located(detkit::errc::oi_bad_image_id, req.image_list, n,
                     "expected 16 hex digits, got '" + id + "'", "ImageID");
    std::transform(id.begin(), id.end(), id.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
    const std::string split = line.substr(0, slash);
    if (!is_split_name(split))
      return located(detkit::errc::usage, req.image_list, n,
                     "split name '" + split + "' is not a plain folder name ([A-Za-z0-9_-]+)");
    by_split[split].insert(id);
  }
  std::vector<split_selection> out;
  for (auto& [split, ids] : by_split) {
    split_selection s;
    s.split = split;
    s.image_ids.assign(ids.begin(), ids.end());
    if (req.limit > 0 && s.image_ids.size() > req.limit) s.image_ids.resize(req.limit);
    out.push_back(std::move(s));
  }
  return out;
}

// --max-per-class and --limit on a joined label_set (sorted by ImageID), then the counts.
void narrow(split_selection& s, const selection_request& req) {
  auto& images = s.labels.images;
  const std::size_t k = s.labels.classes.size();
  if (req.max_per_class > 0) {
    // ImageIDs are hashes, so ImageID order is a fixed pseudo-random order: an image is kept while
    // one of its classes is under the cap (it then counts for all of its classes).
    std::vector<std::size_t> taken(k, 0);
    std::vector<detkit::image_record> kept;
    for (auto& im : images) {
      std::vector<bool> has(k, false);
      for (const auto& b : im.boxes) has[static_cast<std::size_t>(b.category_id)] = true;
      bool want = false;
      for (std::size_t c = 0; c < k; ++c) want = want || (has[c] && taken[c] < req.max_per_class);
      if (!want) continue;
      for (std::size_t c = 0; c < k; ++c) taken[c] += has[c] ? 1 : 0;
      kept.push_back(std::move(im));
    }
    images.swap(kept);
  }
  if (req.limit > 0 && images.size() > req.limit) images.resize(req.limit);

  s.per_class.assign(k, {});
  for (std::size_t c = 0; c < k; ++c) s.per_class[c].name = s.labels.classes[c].name;
  s.boxes_kept = 0;
  s.image_ids.clear();
  for (const auto& im : images) {
    s.image_ids.push_back(im.image_id);
    std::vector<bool> has(k, false);
    for (const auto& b : im.boxes) {
      const auto c = static_cast<std::size_t>(b.category_id);
      ++s.per_class[c].boxes;
      has[c] = true;
    }
    for (std::size_t c = 0; c < k; ++c) s.per_class[c].images += has[c] ? 1 : 0;
    s.boxes_kept += im.boxes.size();
  }
}

// --target: "airbnb", "@file" (one name per line) or "A,B" (names or MIDs), as detkit-prepare.
detkit::result<std::vector<detkit::class_info>> resolve_targets(const selection_request& req,
                                                                const detkit::class_table& table) {
  if (req.target == "airbnb") {
    auto classes = detkit::amenity_classes();
    for (const auto& c : classes) {
      if (table.find_mid(c.mid) < 0) {
        detkit::error e = detkit::make_error(
            detkit::errc::oi_unknown_mid,
            "the airbnb preset's class '" + c.name + "' (" + c.mid + ") is not in this class file");
        e.file = req.classes_path;
        return e;
      }
    }
    return classes;
  }
  std::vector<std::string> names;
  std::string text = req.target;
  char sep = ',';
  if (!text.empty() && text[0] == '@') {
    auto m = detkit::detail::mapped_file::try_open(text.substr(1));
    if (!m) return std::move(m).error();
    text = std::string(m->view());
    sep = '\n';
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(start, end - start);
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
    if (!name.empty()) names.push_back(name);
    start = end + 1;
  }
  return detkit::try_resolve_classes(table, names);
}

}  // namespace

detkit::result<std::vector<split_selection>> select_images(const selection_request& req) {
  if (req.boxes.empty()) return read_image_list(req);
  if (req.splits.size() != req.boxes.size() && req.splits.size() != 1)
    return detkit::make_error(detkit::errc::usage,
                              "give one --split per --boxes file, or one split for all of them");
  auto table = detkit::try_read_class_descriptions(req.classes_path);
  if (!table) return std::move(table).error();
  auto targets = resolve_targets(req, *table);
  if (!targets) return std::move(targets).error();
  detkit::image_id_set only;
  if (!req.image_list.empty()) {
    auto l = detkit::try_read_image_list(req.image_list);
    if (!l) return std::move(l).error();
    only = std::move(*l);
  }
  std::vector<split_selection> out;
  for (std::size_t f = 0; f < req.boxes.size(); ++f) {
    const std::string& split = req.splits.size() == 1 ? req.splits[0] : req.splits[f];
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const split_selection& s) { return s.split == split; });
    if (it == out.end()) {
      out.emplace_back();
      it = out.end() - 1;
      it->split = split;
      it->sources.push_back(req.classes_path);
    }
    detkit::join_options jo;
    jo.csv.threads = req.threads ? req.threads : std::max(1u, std::thread::hardware_concurrency());
    jo.known_classes = &*table;
    jo.attributes = req.attributes;
    if (!req.image_list.empty()) jo.images = &only;
    auto rep = detkit::try_join_boxes_file(req.boxes[f], *targets, jo, it->labels);
    if (!rep) return std::move(rep).error();
    it->sources.push_back(req.boxes[f]);
  }
  if (!req.image_list.empty())
    for (auto& s : out) s.sources.push_back(req.image_list);
  for (auto& s : out) {
    if (s.labels.classes.empty()) s.labels.classes = *targets;
    narrow(s, req);
    s.settings = "detkit-download" + req.settings;
    s.rounding = req.rounding;
  }
  return out;
}

detkit::result<std::string> write_split_labels(const split_selection& sel, const std::string& dir,
                                               const std::vector<bool>& present,
                                               std::vector<detkit::image_size>& sizes) {
  // narrow() built image_ids from labels.images in order: index i is the same image in both.
  if (sel.labels.images.size() != sel.image_ids.size() || present.size() != sel.image_ids.size())
    return detkit::make_error(detkit::errc::other, "write_split_labels: selection out of step");
  sizes.resize(sel.image_ids.size());
  detkit::label_set set;
  set.classes = sel.labels.classes;
  std::size_t boxes = 0;
  for (std::size_t i = 0; i < sel.labels.images.size(); ++i) {
    if (!present[i]) continue;
    detkit::image_record r = sel.labels.images[i];
    r.file_name = r.image_id + ".jpg";
    if (sizes[i].width <= 0) {
      auto size = detkit::try_read_image_size(dir + "/" + r.file_name);
      if (!size) return std::move(size).error();
      sizes[i] = *size;
    }
    r.size = sizes[i];
    detkit::fill_absolute(r, sel.rounding);
    boxes += r.boxes.size();
    set.images.push_back(std::move(r));
  }
  auto fp = detkit::try_make_fingerprint(sel.sources, set.classes, sel.settings);
  if (!fp) return std::move(fp).error();
  const std::string path = dir + "/labels.dkc";
  if (auto w = detkit::try_write_label_cache(path, set, *fp); !w) return w.error();
  return path + " (" + std::to_string(set.images.size()) + " images, " + std::to_string(boxes) +
         " boxes, " + std::to_string(set.classes.size()) + " classes)";
}

}  // namespace detkit_download

// detkit-subset — Open Images subsets users can trust: select classes (names, MIDs, hierarchy with
// excludes and relabelling to the parent), filter attributes, keep verified negatives, sample
// (per-class caps, balance, stratified fraction with a checked tolerance), export (label cache,
// COCO JSON, YOLO, VOC, Detectron2 JSON), print a per-class summary and write a manifest that
// `--from-manifest` turns back into the byte-identical label cache.
// Mirrors what OIDv4_ToolKit / fiftyone users assemble by hand, and the recipe's "10% with the
// same class distribution".
//
//   detkit-subset --boxes train-annotations-bbox.csv --classes class-descriptions-boxable.csv
//                 --target airbnb --fraction 0.1 --tolerance 0.02 --seed 42
//                 --out train10.dkc --manifest train10.manifest --coco train10.json
//   detkit-subset --from-manifest train10.manifest --out rebuilt.dkc     # same bytes
//
// Exit status: 0 done; 2 bad input or a failed check (located message on stderr); 1 cannot write.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/cli.hpp"
#include "common/options.hpp"
#include "common/sized_exports.hpp"
#include "detkit/class_selection.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/export_coco.hpp"
#include "detkit/export_voc.hpp"
#include "detkit/export_yolo.hpp"
#include "detkit/image_header.hpp"
#include "detkit/label_cache.hpp"
#include "detkit/manifest.hpp"
#include "detkit/open_images.hpp"
#include "detkit/split.hpp"
#include "detkit/subset_sampling.hpp"
#include "subset/anchor_coverage.hpp"
#include "subset/summary.hpp"

namespace {

using detkit_subset::class_row;
using detkit_subset::count_found;
using detkit_subset::print_summary;
using detkit_subset::summary_tsv;

struct args {
  std::vector<std::string> boxes;
  std::string classes, cache, target, hierarchy, exclude, image_labels, images;
  std::string out, coco, yolo, voc, detectron2, manifest_out, summary, anchor_report, from_manifest;
  std::vector<std::string> drop, require;
  bool descendants = false, relabel_parent = false, balance = false, quiet = false;
  std::uint64_t negatives = 0, max_per_class = 0, seed = 42;
  double fraction = -1.0, tolerance = 0.02;
  unsigned threads = 0;
};

[[noreturn]] void die(int code, const std::string& msg) {
  detkit_cli::die("detkit-subset", code, msg);
}
[[noreturn]] void die_usage(const std::string& msg) { die(2, msg + " (see --help)"); }
[[noreturn]] void die_error(const detkit::error& e) {
  die(e.code == detkit::errc::io_write ? 1 : 2, e.to_string());
}

std::uint64_t parse_u64(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != 0 || v[0] == '-')
    die_usage(opt + " wants a whole number, got '" + v + "'");
  return n;
}
double parse_double(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != 0) die_usage(opt + " wants a number, got '" + v + "'");
  return d;
}

// Options that shape the subset, as (key, value) in a fixed order: what the manifest records and
// what --from-manifest replays. Output paths are not part of it.
std::vector<std::pair<std::string, std::string>> recorded_options(const args& a) {
  std::vector<std::pair<std::string, std::string>> o;
  o.emplace_back("target", a.target);
  if (a.descendants) o.emplace_back("descendants", "1");
  if (!a.exclude.empty()) o.emplace_back("exclude", a.exclude);
  if (a.relabel_parent) o.emplace_back("relabel-to-parent", "1");
  for (const auto& d : a.drop) o.emplace_back("drop", d);
  for (const auto& r : a.require) o.emplace_back("require", r);
  if (a.negatives) o.emplace_back("negatives", std::to_string(a.negatives));
  if (a.max_per_class) o.emplace_back("max-per-class", std::to_string(a.max_per_class));
  if (a.balance) o.emplace_back("balance", "1");
  if (a.fraction >= 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", a.fraction);
    o.emplace_back("fraction", buf);
    std::snprintf(buf, sizeof buf, "%.17g", a.tolerance);
    o.emplace_back("tolerance", buf);
  }
  o.emplace_back("seed", std::to_string(a.seed));
  // The image folder is an option, not a checksummed input: its files are read for their sizes,
  // and a missing or corrupt one changes the selected images, which the rebuild compares.
  if (!a.images.empty()) o.emplace_back("images", a.images);
  return o;
}

std::string settings_string(const args& a) {
  std::string s = "detkit-subset";
  for (const auto& kv : recorded_options(a)) s += ";" + kv.first + "=" + kv.second;
  return s;
}

enum class stage { command_line, replayed };

void validate(const args& a, stage st) {
  if (st == stage::command_line && !a.from_manifest.empty()) {
    if (!a.boxes.empty() || !a.cache.empty() || !a.target.empty()) {
      die_usage("--from-manifest takes its inputs and options from the manifest");
    }
    return;
  }
  if (a.boxes.empty() == a.cache.empty()) die_usage("give --boxes FILE... or --cache CACHE");
  if (!a.boxes.empty() && a.classes.empty()) die_usage("--boxes needs --classes");
  if (!a.image_labels.empty() && a.classes.empty()) die_usage("--image-labels needs --classes");
  if (a.negatives && a.image_labels.empty()) die_usage("--negatives needs --image-labels");
  if (a.target.empty()) die_usage("--target is required");
  if (a.descendants && a.hierarchy.empty()) die_usage("--descendants needs --hierarchy");
  if (a.relabel_parent && !a.descendants) die_usage("--relabel-to-parent needs --descendants");
  const int modes = (a.max_per_class > 0) + (a.balance ? 1 : 0) + (a.fraction >= 0 ? 1 : 0);
  if (modes > 1) die_usage("give at most one of --max-per-class, --balance, --fraction");
  if (a.fraction >= 0 && a.fraction > 1) die_usage("--fraction wants a number in [0, 1]");
}

args parse_args(int argc, char** argv) {
  args a;
  detkit_cli::option_table t(
      "detkit-subset",
      "usage: detkit-subset (--boxes FILE... --classes FILE | --cache CACHE [--classes FILE])\n"
      "                     --target LIST [selection] [sampling] [outputs]\n"
      "       detkit-subset --from-manifest MANIFEST --out CACHE [outputs]\n");
  t.section("Input (one of):")
      .values("--boxes", "FILE...", &a.boxes,
              "Open Images bbox CSVs (any header version), joined on exact MIDs")
      .text("--classes", "FILE", &a.classes,
            "class descriptions (needed with --boxes, --image-labels)")
      .text("--cache", "CACHE", &a.cache,
            "a detkit label cache (detkit-prepare / detkit-subset output)");
  t.section("Selection:")
      .text("--target", "LIST", &a.target,
            "NAME,NAME,... (display names, '_' for ' ', or MIDs), @FILE, or airbnb")
      .text("--hierarchy", "FILE", &a.hierarchy, "bbox_labels_600_hierarchy.json")
      .flag("--descendants", &a.descendants,
            "each target also selects its Subcategory descendants (needs --hierarchy)")
      .text("--exclude", "LIST", &a.exclude,
            "classes removed from the selection, with their descendants")
      .flag("--relabel-to-parent", &a.relabel_parent,
            "descendants' boxes get their target's class (e.g. all appliances\n"
            "become 'Home appliance'); a class under two targets goes to the first")
      .custom("--drop", "ATTR,...",
              "drop boxes whose flag is 1: occluded, truncated, group-of, depiction,\n"
              "inside (counted per class and reason in the summary)",
              [&a](const std::string& v) {
                for (const auto& d : detkit::split_list(v)) a.drop.push_back(d);
                return std::string();
              })
      .custom("--require", "ATTR=0|1", "keep only boxes whose flag is exactly 0 or 1",
              [&a](const std::string& v) {
                a.require.push_back(v);
                return std::string();
              })
      .text("--image-labels", "FILE", &a.image_labels,
            "image-level labels CSV; with --negatives N keep up to N images that\n"
            "are verified (Confidence 0) NOT to contain a selected class, and contain\n"
            "none of them, as true-negative images without boxes")
      .integer("--negatives", "N", &a.negatives, 0, 1e15,
               "see --image-labels (default 0). Negatives (these, or those already in\n"
               "a --cache) are kept by --max-per-class, split like any image by\n"
               "--fraction, and dropped by --balance");
  t.section("Sampling (seeded; at most one of):")
      .integer("--max-per-class", "N", &a.max_per_class, 1, 1e15,
               "about N images per class, rarest class first (an image counts once for\n"
               "every class it contains; co-occurrence can push a class above N)")
      .flag("--balance", &a.balance, "every class capped at the rarest class's image count")
      .number("--fraction", "F", &a.fraction, 0, 1,
              "stratified fraction (split.hpp, iterative stratification); checked:")
      .number("--tolerance", "T", &a.tolerance, 0, 1,
              "each class's share of the images may differ from the full set's by at\n"
              "most T (absolute, default 0.02 = 2 points); a miss is exit 2")
      .integer("--seed", "S", &a.seed, 0, 1.8446744073709552e19, "default 42");
  t.section("Outputs:")
      .text("--out", "CACHE", &a.out, "label cache of the subset")
      .text("--coco", "FILE", &a.coco, "COCO instances JSON")
      .text("--yolo", "DIR", &a.yolo, "YOLO txt + classes.names")
      .text("--voc", "DIR", &a.voc, "Pascal VOC XML per image")
      .text("--detectron2", "FILE", &a.detectron2,
            "Detectron2 dataset dicts (bbox_mode 0 = BoxMode.XYXY_ABS, as an int)")
      .text("--images", "DIR", &a.images,
            "read sizes from DIR/<ImageID>.jpg; missing and corrupt images are\n"
            "counted per class and left out (COCO/VOC/anchor report need sizes)")
      .text("--manifest", "FILE", &a.manifest_out,
            "the rebuild manifest (inputs' sizes + hashes, options, tool version,\n"
            "selected ImageIDs)")
      .text("--summary", "FILE", &a.summary, "the per-class summary as TSV (it is always printed)")
      .text("--anchor-report", "FILE", &a.anchor_report,
            "share of boxes with a default-RetinaNet anchor at IoU >= 0.5, by size\n"
            "and aspect ratio, after torchvision's 800/1333 resize (needs sizes)")
      .text("--from-manifest", "FILE", &a.from_manifest,
            "rebuild: verify the inputs' checksums, rerun with the recorded options,\n"
            "check the same images come out, write --out (byte-identical cache)")
      .integer("--threads", "N", &a.threads, 1, 256, "CSV scan threads (default: all cores)")
      .flag("--quiet", &a.quiet, "only errors and the checks' verdicts");
  t.parse(argc, argv);
  if (a.threads == 0) a.threads = std::max(1u, std::thread::hardware_concurrency());
  return a;
}

// Replays a manifest's inputs and options into `a` (outputs stay as given on the command line).
detkit::manifest apply_manifest(args& a) {
  auto m = detkit::try_read_manifest_for_rebuild(a.from_manifest, "detkit-subset");
  if (!m) die_error(m.error());
  for (const auto& in : m->inputs) {
    if (in.role == "boxes") {
      a.boxes.push_back(in.path);
    } else if (in.role == "classes") {
      a.classes = in.path;
    } else if (in.role == "cache") {
      a.cache = in.path;
    } else if (in.role == "hierarchy") {
      a.hierarchy = in.path;
    } else if (in.role == "image-labels") {
      a.image_labels = in.path;
    } else {
      die(2, a.from_manifest + ": error: unknown input role '" + in.role +
                 "' [detkit.oi.bad_manifest]");
    }
  }
  for (const auto& kv : m->options) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    if (k == "target") {
      a.target = v;
    } else if (k == "descendants") {
      a.descendants = true;
    } else if (k == "exclude") {
      a.exclude = v;
    } else if (k == "relabel-to-parent") {
      a.relabel_parent = true;
    } else if (k == "drop") {
      a.drop.push_back(v);
    } else if (k == "require") {
      a.require.push_back(v);
    } else if (k == "negatives") {
      a.negatives = parse_u64(k, v);
    } else if (k == "max-per-class") {
      a.max_per_class = parse_u64(k, v);
    } else if (k == "balance") {
      a.balance = true;
    } else if (k == "fraction") {
      a.fraction = parse_double(k, v);
    } else if (k == "tolerance") {
      a.tolerance = parse_double(k, v);
    } else if (k == "seed") {
      a.seed = parse_u64(k, v);
    } else if (k == "images") {
      a.images = v;
    } else {
      die(2, a.from_manifest + ": error: unknown option '" + k + "' [detkit.oi.bad_manifest]");
    }
  }
  return std::move(*m);
}

detkit::class_table table_of(const std::vector<detkit::class_info>& classes) {
  detkit::class_table t;
  t.classes = classes;
  for (std::size_t i = 0; i < classes.size(); ++i) t.by_mid.emplace(classes[i].mid, i);
  return t;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  args a = parse_args(argc, argv);
  validate(a, stage::command_line);
  detkit::manifest replay;
  const bool rebuilding = !a.from_manifest.empty();
  if (rebuilding) {
    replay = apply_manifest(a);
    validate(a, stage::replayed);
  }
  const auto t0 = std::chrono::steady_clock::now();

  // 1. Classes and selection.
  detkit::class_table table;
  detkit::label_set cached;
  if (!a.classes.empty()) {
    auto t = detkit::try_read_class_descriptions(a.classes);
    if (!t) die_error(t.error());
    table = std::move(*t);
  }
  if (!a.cache.empty()) {
    auto c = detkit::label_cache::try_open(a.cache);
    if (!c) die_error(c.error());
    cached = c->to_label_set();
    if (a.classes.empty()) table = table_of(cached.classes);
  }
  detkit::class_hierarchy hierarchy;
  if (!a.hierarchy.empty()) {
    auto h = detkit::try_read_class_hierarchy(a.hierarchy);
    if (!h) die_error(h.error());
    hierarchy = std::move(*h);
  }
  detkit::selection_request req;
  auto targets = detkit::try_target_list(a.target);
  if (!targets) die_error(targets.error());
  req.targets = std::move(*targets);
  if (!a.exclude.empty()) req.excludes = detkit::split_list(a.exclude);
  req.expansion =
      a.descendants ? detkit::selection_expansion::descendants : detkit::selection_expansion::exact;
  req.relabel = a.relabel_parent ? detkit::relabel_mode::to_parent : detkit::relabel_mode::keep;
  auto sel = detkit::try_select_classes(table, a.hierarchy.empty() ? nullptr : &hierarchy, req);
  if (!sel) die_error(sel.error());
  if (!a.quiet) {
    for (const auto& s : sel->shared) {
      std::fprintf(stderr, "note: %s is under both '%s' and '%s'; its boxes go to '%s'\n",
                   s.mid.c_str(),
                   sel->classes[static_cast<std::size_t>(s.assigned_to)].name.c_str(),
                   sel->classes[static_cast<std::size_t>(s.also_under)].name.c_str(),
                   sel->classes[static_cast<std::size_t>(s.assigned_to)].name.c_str());
    }
  }

  // 2. Boxes of the selected classes (join category ids), then relabel to the output classes.
  detkit::label_set labels;
  const auto t_join = std::chrono::steady_clock::now();
  if (!a.boxes.empty()) {
    for (const auto& f : a.boxes) {
      detkit::join_options jo;
      jo.csv.threads = a.threads;
      jo.known_classes = &table;
      auto rep = detkit::try_join_boxes_file(f, sel->join_classes, jo, labels);
      if (!rep) die_error(rep.error());
    }
    if (labels.classes.empty()) labels.classes = sel->join_classes;
  } else {
    // From a cache: map its category ids to the selection's join ids by MID; others are dropped.
    std::vector<std::int32_t> map(cached.classes.size(), -1);
    for (std::size_t c = 0; c < cached.classes.size(); ++c) {
      map[c] = sel->join_index(cached.classes[c].mid);
    }
    labels.classes = sel->join_classes;
    for (auto& img : cached.images) {
      const bool negative = img.boxes.empty();  // a verified negative stays one
      std::size_t w = 0;
      for (const auto& b : img.boxes) {
        const std::int32_t j = map[static_cast<std::size_t>(b.category_id)];
        if (j < 0) continue;
        img.boxes[w] = b;
        img.boxes[w++].category_id = j;
      }
      img.boxes.resize(w);
      if (w > 0 || negative) labels.images.push_back(std::move(img));
    }
  }
  const double join_s = seconds_since(t_join);
  if (auto r = detkit::try_relabel(*sel, labels); !r) die_error(r.error());

  std::vector<class_row> rows(labels.classes.size());
  count_found(labels, rows, &class_row::found_images, &class_row::found_boxes);

  // 3. Attribute filters, counted per class and reason.
  detkit::attribute_filter attrs;
  for (const auto& d : a.drop) {
    if (auto r = detkit::try_set_attribute_rule(attrs, d, detkit::flag_rule::exclude_yes); !r) {
      die_usage(r.error().message);
    }
  }
  for (const auto& r : a.require) {
    if (auto e = detkit::try_set_attribute_requirement(attrs, r); !e) die_usage(e.error().message);
  }
  const detkit::filter_counts fc = detkit::filter_attributes(labels, attrs);
  for (std::size_t c = 0; c < rows.size(); ++c) rows[c].filtered = fc.boxes_by_reason[c];

  // 4. Verified negatives.
  std::size_t negatives_added = 0;
  if (!a.image_labels.empty()) {
    detkit::csv_options co;
    co.threads = a.threads;
    auto il = detkit::try_read_image_labels(a.image_labels, table, co);
    if (!il) die_error(il.error());
    negatives_added = detkit::add_verified_negatives(labels, *sel, table, *il);
    // Keep the first N negatives by ImageID (ImageIDs are hashes: an unbiased, stable choice).
    std::vector<detkit::image_record> kept;
    std::uint64_t neg = 0;
    for (auto& img : labels.images) {
      if (img.boxes.empty() && neg++ >= a.negatives) continue;
      kept.push_back(std::move(img));
    }
    negatives_added = std::min<std::size_t>(negatives_added, a.negatives);
    labels.images = std::move(kept);
  }
  std::uint64_t negatives_present = 0;
  for (const auto& img : labels.images) negatives_present += img.boxes.empty() ? 1 : 0;

  // 5. Sampling.
  const detkit::label_set before_sampling = labels;
  const auto t_sample = std::chrono::steady_clock::now();
  detkit::proportion_check pc;
  bool checked = false;
  if (a.max_per_class > 0 || a.balance) {
    detkit::cap_report cr;
    auto s = a.balance ? detkit::try_balance_classes(labels, a.seed, 0, &cr)
                       : detkit::try_cap_per_class(labels, a.max_per_class, a.seed,
                                                   negatives_present, &cr);
    if (!s) die_error(s.error());
    std::uint64_t cap = a.max_per_class;
    if (a.balance) {
      cap = 0;
      for (auto v : cr.before) {
        if (v > 0 && (cap == 0 || v < cap)) cap = v;
      }
    }
    for (std::size_t c = 0; c < rows.size(); ++c) rows[c].requested = std::min(cap, cr.before[c]);
    labels = std::move(*s);
  } else if (a.fraction >= 0) {
    auto s = detkit::try_stratified_fraction(labels, a.fraction, a.seed);
    if (!s) die_error(s.error());
    for (std::size_t c = 0; c < rows.size(); ++c) {
      rows[c].requested =
          static_cast<std::uint64_t>(a.fraction * static_cast<double>(rows[c].found_images) + 0.5);
    }
    auto p = detkit::try_check_proportions(before_sampling, *s, a.tolerance);
    if (!p) die_error(p.error());
    pc = std::move(*p);
    checked = true;
    labels = std::move(*s);
  } else {
    for (std::size_t c = 0; c < rows.size(); ++c) rows[c].requested = rows[c].found_images;
  }
  const double sample_s = seconds_since(t_sample);
  count_found(labels, rows, &class_row::sampled_images, nullptr);

  // 6. Image files: sizes; missing / corrupt ones counted per class and left out.
  const bool have_images = !a.images.empty();
  if (have_images) {
    std::vector<detkit::image_record> kept;
    for (auto& rec : labels.images) {
      auto s = detkit::try_read_image_size(a.images + "/" + rec.file_name);
      std::vector<char> seen(rows.size(), 0);
      for (const auto& b : rec.boxes) {
        const auto c = static_cast<std::size_t>(b.category_id);
        if (seen[c]) continue;
        seen[c] = 1;
        if (s) {
          ++rows[c].downloaded;
        } else if (s.error().code == detkit::errc::image_missing) {
          ++rows[c].missing;
        } else {
          ++rows[c].corrupt;
        }
      }
      if (!s) continue;
      rec.size = *s;
      detkit::fill_absolute(rec);
      kept.push_back(std::move(rec));
    }
    labels.images = std::move(kept);
  }
  count_found(labels, rows, &class_row::kept_images, &class_row::kept_boxes);

  // 7. Rebuild check: the same images as the manifest lists.
  std::vector<std::string> ids;
  ids.reserve(labels.images.size());
  for (const auto& img : labels.images) ids.push_back(img.image_id);
  std::sort(ids.begin(), ids.end());
  if (rebuilding && ids != replay.image_ids) {
    die(2, a.from_manifest + ": error: the rebuild selected " + std::to_string(ids.size()) +
               " images, the manifest lists " + std::to_string(replay.image_ids.size()) +
               " (or other ones) [detkit.oi.manifest_stale]");
  }

  // 8. Outputs.
  std::vector<std::string> sources = a.boxes;
  if (!a.cache.empty()) sources.push_back(a.cache);
  if (!a.classes.empty()) sources.push_back(a.classes);
  if (!a.hierarchy.empty()) sources.push_back(a.hierarchy);
  if (!a.image_labels.empty()) sources.push_back(a.image_labels);
  if (!a.out.empty()) {
    auto fp = detkit::try_make_fingerprint(sources, labels.classes, settings_string(a));
    if (!fp) die_error(fp.error());
    if (auto w = detkit::try_write_label_cache(a.out, labels, *fp); !w) die_error(w.error());
  }
  // Exports: an image without a size (flagged so in a --cache input) is left out and counted.
  using detkit_cli::export_needs;
  auto export_to = [&](const std::string& path, const char* what, export_needs needs,
                       auto&& write) {
    if (path.empty()) return;
    auto w =
        detkit_cli::write_sized_images("detkit-subset", what, labels, needs,
                                       [&](const detkit::label_set& l) { return write(path, l); });
    if (!w) die_error(w.error());
  };
  export_to(a.coco, "COCO", export_needs::pixel_size,
            [](const std::string& p, const detkit::label_set& l) {
              return detkit::try_write_coco_json(p, l);
            });
  export_to(a.yolo, "YOLO", export_needs::image_file,
            [](const std::string& p, const detkit::label_set& l) {
              return detkit::try_write_yolo_labels(p, l);
            });
  export_to(a.voc, "VOC", export_needs::pixel_size,
            [](const std::string& p, const detkit::label_set& l) {
              return detkit::try_write_voc_xml(p, l);
            });
  export_to(a.detectron2, "Detectron2 JSON", export_needs::pixel_size,
            [](const std::string& p, const detkit::label_set& l) {
              return detkit::try_write_detectron2_json(p, l, detkit::bbox_mode_text::integer);
            });
  if (!a.manifest_out.empty()) {
    detkit::manifest m;
    m.tool = "detkit-subset";
    m.tool_version = DETKIT_VERSION_STRING;
    auto add = [&](const char* role, const std::string& p) {
      auto in = detkit::try_manifest_input(role, p);
      if (!in) die_error(in.error());
      m.inputs.push_back(std::move(*in));
    };
    for (const auto& f : a.boxes) add("boxes", f);
    if (!a.cache.empty()) add("cache", a.cache);
    if (!a.classes.empty()) add("classes", a.classes);
    if (!a.hierarchy.empty()) add("hierarchy", a.hierarchy);
    if (!a.image_labels.empty()) add("image-labels", a.image_labels);
    m.options = recorded_options(a);
    m.image_ids = ids;
    if (auto w = detkit::try_write_manifest(a.manifest_out, m); !w) die_error(w.error());
  }
  if (!a.summary.empty()) {
    if (auto w =
            detkit::try_write_file_atomically(a.summary, summary_tsv(labels, rows, have_images));
        !w) {
      die_error(w.error());
    }
  }
  if (!a.anchor_report.empty()) {
    const auto rep = detkit_subset::anchor_coverage(labels);
    if (rep.images_without_size > 0) {
      std::fprintf(stderr, "warning: %llu images have no size and are not in the anchor report\n",
                   static_cast<unsigned long long>(rep.images_without_size));
    }
    const std::string t = detkit_subset::coverage_table(rep, labels);
    if (auto w = detkit::try_write_file_atomically(a.anchor_report, t); !w) die_error(w.error());
    if (!a.quiet) std::fputs(t.c_str(), stdout);
  }

  if (!a.quiet) {
    print_summary(labels, rows, have_images);
    std::uint64_t filtered = fc.boxes_filtered();
    std::printf(
        "boxes: %llu seen, %llu kept, %llu filtered by attributes; %zu verified-negative "
        "images added\n",
        static_cast<unsigned long long>(fc.boxes_seen),
        static_cast<unsigned long long>(fc.boxes_kept), static_cast<unsigned long long>(filtered),
        negatives_added);
    std::printf(
        "images: %zu before sampling, %zu kept; join %.3f s, sampling %.3f s, total %.3f s\n",
        before_sampling.images.size(), labels.images.size(), join_s, sample_s, seconds_since(t0));
  }
  if (checked) {
    std::printf(
        "stratified fraction %.4g: max per-class share deviation %.5f (tolerance %.5f) %s\n",
        a.fraction, pc.max_deviation, pc.tolerance, pc.ok() ? "ok" : "EXCEEDED");
    if (!pc.ok()) {
      for (std::size_t c = 0; c < pc.rows.size(); ++c) {
        if (!pc.rows[c].within) {
          std::fprintf(stderr, "  %s: share %.5f in the subset, %.5f in the full set\n",
                       labels.classes[c].name.c_str(), pc.rows[c].share_subset,
                       pc.rows[c].share_full);
        }
      }
      die(2, "the subset's class shares are outside the tolerance (outputs were written)");
    }
  }
  if (rebuilding && !a.quiet) {
    std::printf("rebuilt from %s: %zu images, the same as the manifest lists\n",
                a.from_manifest.c_str(), ids.size());
  }
  return 0;
}

// detkit-prepare — Open Images boxes + class descriptions (+ image folder) → a binary label cache
// (and optionally Detectron2-style JSON). Replaces steps 1–2 of "Replicating Airbnb's amenity
// detection with Detectron2" (preprocessing.py format_annotations + get_image_dicts) with one
// command: exact-MID joins, category ids in the order of --target, sizes from the image headers.
//
//   detkit-prepare --boxes train-annotations-bbox.csv --classes class-descriptions-boxable.csv
//                  --target airbnb --images train/ --out train.dkc --dump-json train.json
//
// Exit status: 0 done; 2 bad input (the located message is on stderr); 1 cannot write outputs.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/attribute_options.hpp"
#include "common/cli.hpp"
#include "common/options.hpp"
#include "common/sized_exports.hpp"
#include "detkit/class_selection.hpp"
#include "detkit/detectron2_json.hpp"
#include "detkit/image_header.hpp"
#include "detkit/label_cache.hpp"
#include "detkit/manifest.hpp"
#include "detkit/open_images.hpp"

namespace {

struct args {
  std::vector<std::string> boxes;
  std::string classes, images, target, out, dump_json, label, image_list;
  bool label_from_filename = false, strict_images = false, drop_missing = false;
  bool lenient = false, quiet = false;
  detkit::attribute_filter attrs;
  detkit::rounding_policy rounding = detkit::rounding_policy::none;
  unsigned threads = 0;
  std::string settings;  // recorded in the cache fingerprint
};

[[noreturn]] void die(int code, const std::string& msg) {
  detkit_cli::die("detkit-prepare", code, msg);
}
[[noreturn]] void die_usage(const std::string& msg) { die(2, msg + " (see --help)"); }

args parse_args(int argc, char** argv) {
  args a;
  std::string exclude, require, rounding = "none", unused_manifest;
  detkit_cli::option_table t(
      "detkit-prepare",
      "usage: detkit-prepare --boxes FILE... --classes FILE --target LIST --out CACHE [options]\n\n"
      "Joins Open Images bounding-box CSVs with the class descriptions, keeps the target classes\n"
      "and writes per-image labels (XYXY_ABS boxes, category ids in the order of --target) to a\n"
      "binary label cache that detkit-train / detkit-eval read without JSON.\n",
      "\nOutput: progress on stderr for inputs over 64 MB (rows/s, MB/s, ETA), then a per-class "
      "table\n(images, boxes) on stdout. Exit status: 0 ok, 2 bad input (located message on "
      "stderr), 1 the\noutputs could not be written.\n");
  t.section("Required:")
      .values("--boxes", "FILE...", &a.boxes,
              "bbox CSVs (8-, 13- or 21-column Open Images headers, columns found by\n"
              "name; or OIDv4_ToolKit's ImageID,XMin,XMax,YMin,YMax with --label or\n"
              "--label-from-filename). Several files are merged per image.")
      .text("--classes", "FILE", &a.classes,
            "class descriptions: V4/V5 class-descriptions-boxable.csv (no header),\n"
            "V7 oidv7-class-descriptions-boxable.csv (header, CRLF), or the full\n"
            "image-level list (quoted names).")
      .text("--target", "LIST", &a.target,
            "NAME,NAME,...  exact display names ('_' accepted for ' ', MIDs too);\n"
            "@FILE          one name per line;\n"
            "airbnb         the 30 amenity classes of the Airbnb recipe (ids 0-29\n"
            "               in its alphabetical order).\n"
            "Category id = position in this list.")
      .text("--out", "CACHE", &a.out,
            "label cache to write (temp file + rename; never half-written).");
  t.section("Options:")
      .text("--images", "DIR", &a.images,
            "read width/height of DIR/<ImageID>.jpg from the JPEG/PNG header and\n"
            "fill XYXY_ABS boxes. A missing or corrupt image is reported and its\n"
            "record kept without size (see --strict-images, --drop-missing-images).")
      .flag("--strict-images", &a.strict_images, "a missing or corrupt image is an error (exit 2).")
      .flag("--drop-missing-images", &a.drop_missing,
            "leave out records whose image is missing or corrupt (the recipe only\n"
            "keeps images present in its folder).")
      .text("--dump-json", "FILE", &a.dump_json,
            "also write Detectron2-style JSON records (file_name, image_id = the\n"
            "Open Images ImageID, height, width, annotations[{bbox, bbox_mode:\n"
            "\"XYXY_ABS\", category_id}]). Needs --images; images without a size\n"
            "(missing or unreadable) are left out of it and counted.")
      .text("--label", "NAME", &a.label,
            "class of every row of --boxes files that have no LabelName column.")
      .flag("--label-from-filename", &a.label_from_filename,
            "the class of such a file is its name without .csv (Apple.csv -> Apple),\n"
            "as OIDv4_ToolKit writes them.")
      .text("--image-list", "FILE", &a.image_list,
            "keep only these ImageIDs (one per line; 'split/' prefix and '.jpg' ok).");
  detkit_cli::add_attribute_options(t, a.attrs, a.settings);
  t.choice("--rounding", &rounding, {"none", "recipe"},
           "none (default): abs = rel * size, exact; recipe: float32 multiply and\n"
           "round half to even, reproducing the recipe's Detectron2 labels.",
           "MODE")
      .integer("--threads", "N", &a.threads, 1, 256, "CSV scan threads (default: all cores).")
      .flag("--lenient", &a.lenient,
            "skip bad rows, count them by reason and report them (default: the\n"
            "first bad row stops with its file:line:column).")
      // Taken out of the command line before this table reads it (manifest_pass).
      .text("--manifest", "FILE", &unused_manifest,
            "also write a manifest (detkit/manifest.hpp): the inputs' sizes and\n"
            "content hashes, the options, the tool version, the ImageIDs.")
      .text("--from-manifest", "FILE", &unused_manifest,
            "rebuild from a manifest: the inputs are re-checksummed (a changed one is\n"
            "named and refused), the recorded options replayed, and the same ImageIDs\n"
            "must come out; give --out (and --dump-json) as usual. Same inputs, same\n"
            "cache bytes.")
      .flag("--quiet", &a.quiet, "no progress and no per-class table.");
  t.parse(argc, argv);
  a.rounding = rounding == "recipe" ? detkit::rounding_policy::detectron2_recipe
                                    : detkit::rounding_policy::none;
  if (a.boxes.empty()) die_usage("--boxes is required");
  if (a.classes.empty()) die_usage("--classes is required");
  if (a.target.empty()) die_usage("--target is required");
  if (a.out.empty()) die_usage("--out is required");
  if (!a.label.empty() && a.label_from_filename) {
    die_usage("give --label or --label-from-filename, not both");
  }
  if (!a.dump_json.empty() && a.images.empty()) {
    die_usage("--dump-json needs --images (Detectron2 records need the image sizes)");
  }
  if (a.threads == 0) a.threads = std::max(1u, std::thread::hardware_concurrency());
  a.settings = std::string("rounding=") +
               (a.rounding == detkit::rounding_policy::none ? "none" : "recipe") + a.settings;
  return a;
}

[[noreturn]] void die_error(const detkit::error& e) { die(2, e.to_string()); }

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  if (b.size() > 4 && b.compare(b.size() - 4, 4, ".csv") == 0) b.resize(b.size() - 4);
  return b;
}

/// Throttled progress line on stderr: rows/s, MB/s and ETA, at most twice a second.
class progress_meter {
 public:
  progress_meter(std::uint64_t total_bytes, bool enabled)
      : total_(total_bytes), enabled_(enabled), start_(clock::now()), last_(start_) {}

  void add(std::uint64_t bytes, std::uint64_t rows) {
    const std::uint64_t b = bytes_ += bytes;
    const std::uint64_t r = rows_ += rows;
    if (!enabled_) return;
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const auto now = clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    const double mbs = static_cast<double>(b) / 1e6 / s;
    const double eta =
        b > 0 ? s * static_cast<double>(total_ - std::min(b, total_)) / static_cast<double>(b)
              : 0.0;
    std::fprintf(stderr, "\r  %5.1f%%  %.1fM rows  %.1fM rows/s  %.0f MB/s  ETA %.1f s   ",
                 100.0 * static_cast<double>(b) / static_cast<double>(total_),
                 static_cast<double>(r) / 1e6, static_cast<double>(r) / 1e6 / s, mbs, eta);
    printed_ = true;
  }
  void finish() {
    if (printed_) std::fprintf(stderr, "\n");
  }

 private:
  using clock = std::chrono::steady_clock;
  std::uint64_t total_;
  bool enabled_;
  std::atomic<std::uint64_t> bytes_{0}, rows_{0};
  std::mutex mu_;
  clock::time_point start_, last_;
  bool printed_ = false;
};

void print_report(const std::string& file, const detkit::read_report& r) {
  std::fprintf(stderr, "%s: %llu rows: %llu kept, %llu filtered, %llu skipped\n", file.c_str(),
               static_cast<unsigned long long>(r.rows_seen),
               static_cast<unsigned long long>(r.rows_kept),
               static_cast<unsigned long long>(r.rows_filtered),
               static_cast<unsigned long long>(r.rows_skipped()));
  for (const auto& kv : r.skipped_by_reason) {
    std::fprintf(stderr, "  skipped %llu rows: %s\n", static_cast<unsigned long long>(kv.second),
                 std::string(detkit::errc_id(kv.first)).c_str());
  }
  for (const auto& e : r.examples) std::fprintf(stderr, "  e.g. %s\n", e.to_string().c_str());
}

}  // namespace

// --manifest / --from-manifest: taken out of the command line before parse_args. The options
// that shape the labels are recorded as the argv tokens themselves (outputs, --threads and --quiet
// are not), so a replay parses exactly what the first run parsed.
struct manifest_args {
  std::string write, replay;
  std::vector<std::string> tokens;    // the command line without the manifest options
  std::vector<std::string> recorded;  // the tokens that shape the labels
  detkit::manifest replayed;
};

manifest_args manifest_pass(int argc, char** argv) {
  manifest_args m;
  for (int i = 1; i < argc; ++i) {
    const std::string o = argv[i];
    if ((o == "--manifest" || o == "--from-manifest") && i + 1 < argc) {
      (o == "--manifest" ? m.write : m.replay) = argv[++i];
      continue;
    }
    m.tokens.push_back(o);
  }
  for (std::size_t i = 0; i < m.tokens.size(); ++i) {
    const std::string& o = m.tokens[i];
    const bool output = o == "--out" || o == "--dump-json" || o == "--threads";
    if (output) {
      ++i;
    } else if (o != "--quiet") {
      m.recorded.push_back(o);
    }
  }
  if (m.replay.empty()) return m;
  if (!m.recorded.empty()) {
    die_usage(
        "--from-manifest takes the inputs and options from the manifest; give only --out, "
        "--dump-json, --threads, --quiet, --manifest");
  }
  auto r = detkit::try_read_manifest_for_rebuild(m.replay, "detkit-prepare");
  if (!r) die_error(r.error());
  std::vector<std::string> replayed;
  for (const auto& kv : r->options) {
    if (kv.first != "arg") {
      die(2,
          m.replay + ": error: unknown option record '" + kv.first + "' [detkit.oi.bad_manifest]");
    }
    replayed.push_back(kv.second);
  }
  m.recorded = replayed;
  replayed.insert(replayed.end(), m.tokens.begin(), m.tokens.end());
  m.tokens = std::move(replayed);
  m.replayed = std::move(*r);
  return m;
}

int main(int argc, char** argv) {
  const manifest_args ma = manifest_pass(argc, argv);
  std::vector<char*> av{argv[0]};
  for (const auto& t : ma.tokens) av.push_back(const_cast<char*>(t.c_str()));
  const args a = parse_args(static_cast<int>(av.size()), av.data());
  const auto t0 = std::chrono::steady_clock::now();

  auto classes = detkit::try_read_class_descriptions(a.classes);
  if (!classes) die_error(classes.error());

  // Target classes, in the user's order.
  std::vector<detkit::class_info> targets;
  if (a.target == "airbnb") {
    for (const auto& c : detkit::amenity_classes()) {
      const auto i = classes->find_mid(c.mid);
      if (i < 0) {
        die(2, a.classes + ": error: the airbnb preset's class '" + c.name + "' (" + c.mid +
                   ") is not in this class file [detkit.oi.unknown_mid]");
      }
      targets.push_back(c);
    }
  } else {
    auto names = detkit::try_target_list(a.target);
    if (!names) die_error(names.error());
    auto t = detkit::try_resolve_classes(*classes, *names);
    if (!t) die_error(t.error());
    targets = std::move(*t);
  }

  detkit::image_id_set image_filter;
  if (!a.image_list.empty()) {
    auto s = detkit::try_read_image_list(a.image_list);
    if (!s) die_error(s.error());
    image_filter = std::move(*s);
  }

  std::uint64_t total_bytes = 0;
  for (const auto& f : a.boxes) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0) total_bytes += static_cast<std::uint64_t>(st.st_size);
  }
  progress_meter meter(total_bytes, !a.quiet && total_bytes > (64u << 20));

  detkit::label_set labels;
  for (const auto& f : a.boxes) {
    detkit::join_options jo;
    jo.csv.threads = a.threads;
    jo.csv.mode = a.lenient ? detkit::error_mode::lenient : detkit::error_mode::strict;
    jo.csv.progress = [&meter](std::uint64_t b, std::uint64_t r) { meter.add(b, r); };
    jo.known_classes = &*classes;
    jo.attributes = a.attrs;
    if (!a.image_list.empty()) jo.images = &image_filter;
    const std::string label = a.label_from_filename ? base_name(f) : a.label;
    if (!label.empty()) {
      auto c = detkit::try_resolve_classes(*classes, {label});
      if (!c) {
        detkit::error e = c.error();
        e.file = f;
        e.message = "class of the rows of this file: " + e.message;
        die_error(e);
      }
      jo.label_for_all = c->front().mid;
    }
    auto rep = detkit::try_join_boxes_file(f, targets, jo, labels);
    meter.finish();
    if (!rep) die_error(rep.error());
    if (!a.quiet || rep->rows_skipped() > 0) print_report(f, *rep);
  }
  if (labels.classes.empty()) labels.classes = targets;

  // Image sizes from the headers; XYXY_ABS boxes.
  std::size_t missing = 0, sized = 0;
  if (!a.images.empty()) {
    std::vector<detkit::image_record> kept;
    std::size_t shown = 0;
    for (auto& rec : labels.images) {
      const std::string path = a.images + "/" + rec.file_name;
      auto s = detkit::try_read_image_size(path);
      if (!s) {
        if (a.strict_images) die_error(s.error());
        ++missing;
        if (shown++ < 5) std::fprintf(stderr, "warning: %s\n", s.error().to_string().c_str());
        if (!a.drop_missing) kept.push_back(std::move(rec));
        continue;
      }
      rec.size = *s;
      detkit::fill_absolute(rec, a.rounding);
      ++sized;
      kept.push_back(std::move(rec));
    }
    labels.images = std::move(kept);
    if (missing > 0) {
      std::fprintf(stderr, "%zu of %zu images missing or unreadable in %s (%s)\n", missing,
                   missing + sized, a.images.c_str(),
                   a.drop_missing ? "their records were left out" : "kept without size");
    }
  }

  // Outputs.
  std::vector<std::string> sources = a.boxes;
  sources.push_back(a.classes);
  if (!a.image_list.empty()) sources.push_back(a.image_list);
  auto fp = detkit::try_make_fingerprint(sources, labels.classes, a.settings);
  if (!fp) die_error(fp.error());
  if (auto w = detkit::try_write_label_cache(a.out, labels, *fp); !w) {
    die(w.error().code == detkit::errc::io_write ? 1 : 2, w.error().to_string());
  }
  if (!ma.write.empty() || !ma.replay.empty()) {
    std::vector<std::string> ids;
    ids.reserve(labels.images.size());
    for (const auto& rec : labels.images) ids.push_back(rec.image_id);
    std::sort(ids.begin(), ids.end());
    if (!ma.replay.empty() && ids != ma.replayed.image_ids) {
      die(2, ma.replay + ": error: the rebuild has " + std::to_string(ids.size()) +
                 " images, the manifest lists " + std::to_string(ma.replayed.image_ids.size()) +
                 " (or other ones) [detkit.oi.manifest_stale]");
    }
    if (!ma.write.empty()) {
      detkit::manifest m;
      m.tool = "detkit-prepare";
      m.tool_version = DETKIT_VERSION_STRING;
      const char* const roles[] = {"boxes", "classes", "image-list"};
      for (std::size_t i = 0; i < sources.size(); ++i) {
        const char* role = i < a.boxes.size()    ? roles[0]
                           : i == a.boxes.size() ? roles[1]
                                                 : roles[2];
        auto in = detkit::try_manifest_input(role, sources[i]);
        if (!in) die_error(in.error());
        m.inputs.push_back(std::move(*in));
      }
      for (const auto& t : ma.recorded) m.options.emplace_back("arg", t);
      m.image_ids = std::move(ids);
      if (auto w = detkit::try_write_manifest(ma.write, m); !w) die_error(w.error());
    }
  }
  if (!a.dump_json.empty()) {
    auto w = detkit_cli::write_sized_images(
        "detkit-prepare", "--dump-json", labels, detkit_cli::export_needs::pixel_size,
        [&](const detkit::label_set& l) {
          return detkit::try_write_detectron2_json(a.dump_json, l);
        });
    if (!w) die(w.error().code == detkit::errc::io_write ? 1 : 2, w.error().to_string());
  }

  if (!a.quiet) {
    std::vector<std::size_t> imgs(labels.classes.size()), boxes(labels.classes.size());
    std::size_t total_boxes = 0;
    for (const auto& rec : labels.images) {
      std::vector<char> seen(labels.classes.size(), 0);
      for (const auto& b : rec.boxes) {
        const auto c = static_cast<std::size_t>(b.category_id);
        ++boxes[c];
        ++total_boxes;
        if (!seen[c]) {
          seen[c] = 1;
          ++imgs[c];
        }
      }
    }
    std::size_t w = 5;
    for (const auto& c : labels.classes) w = std::max(w, c.name.size());
    std::printf("%3s  %-*s  %-11s  %8s  %8s\n", "id", static_cast<int>(w), "class", "MID", "images",
                "boxes");
    for (std::size_t i = 0; i < labels.classes.size(); ++i) {
      std::printf("%3zu  %-*s  %-11s  %8zu  %8zu\n", i, static_cast<int>(w),
                  labels.classes[i].name.c_str(), labels.classes[i].mid.c_str(), imgs[i], boxes[i]);
    }
    std::printf("     %-*s  %-11s  %8zu  %8zu\n", static_cast<int>(w), "total", "",
                labels.images.size(), total_boxes);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "wrote %s (%zu images, %zu boxes%s) in %.2f s\n", a.out.c_str(), labels.images.size(),
        total_boxes,
        a.images.empty() ? ", no image sizes" : (", " + std::to_string(sized) + " sized").c_str(),
        s);
  }
  return 0;
}

// Fuzz entry point for the CSV reader and the Open Images readers built on it (libFuzzer API;
// tests/fuzz/replay_main.cpp replays the seed corpus as a ctest under ASan/UBSan).
// Checks: no crash / UB on any input, lenient reports add up, a 2-chunk parallel scan keeps the
// same rows as the serial scan when it succeeds, and every error renders.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "detkit/open_images.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();  // an invariant broke: let the fuzzer record the input
}

std::size_t scan_count(const detkit::csv_file& f, detkit::csv_options opt, std::size_t chunks,
                       bool& ok) {
  opt.threads = static_cast<unsigned>(chunks);  // one thread per chunk: exercise the threads
  auto layout = detkit::try_read_layout(f, opt);
  if (!layout) {
    check(!layout.error().to_string().empty());
    ok = false;
    return 0;
  }
  std::vector<std::size_t> states(chunks, 0);
  auto r = detkit::try_scan_parallel(
      f, *layout, opt, detkit::no_prefilter{}, states,
      [](std::size_t& n, const detkit::csv_record& rec, detkit::row_error&) {
        for (std::size_t i = 0; i < rec.size(); ++i) n += rec[i].size() + 1;
        return detkit::row_action::keep;
      });
  if (!r) {
    check(!r.error().to_string().empty());
    ok = false;
    return 0;
  }
  check(r->adds_up());
  ok = true;
  std::size_t total = 0;
  for (auto s : states) total += s;
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto f = detkit::csv_file::from_memory(text, "fuzz.csv");

  for (auto header : {detkit::header_mode::present, detkit::header_mode::absent}) {
    for (auto quotes : {detkit::quoting::rfc4180, detkit::quoting::none}) {
      detkit::csv_options opt;
      opt.header = header;
      opt.quotes = quotes;
      opt.bom = detkit::bom_policy::skip;
      opt.max_record_bytes = 4096;
      opt.max_fields = 64;
      bool ok1 = false, ok2 = false;
      const std::size_t one = scan_count(f, opt, 1, ok1);
      const std::size_t two = scan_count(f, opt, 2, ok2);
      if (ok1 && ok2) check(one == two);
      opt.mode = detkit::error_mode::lenient;
      scan_count(f, opt, 1, ok1);
      scan_count(f, opt, 3, ok2);
    }
  }

  // The Open Images readers on the same bytes.
  auto classes = detkit::try_parse_class_descriptions(f);
  static const std::vector<detkit::class_info> targets = detkit::amenity_classes();
  detkit::label_set labels;
  detkit::join_options jo;
  jo.csv.mode = detkit::error_mode::lenient;
  auto rep = detkit::try_join_boxes(f, targets, jo, labels);
  if (rep) check(rep->adds_up());
  jo.csv.mode = detkit::error_mode::strict;
  jo.label_for_all = "/m/03ssj5";
  detkit::label_set fixed;
  (void)detkit::try_join_boxes(f, targets, jo, fixed);
  (void)detkit::try_for_each_image_metadata(f, {}, [](const detkit::image_metadata_view&) {});
  (void)detkit::try_parse_class_hierarchy(text, "fuzz.json");
  (void)classes;
  return 0;
}

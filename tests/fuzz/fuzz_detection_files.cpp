// tests/fuzz/fuzz_detection_files.cpp — fuzz entry for detection_files.hpp: every input is parsed
// as a per-image text file and as an Open Images predictions CSV.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detkit/detection_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = detkit::try_parse_text_detections(text, "fuzz/0001eeaf4aed83f9.txt");
  if (!t) (void)t.error().to_string();
  const detkit::csv_file f = detkit::csv_file::from_memory(text, "fuzz.csv");
  auto p = detkit::try_parse_oi_predictions(&f);
  if (!p) (void)p.error().to_string();
  return 0;
}

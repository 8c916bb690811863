// tests/fuzz/fuzz_image_header.cpp — libFuzzer entry for the JPEG/PNG header reader
// (include/detkit/image_header.hpp). Any bytes give a size or a located error, never a crash or
// a read outside the input; a size that comes back is within the limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "detkit/image_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  detkit::image_header_options opt;
  opt.max_scan_bytes = 1 << 16;
  auto r = detkit::try_read_image_size(bytes, "fuzz.jpg", opt);
  if (r) {
    if (r->width <= 0 || r->height <= 0 || r->width > opt.max_dimension ||
        r->height > opt.max_dimension)
      std::abort();
  } else if (r.error().code == detkit::errc::ok || !r.error().has_offset) {
    std::abort();
  }
  (void)detkit::is_complete_jpeg(bytes);
  (void)detkit::sniff_image_format(bytes);
  return 0;
}

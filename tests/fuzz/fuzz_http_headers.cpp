// tests/fuzz/fuzz_http_headers.cpp — libFuzzer entry for http_headers.hpp (header lines as a
// server might send them): no crash, and every accepted Content-Range is self-consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "detkit/http_headers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (std::string_view name : {"Content-Range", "Retry-After"}) {
    auto v = detkit::header_value(line, name);
    if (!v) continue;
    if (auto r = detkit::parse_content_range(*v)) {
      if (r->has_range && r->first > r->last) std::abort();
      if (r->has_range && r->complete_length >= 0 &&
          r->last >= static_cast<std::uint64_t>(r->complete_length))
        std::abort();
      if (!r->has_range && r->complete_length < 0) std::abort();
    }
    if (auto s = detkit::parse_retry_after(*v)) {
      if (*s < 0 || *s > 86400) std::abort();
    }
  }
  return 0;
}

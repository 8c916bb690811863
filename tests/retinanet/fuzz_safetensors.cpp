// tests/retinanet/fuzz_safetensors.cpp — fuzz entry for the safetensors reader: any bytes must give
// a value or a located error, never a crash, hang or out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = detkit::cuda::try_parse_safetensors(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  if (r) {
    std::size_t total = 0;
    for (const auto& t : r->tensors) total += t.data.size();
    (void)total;
  } else {
    (void)r.error().to_string();
  }
  return 0;
}

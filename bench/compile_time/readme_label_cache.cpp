// The README's label cache example ("Labels: ...", Label cache), as a user's program would hold
// it. bench/compile_time.sh times it; the compile_readme_examples test checks that the lines
// between the markers are the README's code block.
#include <cstdint>
#include <string_view>

#include "detkit/label_cache.hpp"

static void use(std::string_view, const detkit::box_xyxy_abs&, std::uint32_t) {}

int main() {
  // clang-format off
  // README:begin
  auto cache = detkit::label_cache::open("train.dkc");   // try_open returns a result instead
  for (const auto& img : cache.images())
    for (const auto& b : cache.boxes_of(img)) use(cache.image_id(img), b.abs, b.category_id);
  // README:end
  // clang-format on
  return 0;
}

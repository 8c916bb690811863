// A user's program: uses detkit through whichever of the three ways the build chose.
#include <cstdio>

#include "detkit/box.hpp"
#include "detkit/error.hpp"

int main() {
  const detkit::box_xyxy_abs b = detkit::to_xyxy_abs(detkit::box_xyxy_rel{0.25f, 0.5f, 0.75f, 1.0f},
                                                     detkit::image_size{200, 100});
  std::printf("%g %g %g %g area=%g\n", double(b.x1), double(b.y1), double(b.x2), double(b.y2),
              detkit::area(b));
  return detkit::area(b) == 100.0 * 50.0 ? 0 : 1;
}

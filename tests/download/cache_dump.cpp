// tests/download/cache_dump.cpp — prints a label cache as text lines for the download fault tests
// (run_fault_tests.py compares them with the fixture boxes and JPEG sizes):
//   class <mid> <name...>
//   image <ImageID> <file_name> <width> <height> <box count>
//   box <category id> <rel x1 y1 x2 y2> <abs x1 y1 x2 y2>
#include <cstdio>
#include <string>

#include "detkit/label_cache.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cache_dump <labels.dkc>\n");
    return 2;
  }
  auto c = detkit::label_cache::try_open(argv[1]);
  if (!c) {
    std::fprintf(stderr, "%s\n", c.error().to_string().c_str());
    return 1;
  }
  for (const auto& k : c->classes())
    std::printf("class %s %s\n", std::string(c->class_mid(k)).c_str(),
                std::string(c->class_name(k)).c_str());
  for (const auto& im : c->images()) {
    std::printf("image %s %s %d %d %u\n", std::string(c->image_id(im)).c_str(),
                std::string(c->file_name(im)).c_str(), im.width, im.height, im.box_count);
    for (const auto& b : c->boxes_of(im))
      std::printf("box %d %.7g %.7g %.7g %.7g %.7g %.7g %.7g %.7g\n", b.category_id,
                  static_cast<double>(b.rel.x1), static_cast<double>(b.rel.y1),
                  static_cast<double>(b.rel.x2), static_cast<double>(b.rel.y2),
                  static_cast<double>(b.abs.x1), static_cast<double>(b.abs.y1),
                  static_cast<double>(b.abs.x2), static_cast<double>(b.abs.y2));
  }
  return 0;
}

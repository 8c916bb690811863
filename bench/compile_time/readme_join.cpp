// The README's Open Images join example ("Preparing Open Images labels", Library), as a user's
// program would hold it. bench/compile_time.sh times it; the compile_readme_examples test checks
// that the lines between the markers are the README's code block.
#include "detkit/label_record.hpp"
#include "detkit/open_images_boxes.hpp"
#include "detkit/open_images_classes.hpp"

int main() {
  // clang-format off
  // README:begin
  auto classes = detkit::read_class_descriptions("class-descriptions-boxable.csv");
  auto targets = detkit::try_resolve_classes(classes, {"Bed", "Swimming_pool"}).value();
  detkit::label_set labels;
  detkit::join_options jo;
  jo.csv.threads = 2;
  jo.known_classes = &classes;
  auto report = detkit::try_join_boxes_file("train-annotations-bbox.csv", targets, jo, labels);
  // README:end
  // clang-format on
  return report.has_value() ? 0 : 1;
}

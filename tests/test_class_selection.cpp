// tests/test_class_selection.cpp — detkit/class_selection.hpp on the real Open Images files: the
// 2018_04 hierarchy, the V4 class descriptions, the 125 real Bed rows and the image-level labels
// head. Expected descendant sets were listed with Python's json module from the same fixture
// (a recursive walk over "Subcategory"), not with detkit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "detkit/class_selection.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

const std::string oi = "openimages/";

struct world {
  detkit::class_table table;
  detkit::class_hierarchy hierarchy;
};

const world& real() {
  static const world w = [] {
    world x;
    x.table = detkit::read_class_descriptions(fixture(oi + "class-descriptions-boxable.v4.csv"));
    auto h = detkit::try_read_class_hierarchy(fixture(oi + "bbox_labels_600_hierarchy.json"));
    if (!h) throw std::runtime_error(h.error().to_string());
    x.hierarchy = std::move(*h);
    return x;
  }();
  return w;
}

std::set<std::string> names_of(const std::vector<detkit::class_info>& v, std::size_t from = 0) {
  std::set<std::string> s;
  for (std::size_t i = from; i < v.size(); ++i) s.insert(v[i].name);
  return s;
}

// Python: descendants of Home appliance (/m/019dx1) in the fixture hierarchy.
const std::set<std::string> home_appliance_desc = {
    "Washing machine",    "Toaster",        "Oven",       "Blender",     "Gas stove",
    "Mechanical fan",     "Heater",         "Kettle",     "Hair dryer",  "Refrigerator",
    "Wood-burning stove", "Humidifier",     "Mixer",      "Coffeemaker", "Microwave oven",
    "Dishwasher",         "Sewing machine", "Hand dryer", "Ceiling fan"};
// Python: descendants of Kitchen appliance (/m/0h99cwc).
const std::set<std::string> kitchen_appliance_desc = {
    "Oven",  "Blender",     "Slow cooker",    "Food processor",  "Refrigerator", "Waffle iron",
    "Mixer", "Coffeemaker", "Microwave oven", "Pressure cooker", "Dishwasher"};

detkit::label_set join_bed_rows(const detkit::class_selection& sel) {
  detkit::label_set out;
  detkit::join_options jo;
  jo.known_classes = &real().table;
  auto r = detkit::try_join_boxes_file(fixture(oi + "validation-annotations-bbox.v5.bed.csv"),
                                       sel.join_classes, jo, out);
  if (!r) throw std::runtime_error(r.error().to_string());
  if (out.classes.empty()) out.classes = sel.join_classes;
  return out;
}

// The Bed fixture's rows as (flag columns), read with plain string splitting.
std::vector<std::vector<std::string>> bed_rows() {
  std::ifstream in(fixture(oi + "validation-annotations-bbox.v5.bed.csv"));
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    rows.push_back(f);
  }
  return rows;
}

}  // namespace

TEST_CASE("class_selection: exact names and MIDs, no hierarchy", "[subset]") {
  auto sel = detkit::try_select_classes(real().table, nullptr, {{"Bed", "/m/029bxz"}, {}, {}, {}});
  REQUIRE(sel);
  REQUIRE(sel->classes.size() == 2);
  CHECK(sel->classes[0].name == "Bed");
  CHECK(sel->classes[1].name == "Oven");
  CHECK(sel->join_classes.size() == 2);
  // Descendants without the hierarchy is a usage error; an unknown name suggests.
  auto no_h = detkit::try_select_classes(
      real().table, nullptr, {{"Bed"}, {}, detkit::selection_expansion::descendants, {}});
  REQUIRE_FALSE(no_h);
  CHECK(no_h.error().code == detkit::errc::usage);
  auto bad = detkit::try_select_classes(real().table, nullptr, {{"Bedd"}, {}, {}, {}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == detkit::errc::oi_unknown_class);
}

TEST_CASE("class_selection: a parent with several children (Home appliance)", "[subset]") {
  detkit::selection_request req{
      {"Home appliance"}, {}, detkit::selection_expansion::descendants, detkit::relabel_mode::keep};
  auto sel = detkit::try_select_classes(real().table, &real().hierarchy, req);
  REQUIRE(sel);
  REQUIRE(sel->classes.size() == 20);
  CHECK(sel->classes[0].name == "Home appliance");
  CHECK(names_of(sel->classes, 1) == home_appliance_desc);
  for (std::size_t i = 0; i < sel->output_of.size(); ++i) {
    CHECK(sel->output_of[i] == static_cast<std::int32_t>(i));  // keep: every class its own
  }

  SECTION("minus Oven, relabelled to the parent") {
    req.excludes = {"Oven"};
    req.relabel = detkit::relabel_mode::to_parent;
    auto r = detkit::try_select_classes(real().table, &real().hierarchy, req);
    REQUIRE(r);
    REQUIRE(r->classes.size() == 1);
    CHECK(r->classes[0].name == "Home appliance");
    CHECK(r->join_classes.size() == 19);  // the parent + 18 children
    CHECK(r->join_index("/m/029bxz") == -1);
    for (auto o : r->output_of) CHECK(o == 0);
    CHECK(std::find(r->excluded.begin(), r->excluded.end(), "/m/029bxz") != r->excluded.end());
  }
  SECTION("a target that is excluded is an error") {
    req.excludes = {"Home appliance"};
    auto r = detkit::try_select_classes(real().table, &real().hierarchy, req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == detkit::errc::usage);
  }
}

TEST_CASE("class_selection: a class with two parents (Oven)", "[subset]") {
  // Oven, Blender, Refrigerator, Mixer, Coffeemaker, Microwave oven, Dishwasher are under both.
  std::set<std::string> both;
  for (const auto& n : kitchen_appliance_desc) {
    if (home_appliance_desc.count(n)) both.insert(n);
  }
  REQUIRE(both.size() == 7);
  for (int order = 0; order < 2; ++order) {
    const std::vector<std::string> targets =
        order == 0 ? std::vector<std::string>{"Home appliance", "Kitchen appliance"}
                   : std::vector<std::string>{"Kitchen appliance", "Home appliance"};
    auto sel = detkit::try_select_classes(
        real().table, &real().hierarchy,
        {targets, {}, detkit::selection_expansion::descendants, detkit::relabel_mode::to_parent});
    REQUIRE(sel);
    REQUIRE(sel->classes.size() == 2);
    const std::int32_t home = order == 0 ? 0 : 1, kitchen = 1 - home;
    const auto oven = sel->join_index("/m/029bxz");
    REQUIRE(oven >= 0);
    // The first-listed parent gets it; the other is recorded.
    CHECK(sel->output_of[static_cast<std::size_t>(oven)] == (order == 0 ? home : kitchen));
    std::set<std::string> shared;
    for (const auto& s : sel->shared) {
      shared.insert(detkit::detail::class_of_mid(real().table, s.mid).name);
      CHECK(s.assigned_to == 0);
      CHECK(s.also_under == 1);
    }
    CHECK(shared == both);
    // Each MID is joined once; Slow cooker is only under Kitchen appliance.
    CHECK(sel->join_classes.size() == 2 + 19 + 11 - 7);
    const auto slow = sel->join_index("/m/02tsc9");
    REQUIRE(slow >= 0);
    CHECK(sel->output_of[static_cast<std::size_t>(slow)] == kitchen);
  }
  // Without relabelling, Oven is one output class, listed once.
  auto keep = detkit::try_select_classes(
      real().table, &real().hierarchy,
      {{"Home appliance", "Kitchen appliance"}, {}, detkit::selection_expansion::descendants, {}});
  REQUIRE(keep);
  CHECK(keep->classes.size() == 2 + 19 + 11 - 7);
  CHECK(keep->shared.empty());
}

TEST_CASE("class_selection: relabel the real Bed rows to an ancestor, and exclude them",
          "[subset]") {
  const auto bed = static_cast<std::uint32_t>(real().hierarchy.find("/m/03ssj5"));
  const auto anc = real().hierarchy.ancestors(bed);
  REQUIRE_FALSE(anc.empty());
  const std::string parent_mid = real().hierarchy.mids[anc[0]];
  auto sel = detkit::try_select_classes(real().table, &real().hierarchy,
                                        {{parent_mid},
                                         {},
                                         detkit::selection_expansion::descendants,
                                         detkit::relabel_mode::to_parent});
  REQUIRE(sel);
  auto labels = join_bed_rows(*sel);
  REQUIRE(detkit::try_relabel(*sel, labels));
  REQUIRE(labels.classes.size() == 1);
  CHECK(labels.classes[0].mid == parent_mid);
  std::size_t boxes = 0;
  for (const auto& img : labels.images) {
    for (const auto& b : img.boxes) {
      CHECK(b.category_id == 0);
      ++boxes;
    }
  }
  CHECK(boxes == 125);
  CHECK(labels.images.size() == 103);

  auto without = detkit::try_select_classes(real().table, &real().hierarchy,
                                            {{parent_mid},
                                             {"Bed"},
                                             detkit::selection_expansion::descendants,
                                             detkit::relabel_mode::to_parent});
  REQUIRE(without);
  CHECK(join_bed_rows(*without).images.empty());
}

TEST_CASE("class_selection: attribute filters counted per class and reason", "[subset]") {
  auto sel = detkit::try_select_classes(real().table, nullptr, {{"Bed"}, {}, {}, {}});
  REQUIRE(sel);
  // Independent counts from the CSV text: IsOccluded is column 8, IsGroupOf column 10.
  std::size_t occluded = 0, group_only = 0;
  for (const auto& f : bed_rows()) {
    if (f[8] == "1") {
      ++occluded;
    } else if (f[10] == "1") {
      ++group_only;  // counted under group-of only when not already dropped as occluded
    }
  }
  REQUIRE(occluded > 0);
  auto labels = join_bed_rows(*sel);
  detkit::image_record negative;  // a verified negative: no boxes, must survive the filter
  negative.image_id = "0000000000000001";
  negative.image_id_u64 = 1;
  labels.images.insert(labels.images.begin(), negative);
  detkit::attribute_filter af;
  af.occluded = detkit::flag_rule::exclude_yes;
  af.group_of = detkit::flag_rule::exclude_yes;
  const auto fc = detkit::filter_attributes(labels, af);
  CHECK(fc.boxes_seen == 125);
  CHECK(fc.boxes_by_reason[0][0] == occluded);
  CHECK(fc.boxes_by_reason[0][2] == group_only);
  CHECK(fc.boxes_seen == fc.boxes_kept + fc.boxes_filtered());
  REQUIRE_FALSE(labels.images.empty());
  CHECK(labels.images[0].image_id == "0000000000000001");
  std::size_t left = 0;
  for (std::size_t i = 1; i < labels.images.size(); ++i) {
    CHECK_FALSE(labels.images[i].boxes.empty());  // emptied images are gone
    left += labels.images[i].boxes.size();
  }
  CHECK(left == fc.boxes_kept);
}

TEST_CASE("class_selection: verified negatives from image-level labels", "[subset]") {
  // The real head: 000002b66c9c498e is verified without Apple (/m/014j1m, Confidence 0) and
  // with Human eye (/m/014sv8, Confidence 1).
  const auto labels_csv = fixture(oi + "train-annotations-human-imagelabels-boxable.head.csv");
  auto il = detkit::try_read_image_labels(labels_csv, real().table);
  REQUIRE(il);
  auto apple = detkit::try_select_classes(real().table, nullptr, {{"Apple"}, {}, {}, {}});
  REQUIRE(apple);
  detkit::label_set ls;
  ls.classes = apple->classes;
  CHECK(detkit::add_verified_negatives(ls, *apple, real().table, *il) == 1);
  REQUIRE(ls.images.size() == 1);
  CHECK(ls.images[0].image_id == "000002b66c9c498e");
  CHECK(ls.images[0].image_id_u64 == 0x000002b66c9c498eULL);
  CHECK(ls.images[0].file_name == "000002b66c9c498e.jpg");
  CHECK(ls.images[0].boxes.empty());
  // Also selecting Human eye: the image has a selected class, so it is not a negative.
  auto both =
      detkit::try_select_classes(real().table, nullptr, {{"Apple", "/m/014sv8"}, {}, {}, {}});
  REQUIRE(both);
  detkit::label_set ls2;
  CHECK(detkit::add_verified_negatives(ls2, *both, real().table, *il) == 0);
  CHECK(ls2.images.empty());
}

TEST_CASE("class_selection: target lists and attribute names as users write them", "[subset]") {
  CHECK(detkit::split_list("a,,b") == std::vector<std::string>{"a", "", "b"});
  auto airbnb = detkit::try_target_list("airbnb");
  REQUIRE(airbnb);
  REQUIRE(airbnb->size() == 30);
  CHECK((*airbnb)[1] == "/m/03ssj5");  // Bed, category 1 in the recipe
  CHECK(*detkit::try_target_list("Bed,Oven") == std::vector<std::string>{"Bed", "Oven"});
  const std::string dir = detkit_test::work_dir("target_list");
  detkit_test::write_text(dir + "/t.txt", "Home appliance\r\n\r\nOven\n");
  CHECK(*detkit::try_target_list("@" + dir + "/t.txt") ==
        std::vector<std::string>{"Home appliance", "Oven"});
  CHECK(detkit::try_target_list("@" + dir + "/none.txt").error().code == detkit::errc::io_open);
  CHECK(detkit::try_target_list("").error().code == detkit::errc::usage);
  detkit::attribute_filter f;
  REQUIRE(detkit::try_set_attribute_rule(f, "group_of", detkit::flag_rule::exclude_yes));
  CHECK(f.group_of == detkit::flag_rule::exclude_yes);
  REQUIRE(detkit::try_set_attribute_requirement(f, "depiction=0"));
  CHECK(f.depiction == detkit::flag_rule::require_no);
  CHECK(detkit::try_set_attribute_rule(f, "blurry", detkit::flag_rule::any).error().code ==
        detkit::errc::usage);
  CHECK_FALSE(detkit::try_set_attribute_requirement(f, "inside=2"));
  CHECK_FALSE(detkit::try_set_attribute_requirement(f, "inside"));
}

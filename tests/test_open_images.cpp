// Tests of the Open Images readers (open_images_*.hpp, amenity_classes.hpp) on the real files in
// tests/fixtures/openimages (see its SOURCES.md) and on inline malformed inputs, each asserting its
// exact located message.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "detkit/open_images.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

const std::string oi = "openimages/";

detkit::class_table v4_classes() {
  return detkit::read_class_descriptions(fixture(oi + "class-descriptions-boxable.v4.csv"));
}

// Joins `csv` (held in memory, named `name` in messages) for `targets` with the V4 class table.
detkit::result<detkit::read_report> join_text(const std::string& csv, const std::string& name,
                                              const std::vector<std::string>& targets,
                                              detkit::label_set& out,
                                              detkit::join_options jo = {}) {
  static const detkit::class_table classes = v4_classes();
  auto t = detkit::try_resolve_classes(classes, targets);
  REQUIRE(t);
  jo.known_classes = &classes;
  auto f = detkit::csv_file::from_memory(csv, name);
  return detkit::try_join_boxes(f, *t, jo, out);
}

std::string join_error(const std::string& csv) {
  detkit::label_set out;
  auto r = join_text(csv, "bbox.csv", {"Bed"}, out);
  REQUIRE_FALSE(r);
  return r.error().to_string();
}

const std::string header13 =
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,"
    "IsDepiction,IsInside\n";

std::size_t box_count(const detkit::label_set& s) {
  std::size_t n = 0;
  for (const auto& i : s.images) n += i.boxes.size();
  return n;
}

}  // namespace

TEST_CASE("open_images: V4 and V7 class files hold the same 601 MIDs", "[open_images]") {
  const auto v4 = v4_classes();
  auto v7 =
      detkit::try_read_class_descriptions(fixture(oi + "oidv7-class-descriptions-boxable.csv"));
  REQUIRE(v7);
  REQUIRE(v4.classes.size() == 601);
  REQUIRE(v7->classes.size() == 601);
  std::set<std::string> m4, m7;
  for (const auto& c : v4.classes) m4.insert(c.mid);
  for (const auto& c : v7->classes) m7.insert(c.mid);
  CHECK(m4 == m7);
  CHECK(v4.classes.front().mid == "/m/011k07");
  CHECK(v4.classes.front().name == "Tortoise");
  // V7 has a header and CRLF: the header is not a class, and no name keeps a '\r'.
  CHECK(v7->classes.front().name == "Accordion");
  for (const auto& c : v7->classes) CHECK(c.name.find('\r') == std::string::npos);
  // Renamed in V7 (openimages.md §1.3), same MID.
  const auto airplane = v4.find_mid("/m/0cmf2");
  REQUIRE(airplane >= 0);
  CHECK(v4.classes[static_cast<std::size_t>(airplane)].name == "Airplane");
  CHECK(v7->classes[static_cast<std::size_t>(v7->find_mid("/m/0cmf2"))].name ==
        "Fixed-wing aircraft");
}

TEST_CASE("open_images: the 20k image-level class list with RFC 4180 quoting and UTF-8",
          "[open_images]") {
  auto all =
      detkit::try_read_class_descriptions(fixture(oi + "class-descriptions.image-level.csv"));
  REQUIRE(all);
  CHECK(all->classes.size() == 19994);
  auto name = [&](const char* mid) {
    const auto i = all->find_mid(mid);
    REQUIRE(i >= 0);
    return all->classes[static_cast<std::size_t>(i)].name;
  };
  CHECK(name("/m/02wvth") == "Fiat 500 \"topolino\"");
  CHECK(name("/m/01c_0l") == "Ducks, geese and swans");
  CHECK(name("/m/064093q") ==
        "Toyota concept vehicles, 2000\xE2\x80\x93"
        "09");
  CHECK(name("/m/0411t3") == "R. torre & company, inc.");
  auto t = detkit::try_resolve_classes(*all, {"Ducks, geese and swans", "Fiat 500 \"topolino\""});
  REQUIRE(t);
  CHECK((*t)[1].mid == "/m/02wvth");
}

TEST_CASE("open_images: class file errors are located", "[open_images]") {
  auto parse = [](const std::string& text) {
    auto r =
        detkit::try_parse_class_descriptions(detkit::csv_file::from_memory(text, "classes.csv"));
    REQUIRE_FALSE(r);
    return r.error().to_string();
  };
  CHECK(parse("") ==
        "classes.csv: error: no classes: expected lines 'MID,DisplayName' [detkit.csv.empty]");
  CHECK(parse("/m/01,A\n/m/02,B\n/m/01,C\n") ==
        "classes.csv:3:1: error: field 'LabelName': MID '/m/01' appears twice (first as 'A') "
        "[detkit.oi.duplicate_key]");
  CHECK(parse("Name,Display\n/m/01,A\n") ==
        "classes.csv:1:1: error: field 'LabelName': expected the header 'LabelName,DisplayName' or "
        "a first row 'MID,DisplayName', got 'Name,Display' [detkit.csv.missing_column]");
  CHECK(parse("/m/01,A\n/m/02,B,C\n") ==
        "classes.csv:2:9: error: expected 2 fields, got 3 [detkit.csv.field_count]");
}

TEST_CASE("open_images: the 125 real Bed rows give 103 images and 125 boxes", "[open_images]") {
  const auto classes = v4_classes();
  auto targets = detkit::try_resolve_classes(classes, {"Bed"});
  REQUIRE(targets);
  for (unsigned threads : {1u, 2u}) {
    detkit::label_set labels;
    detkit::join_options jo;
    jo.csv.threads = threads;
    jo.known_classes = &classes;
    auto rep = detkit::try_join_boxes_file(fixture(oi + "validation-annotations-bbox.v5.bed.csv"),
                                           *targets, jo, labels);
    REQUIRE(rep);
    CHECK(rep->rows_seen == 125);
    CHECK(rep->rows_kept == 125);
    CHECK(rep->adds_up());
    REQUIRE(labels.images.size() == 103);
    CHECK(box_count(labels) == 125);
    CHECK(std::is_sorted(labels.images.begin(), labels.images.end(),
                         [](const auto& a, const auto& b) { return a.image_id < b.image_id; }));
    // First row: 03646bb2f288eaae,xclick,/m/03ssj5,1,0,0.9985229,0.22295806,0.9977925,1,1,0,0,0
    const auto& first = labels.images.front();
    CHECK(first.image_id == "03646bb2f288eaae");
    CHECK(first.image_id_u64 == 0x03646bb2f288eaaeULL);
    CHECK(first.file_name == "03646bb2f288eaae.jpg");
    REQUIRE(first.boxes.size() == 1);
    const auto& b = first.boxes[0];
    CHECK(b.rel.x1 == 0.0f);
    CHECK(b.rel.x2 == static_cast<float>(0.9985229));
    CHECK(b.rel.y1 == static_cast<float>(0.22295806));
    CHECK(b.rel.y2 == static_cast<float>(0.9977925));
    CHECK(b.category_id == 0);
    CHECK(b.flags.occluded == detkit::tri_flag::yes);
    CHECK(b.flags.truncated == detkit::tri_flag::yes);
    CHECK(b.flags.group_of == detkit::tri_flag::no);
    // Flag combinations in the file (awk): 15x 10000, 22x 11000, 44x 01000, 1x 01001, 1x 00010.
    int occluded = 0, truncated = 0, depiction = 0, inside = 0;
    for (const auto& img : labels.images) {
      for (const auto& bx : img.boxes) {
        occluded += bx.flags.occluded == detkit::tri_flag::yes;
        truncated += bx.flags.truncated == detkit::tri_flag::yes;
        depiction += bx.flags.depiction == detkit::tri_flag::yes;
        inside += bx.flags.inside == detkit::tri_flag::yes;
      }
    }
    CHECK(occluded == 37);
    CHECK(truncated == 67);
    CHECK(depiction == 1);
    CHECK(inside == 1);
  }
}

TEST_CASE("open_images: attribute filters drop rows by flag and count them as filtered",
          "[open_images]") {
  const auto classes = v4_classes();
  auto targets = detkit::try_resolve_classes(classes, {"Bed"});
  REQUIRE(targets);
  detkit::label_set labels;
  detkit::join_options jo;
  jo.attributes.depiction = detkit::flag_rule::exclude_yes;
  jo.attributes.occluded = detkit::flag_rule::require_no;
  auto rep = detkit::try_join_boxes_file(fixture(oi + "validation-annotations-bbox.v5.bed.csv"),
                                         *targets, jo, labels);
  REQUIRE(rep);
  CHECK(box_count(labels) == 125 - 37 - 1);  // 37 occluded, 1 depiction (not occluded)
  CHECK(rep->rows_filtered == 38);
  CHECK(rep->adds_up());
}

TEST_CASE("open_images: -1 = unknown stays distinct from 0 and 1", "[open_images]") {
  detkit::label_set out;
  auto r =
      join_text(header13 + "000026e7ee790996,activemil,/m/03ssj5,1,0.1,0.2,0.3,0.4,-1,0,1,-1,0\n",
                "b.csv", {"Bed"}, out);
  REQUIRE(r);
  REQUIRE(box_count(out) == 1);
  const auto f = out.images[0].boxes[0].flags;
  CHECK(f.occluded == detkit::tri_flag::unknown);
  CHECK(f.truncated == detkit::tri_flag::no);
  CHECK(f.group_of == detkit::tri_flag::yes);
  CHECK(f.depiction == detkit::tri_flag::unknown);
  // exclude_yes keeps unknown; require_no drops it.
  detkit::label_set a, b;
  detkit::join_options keep_unknown, drop_unknown;
  keep_unknown.attributes.occluded = detkit::flag_rule::exclude_yes;
  drop_unknown.attributes.occluded = detkit::flag_rule::require_no;
  const std::string row = header13 + "000026e7ee790996,x,/m/03ssj5,1,0.1,0.2,0.3,0.4,-1,0,0,0,0\n";
  REQUIRE(join_text(row, "b.csv", {"Bed"}, a, keep_unknown));
  REQUIRE(join_text(row, "b.csv", {"Bed"}, b, drop_unknown));
  CHECK(box_count(a) == 1);
  CHECK(box_count(b) == 0);
}

TEST_CASE("open_images: joins on exact MIDs (Bear /m/01dws never matches Waffle /m/01dwsz)",
          "[open_images]") {
  const auto classes = v4_classes();
  REQUIRE(classes.classes[static_cast<std::size_t>(classes.find_mid("/m/01dws"))].name == "Bear");
  REQUIRE(classes.classes[static_cast<std::size_t>(classes.find_mid("/m/01dwsz"))].name ==
          "Waffle");
  const std::string csv = header13 +
                          "0000000000000001,xclick,/m/01dws,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n"
                          "0000000000000002,xclick,/m/01dwsz,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n"
                          "0000000000000003,xclick,/m/01dwsz,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n"
                          "0000000000000004,xclick,/m/01dwwc,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n";
  detkit::label_set bear, waffle;
  auto rb = join_text(csv, "b.csv", {"Bear"}, bear);
  REQUIRE(rb);
  REQUIRE(bear.images.size() == 1);
  CHECK(bear.images[0].image_id == "0000000000000001");
  auto rw = join_text(csv, "b.csv", {"Waffle"}, waffle);
  REQUIRE(rw);
  CHECK(waffle.images.size() == 2);
}

TEST_CASE("open_images: category ids follow the user's class order", "[open_images]") {
  const auto classes = v4_classes();
  auto t = detkit::try_resolve_classes(classes, {"Orange", "Apple"});
  REQUIRE(t);
  CHECK((*t)[0].name == "Orange");
  CHECK((*t)[1].name == "Apple");
  const std::string csv = header13 +
                          "0000000000000001,xclick,/m/014j1m,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n"
                          "0000000000000001,xclick,/m/0cyhj_,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n";
  detkit::label_set out;
  REQUIRE(join_text(csv, "b.csv", {"Orange", "Apple"}, out));
  REQUIRE(out.images.size() == 1);
  REQUIRE(out.images[0].boxes.size() == 2);
  CHECK(out.images[0].boxes[0].category_id == 1);  // Apple row → id 1
  CHECK(out.images[0].boxes[1].category_id == 0);  // Orange row → id 0
  // A class that is absent from the data keeps its id (no "alphabetical among those present").
  detkit::label_set only_apple;
  REQUIRE(join_text(csv.substr(0, csv.rfind("0000000000000001,xclick,/m/0cyhj_")), "b.csv",
                    {"Orange", "Apple"}, only_apple));
  CHECK(only_apple.images[0].boxes[0].category_id == 1);
  CHECK(only_apple.classes.size() == 2);
}

TEST_CASE("open_images: target names are exact, '_' means ' ', misses say 'did you mean'",
          "[open_images]") {
  const auto classes = v4_classes();
  auto ok = detkit::try_resolve_classes(
      classes, {"Swimming_pool", "Kitchen_&_dining_room_table", "Toilet", "/m/03ssj5"});
  REQUIRE(ok);
  CHECK((*ok)[0].mid == "/m/0b_rs");
  CHECK((*ok)[1].mid == "/m/0h8n5zk");
  CHECK((*ok)[2].name == "Toilet");  // not "Toilet paper"
  CHECK((*ok)[3].name == "Bed");
  auto miss = detkit::try_resolve_classes(classes, {"Biliard_table"});
  REQUIRE_FALSE(miss);
  CHECK(miss.error().to_string() ==
        "error: unknown class 'Biliard_table'; did you mean 'Billiard table'? "
        "[detkit.oi.unknown_class]");
  auto lower = detkit::try_resolve_classes(classes, {"bed"});
  REQUIRE_FALSE(lower);
  CHECK(
      lower.error().to_string() ==
      "error: unknown class 'bed'; did you mean 'Bed', 'Bee' or 'Beer'? [detkit.oi.unknown_class]");
  auto none = detkit::try_resolve_classes(classes, {"Zzyzx quux"});
  REQUIRE_FALSE(none);
  CHECK(none.error().to_string() ==
        "error: unknown class 'Zzyzx quux' (names are case-sensitive, as in the class descriptions "
        "file) [detkit.oi.unknown_class]");
  auto twice = detkit::try_resolve_classes(classes, {"Bed", "/m/03ssj5"});
  REQUIRE_FALSE(twice);
  CHECK(twice.error().to_string() ==
        "error: class 'Bed' (/m/03ssj5) is listed twice [detkit.oi.duplicate_key]");
}

TEST_CASE("open_images: the airbnb preset matches the real V4 and V7 class files",
          "[open_images]") {
  const auto preset = detkit::amenity_classes();
  REQUIRE(preset.size() == 30);
  const auto v4 = v4_classes();
  const auto v7 =
      detkit::read_class_descriptions(fixture(oi + "oidv7-class-descriptions-boxable.csv"));
  for (std::size_t i = 0; i < preset.size(); ++i) {
    INFO(preset[i].name);
    const auto a = v4.find_mid(preset[i].mid);
    const auto b = v7.find_mid(preset[i].mid);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    CHECK(v4.classes[static_cast<std::size_t>(a)].name == preset[i].name);
    CHECK(v7.classes[static_cast<std::size_t>(b)].name == preset[i].name);
    if (i > 0) CHECK(preset[i - 1].name < preset[i].name);  // the recipe's alphabetical ids
  }
  CHECK(preset[1].name == "Bed");
  CHECK(preset[29].mid == "/m/0271qf7");
}

TEST_CASE("open_images: 8-, 13- and 21-column headers; OIDv4_ToolKit layout with a fixed class",
          "[open_images]") {
  detkit::label_set v3;
  REQUIRE(
      join_text("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax\n"
                "000026e7ee790996,freeform,/m/03ssj5,1,0.071905,0.145346,0.206591,0.391306\n",
                "v3.csv", {"Bed"}, v3));
  REQUIRE(box_count(v3) == 1);
  CHECK(v3.images[0].boxes[0].flags.occluded == detkit::tri_flag::unknown);  // no column

  const auto classes = v4_classes();
  auto person = detkit::try_resolve_classes(classes, {"Person"});
  REQUIRE(person);
  detkit::label_set v6;
  auto r = detkit::try_join_boxes_file(fixture(oi + "oidv6-train-annotations-bbox.head.csv"),
                                       *person, {}, v6);
  REQUIRE(r);
  REQUIRE(v6.images.size() == 1);
  REQUIRE(v6.images[0].boxes.size() == 3);
  CHECK(v6.images[0].boxes[2].rel.x1 == static_cast<float>(0.151562));
  CHECK(v6.images[0].boxes[2].flags.occluded == detkit::tri_flag::yes);

  auto apple = detkit::try_resolve_classes(classes, {"Apple"});
  REQUIRE(apple);
  detkit::label_set tk;
  detkit::join_options jo;
  jo.label_for_all = "/m/014j1m";
  auto rt = detkit::try_join_boxes_file(fixture(oi + "images/Apple.csv"), *apple, jo, tk);
  REQUIRE(rt);
  CHECK(tk.images.size() == 4);
  CHECK(box_count(tk) == 8);
  detkit::label_set none;
  auto missing = detkit::try_join_boxes_file(fixture(oi + "images/Apple.csv"), *apple, {}, none);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == detkit::errc::csv_missing_column);
  CHECK(missing.error().message ==
        "no column 'LabelName' in the header (columns: ImageID,XMin,XMax,YMin,YMax); for files "
        "without LabelName (e.g. OIDv4_ToolKit's per-class CSVs) give the class of every row");
}

TEST_CASE("open_images: malformed box files give exact located messages", "[open_images]") {
  const std::string ok = "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n";
  SECTION("empty file") {
    CHECK(join_error("") ==
          "bbox.csv: error: empty file, expected a header line [detkit.csv.empty]");
  }
  SECTION("byte-order mark") {
    CHECK(join_error("\xEF\xBB\xBF" + header13 + ok) ==
          "bbox.csv:1:1: error: file starts with a UTF-8 byte-order mark (EF BB BF); re-save it "
          "without one or read with bom_policy::skip [detkit.csv.bom]");
  }
  SECTION("truncated last line") {
    CHECK(join_error(header13 + ok + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.") ==
          "bbox.csv:3:43: error: file ends in the middle of a record: expected 13 fields, got 6 "
          "(truncated file?) [detkit.csv.truncated]");
  }
  SECTION("wrong column count, also on a row of another class") {
    CHECK(join_error(header13 + ok +
                     "000026e7ee790996,xclick,/m/01g317,1,0.1,0.2,0.3,0.4,0,0,0,0\n") ==
          "bbox.csv:3:60: error: expected 13 fields, got 12 [detkit.csv.field_count]");
  }
  SECTION("NaN and inf") {
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,nan,0.2,0.3,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:37: error: field 'XMin': expected a number in [0,1], got 'nan' "
        "[detkit.csv.bad_number]");
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,inf,0.3,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:41: error: field 'XMax': expected a number in [0,1], got 'inf' "
        "[detkit.csv.bad_number]");
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.2,1.2e,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:45: error: field 'YMin': expected a number in [0,1], got '1.2e' "
        "[detkit.csv.bad_number]");
  }
  SECTION("XMin > XMax and YMin > YMax") {
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.7,0.3,0.3,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:37: error: field 'XMin': XMin (0.7) is greater than XMax (0.3) "
        "[detkit.oi.bad_box]");
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.3,0.5,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:45: error: field 'YMin': YMin (0.5) is greater than YMax (0.4) "
        "[detkit.oi.bad_box]");
  }
  SECTION("coordinates outside [0,1]") {
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,1.2,0.3,0.4,0,0,0,0,0\n") ==
        "bbox.csv:2:41: error: field 'XMax': expected a number in [0,1], got '1.2' "
        "[detkit.csv.out_of_range]");
    CHECK(join_error(header13 +
                     "000026e7ee790996,xclick,/m/03ssj5,1,-0.01,0.2,0.3,0.4,0,0,0,0,0\n") ==
          "bbox.csv:2:37: error: field 'XMin': expected a number in [0,1], got '-0.01' "
          "[detkit.csv.out_of_range]");
  }
  SECTION("unknown MID") {
    CHECK(join_error(header13 + ok +
                     "000026e7ee790996,xclick,/m/zzzzz,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n") ==
          "bbox.csv:3:25: error: field 'LabelName': '/m/zzzzz' is not in the class descriptions "
          "[detkit.oi.unknown_mid]");
  }
  SECTION("bad ImageID and flag") {
    CHECK(join_error(header13 + "26e7ee790996,xclick,/m/03ssj5,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n") ==
          "bbox.csv:2:1: error: field 'ImageID': expected 16 hex digits, got '26e7ee790996' "
          "[detkit.oi.bad_image_id]");
    CHECK(
        join_error(header13 + "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.2,0.3,0.4,0,2,0,0,0\n") ==
        "bbox.csv:2:55: error: field 'IsTruncated': expected -1, 0 or 1, got '2' "
        "[detkit.csv.bad_value]");
  }
  SECTION("missing column") {
    CHECK(join_error("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin\n") ==
          "bbox.csv:1:1: error: no column 'YMax' in the header (columns: "
          "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin) [detkit.csv.missing_column]");
  }
}

TEST_CASE("open_images: lenient join skips and counts bad rows; counts add up", "[open_images]") {
  const std::string csv = header13 +
                          "000026e7ee790996,xclick,/m/03ssj5,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n"
                          "000026e7ee790996,xclick,/m/03ssj5,1,nan,0.2,0.3,0.4,0,0,0,0,0\n"
                          "000026e7ee790997,xclick,/m/01g317,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n"
                          "000026e7ee790998,xclick,/m/03ssj5,1,0.9,0.2,0.3,0.4,0,0,0,0,0\n"
                          "000026e7ee790998,xclick,/m/zzzzz,1,0.1,0.2,0.3,0.4,0,0,0,0,0\n"
                          "000026e7ee790998,xclick,/m/03ssj5,1,0.1,0.2\n"
                          "000026e7ee790999,xclick,/m/03ssj5,1,0.5,0.6,0.7,0.8,1,0,0,0,0\n";
  detkit::label_set out;
  detkit::join_options jo;
  jo.csv.mode = detkit::error_mode::lenient;
  auto r = join_text(csv, "b.csv", {"Bed"}, out, jo);
  REQUIRE(r);
  CHECK(r->rows_seen == 7);
  CHECK(r->rows_kept == 2);
  CHECK(r->rows_filtered == 1);  // the Person row
  CHECK(r->rows_skipped() == 4);
  CHECK(r->skipped_by_reason.at(detkit::errc::csv_bad_number) == 1);
  CHECK(r->skipped_by_reason.at(detkit::errc::oi_bad_box) == 1);
  CHECK(r->skipped_by_reason.at(detkit::errc::oi_unknown_mid) == 1);
  CHECK(r->skipped_by_reason.at(detkit::errc::csv_field_count) == 1);
  CHECK(r->adds_up());
  CHECK(out.images.size() == 2);
  CHECK(box_count(out) == 2);
}

TEST_CASE("open_images: the image list keeps only listed images; parallel join = serial",
          "[open_images]") {
  // A generated ImageID-sorted file of ~3 MB, so that 2 threads really split it.
  std::string csv = header13;
  const char* mids[3] = {"/m/03ssj5", "/m/01g317", "/m/0b_rs"};
  for (int img = 0; img < 6000; ++img) {
    for (int k = 0; k < 6; ++k) {
      char row[160];
      std::snprintf(row, sizeof row, "%016x,xclick,%s,1,0.%06d,0.9%05d,0.1,0.2,%d,0,0,-1,0\n",
                    img * 977 + 1, mids[(img + k) % 3], k * 1000, img % 100000, k % 2);
      csv += row;
    }
  }
  const std::string list_path = detkit_test::work_dir("oi_list") + "/ids.txt";
  std::string list;
  for (int img = 0; img < 6000; img += 3) {
    char line[64];
    std::snprintf(line, sizeof line, "validation/%016x.jpg\n", img * 977 + 1);
    list += line;
  }
  detkit_test::write_text(list_path, list);
  auto ids = detkit::try_read_image_list(list_path);
  REQUIRE(ids);
  CHECK(ids->size() == 2000);

  detkit::label_set serial, parallel, filtered;
  detkit::join_options j1, j2, jf;
  j2.csv.threads = 2;
  jf.images = &*ids;
  REQUIRE(join_text(csv, "g.csv", {"Swimming pool", "Bed"}, serial, j1));
  REQUIRE(join_text(csv, "g.csv", {"Swimming pool", "Bed"}, parallel, j2));
  REQUIRE(join_text(csv, "g.csv", {"Swimming pool", "Bed"}, filtered, jf));
  REQUIRE(serial.images.size() == parallel.images.size());
  CHECK(serial.images.size() == 6000);
  CHECK(box_count(serial) == 6000 * 4);
  bool same = true;
  for (std::size_t i = 0; i < serial.images.size(); ++i) {
    const auto& a = serial.images[i];
    const auto& b = parallel.images[i];
    same = same && a.image_id == b.image_id && a.boxes.size() == b.boxes.size();
    for (std::size_t k = 0; same && k < a.boxes.size(); ++k) {
      same = a.boxes[k].rel.x1 == b.boxes[k].rel.x1 &&
             a.boxes[k].category_id == b.boxes[k].category_id;
    }
  }
  CHECK(same);
  CHECK(filtered.images.size() == 2000);
  for (const auto& img : filtered.images) CHECK(ids->contains(img.image_id_u64));

  const std::string bad_path = detkit_test::work_dir("oi_list_bad") + "/ids.txt";
  detkit_test::write_text(bad_path, "000026e7ee790996\nnot-an-id\n");
  auto bad = detkit::try_read_image_list(bad_path);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() == bad_path +
                                       ":2:1: error: expected an ImageID of 16 hex digits, got "
                                       "'not-an-id' [detkit.oi.bad_image_id]");
}

TEST_CASE("open_images: image metadata (quoted free text, base64 MD5, Rotation)", "[open_images]") {
  std::vector<detkit::image_metadata_view> rows;
  std::vector<std::string> titles;
  auto r = detkit::try_for_each_image_metadata(
      fixture(oi + "train-images-boxable-with-rotation.head.csv"), {},
      [&](const detkit::image_metadata_view& v) {
        rows.push_back(v);
        titles.emplace_back(v.title);
      });
  REQUIRE(r);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].image_id_u64 == 0x4fa8054781a4c382ULL);
  CHECK(titles[0] == "...die FNF-Kerze");
  CHECK(rows[0].original_size == 4405052);
  CHECK(rows[0].rotation == 0);
  // python3 -c "import base64; print(base64.b64decode('KFukvivpCM5QXl5SqKe41g==').hex())"
  const std::array<std::uint8_t, 16> md5 = {0x28, 0x5b, 0xa4, 0xbe, 0x2b, 0xe9, 0x08, 0xce,
                                            0x50, 0x5e, 0x5e, 0x52, 0xa8, 0xa7, 0xb8, 0xd6};
  CHECK(rows[0].original_md5 == md5);

  const std::string head =
      "ImageID,Subset,OriginalURL,OriginalLandingURL,License,AuthorProfileURL,Author,Title,"
      "OriginalSize,OriginalMD5,Thumbnail300KURL,Rotation\n";
  const std::string text =
      head +
      "000026e7ee790996,train,u,l,lic,ap,\"Zoë, \"\"the\"\" author\",\"two\nlines\","
      "12,KFukvivpCM5QXl5SqKe41g==,,90.0\n"
      "000026e7ee790997,train,u,l,lic,ap,a,t,12,KFukvivpCM5QXl5SqKe41g==,,\n";
  std::vector<std::string> authors;
  std::vector<int> rot;
  auto r2 = detkit::try_for_each_image_metadata(detkit::csv_file::from_memory(text, "m.csv"), {},
                                                [&](const detkit::image_metadata_view& v) {
                                                  authors.emplace_back(v.author);
                                                  rot.push_back(v.rotation);
                                                });
  REQUIRE(r2);
  CHECK(authors == std::vector<std::string>{"Zoë, \"the\" author", "a"});
  CHECK(rot == std::vector<int>{90, -1});

  auto bad = detkit::try_for_each_image_metadata(
      detkit::csv_file::from_memory(
          head + "000026e7ee790996,train,u,l,lic,ap,a,t,12,KFukviv==,,45.0\n", "m.csv"),
      {}, [](const detkit::image_metadata_view&) {});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() ==
        "m.csv:2:42: error: field 'OriginalMD5': expected the base64 of a 16-byte MD5 (24 "
        "characters ending in '=='), got 'KFukviv==' [detkit.csv.bad_value]");
}

TEST_CASE("open_images: human image-level labels", "[open_images]") {
  const auto classes = v4_classes();
  auto labels = detkit::try_read_image_labels(
      fixture(oi + "train-annotations-human-imagelabels-boxable.head.csv"), classes);
  REQUIRE(labels);
  REQUIRE(labels->size() == 4);
  CHECK((*labels)[0].image_id == 0x000002b66c9c498eULL);
  CHECK(classes.classes[static_cast<std::size_t>((*labels)[0].class_index)].mid == "/m/014j1m");
  CHECK((*labels)[0].confidence == 0.0f);
  CHECK((*labels)[1].confidence == 1.0f);
  CHECK((*labels)[0].source == detkit::label_source::verification);
}

TEST_CASE("open_images: the class hierarchy JSON", "[open_images]") {
  auto h = detkit::try_read_class_hierarchy(fixture(oi + "bbox_labels_600_hierarchy.json"));
  REQUIRE(h);
  CHECK(h->mids.size() == 602);
  CHECK(h->node_count == 848);
  CHECK(h->root == 0);
  CHECK(h->mids[0] == "/m/0bl9f");
  CHECK(h->children[0].size() == 90);
  auto mid_of = [&](std::uint32_t i) { return h->mids[i]; };
  const auto oven = static_cast<std::uint32_t>(h->find("/m/029bxz"));
  std::set<std::string> oven_parents;
  for (auto p : h->parents[oven]) oven_parents.insert(mid_of(p));
  // Home appliance and Kitchen appliance (openimages.md §1.6, §3).
  CHECK(oven_parents == std::set<std::string>{"/m/019dx1", "/m/0h99cwc"});
  const auto sofa_bed = static_cast<std::uint32_t>(h->find("/m/03m3pdh"));
  const auto couch = static_cast<std::uint32_t>(h->find("/m/02crq1"));
  REQUIRE(h->parents[sofa_bed].size() == 1);
  CHECK(h->parents[sofa_bed][0] == couch);
  const auto anc = h->ancestors(sofa_bed);
  CHECK(std::find(anc.begin(), anc.end(), couch) != anc.end());
  CHECK(std::find(anc.begin(), anc.end(), 0u) == anc.end());  // root excluded
  // Every class of the boxable list is in the hierarchy.
  for (const auto& c : v4_classes().classes) CHECK(h->find(c.mid) >= 0);

  auto parse = [](const std::string& s) {
    auto r = detkit::try_parse_class_hierarchy(s, "h.json");
    REQUIRE_FALSE(r);
    return r.error().to_string();
  };
  CHECK(parse("") ==
        "h.json: error: empty file, expected the hierarchy's root object [detkit.json.syntax]");
  CHECK(parse("{\"LabelName\": \"/m/0bl9f\",\n \"Subcategory\": [{\"LabelName\": \"/m/1\"},]}") ==
        "h.json:2:40: error: expected '{', got ']' [detkit.json.syntax]");
  CHECK(parse("{\"LabelName\": \"/m/0bl9f\", \"Children\": []}") ==
        "h.json:1:27: error: unknown member 'Children' (a node has LabelName, Subcategory and "
        "Part) [detkit.json.schema]");
  CHECK(parse("{\"Subcategory\": []}") ==
        "h.json:1:1: error: node without 'LabelName' [detkit.json.schema]");
}

// End-to-end tests of examples/detkit-prepare: real fixtures in, label cache out (read back with
// label_cache.hpp), image sizes from the 8 real JPEGs checked against SOURCES.md, boxes checked
// against relative × size computed here from the CSV text, and exit codes / messages on bad input.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "detkit/label_cache.hpp"
#include "test_support.hpp"

using detkit_test::fixture;

namespace {

const std::string prepare = std::string(DETKIT_BINARY_DIR) + "/bin/detkit-prepare";
const std::string oi = fixture("openimages/");

struct run_result {
  int status;
  std::string out, err;
};

run_result run(const std::string& args, const std::string& dir) {
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  const std::string cmd = prepare + " " + args + " >'" + out + "' 2>'" + err + "'";
  const int st = std::system(cmd.c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, detkit_test::read_text(out),
          detkit_test::read_text(err)};
}

// SOURCES.md's image table: ImageID → W x H, read from the JPEG SOF marker there.
const std::map<std::string, std::pair<int, int>> sources_dims = {
    {"105433f9d808d18e", {1024, 1024}}, {"41e2356b97f775c4", {1024, 1024}},
    {"53912158f0b7dfce", {683, 1024}},  {"a6fa6e875d6ae7fd", {1024, 680}},
    {"52c33abf081b58ce", {731, 1024}},  {"3b3a23644d0ba4b1", {1024, 640}},
    {"69974d01b659acfe", {688, 1024}},  {"c9ebd63bc789073a", {1024, 768}}};

struct csv_box {
  std::string id;
  double x_min, x_max, y_min, y_max;
};

// Reads an OIDv4_ToolKit CSV (ImageID,XMin,XMax,YMin,YMax) with plain strtod, independently of
// csv.hpp.
std::vector<csv_box> read_toolkit_csv(const std::string& path) {
  std::istringstream in(detkit_test::read_text(path));
  std::string line;
  std::getline(in, line);
  std::vector<csv_box> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    csv_box b;
    std::istringstream ls(line);
    std::string f[5];
    for (auto& x : f) std::getline(ls, x, ',');
    b.id = f[0];
    b.x_min = std::strtod(f[1].c_str(), nullptr);
    b.x_max = std::strtod(f[2].c_str(), nullptr);
    b.y_min = std::strtod(f[3].c_str(), nullptr);
    b.y_max = std::strtod(f[4].c_str(), nullptr);
    out.push_back(b);
  }
  return out;
}

}  // namespace

TEST_CASE("prepare: the 8 real JPEGs with their real boxes, end to end", "[prepare]") {
  const std::string dir = detkit_test::work_dir("prepare_fruit");
  const auto r = run("--boxes " + oi + "images/Apple.csv " + oi +
                         "images/Orange.csv --label-from-filename --classes " + oi +
                         "class-descriptions-boxable.v4.csv --target Apple,Orange --images " + oi +
                         "images --strict-images --threads 2 --out " + dir +
                         "/fruit.dkc --dump-json " + dir + "/fruit.json",
                     dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("  0  Apple   /m/014j1m           4         8\n") != std::string::npos);
  CHECK(r.out.find("  1  Orange  /m/0cyhj_           4        15\n") != std::string::npos);

  auto cache = detkit::label_cache::try_open(dir + "/fruit.dkc");
  REQUIRE(cache);
  REQUIRE(cache->classes().size() == 2);
  CHECK(cache->class_name(cache->classes()[0]) == "Apple");
  CHECK(cache->class_mid(cache->classes()[1]) == "/m/0cyhj_");
  REQUIRE(cache->images().size() == 8);

  std::vector<csv_box> rows = read_toolkit_csv(oi + "images/Apple.csv");
  const std::size_t apples = rows.size();
  for (const auto& b : read_toolkit_csv(oi + "images/Orange.csv")) rows.push_back(b);
  REQUIRE(rows.size() == 23);
  std::size_t matched = 0;
  for (const auto& img : cache->images()) {
    const std::string id(cache->image_id(img));
    INFO(id);
    REQUIRE(sources_dims.count(id) == 1);
    CHECK(img.width == sources_dims.at(id).first);
    CHECK(img.height == sources_dims.at(id).second);
    CHECK(cache->file_name(img) == id + ".jpg");
    // Boxes of this image, in CSV order.
    std::vector<std::size_t> want;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].id == id) want.push_back(i);
    }
    const auto boxes = cache->boxes_of(img);
    REQUIRE(boxes.size() == want.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
      const csv_box& c = rows[want[k]];
      const detkit::cached_box& b = boxes[k];
      CHECK(b.category_id == (want[k] < apples ? 0 : 1));
      CHECK(b.rel.x1 == static_cast<float>(c.x_min));
      CHECK(b.rel.y2 == static_cast<float>(c.y_max));
      // abs = rel × size (XYXY_ABS), to float precision of the pixel value.
      const double w = img.width, h = img.height;
      CHECK(static_cast<double>(b.abs.x1) == Approx(c.x_min * w).margin(1e-3));
      CHECK(static_cast<double>(b.abs.y1) == Approx(c.y_min * h).margin(1e-3));
      CHECK(static_cast<double>(b.abs.x2) == Approx(c.x_max * w).margin(1e-3));
      CHECK(static_cast<double>(b.abs.y2) == Approx(c.y_max * h).margin(1e-3));
      ++matched;
    }
  }
  CHECK(matched == 23);
  const std::string json = detkit_test::read_text(dir + "/fruit.json");
  CHECK(json.find("\"image_id\": \"105433f9d808d18e\"") != std::string::npos);
  CHECK(json.find("\"bbox_mode\": \"XYXY_ABS\"") != std::string::npos);
}

TEST_CASE("prepare: airbnb preset on the 125 real Bed rows; recipe rounding", "[prepare]") {
  const std::string dir = detkit_test::work_dir("prepare_bed");
  const auto r =
      run("--boxes " + oi + "validation-annotations-bbox.v5.bed.csv --classes " + oi +
              "oidv7-class-descriptions-boxable.csv --target airbnb --out " + dir + "/bed.dkc",
          dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("  1  Bed                          /m/03ssj5         103       125\n") !=
        std::string::npos);
  auto cache = detkit::label_cache::try_open(dir + "/bed.dkc");
  REQUIRE(cache);
  CHECK(cache->classes().size() == 30);
  CHECK(cache->images().size() == 103);
  CHECK(cache->boxes().size() == 125);
  for (const auto& b : cache->boxes()) CHECK(b.category_id == 1);

  const auto rr = run("--boxes " + oi + "images/Apple.csv --label Apple --classes " + oi +
                          "class-descriptions-boxable.v4.csv --target Apple --images " + oi +
                          "images --rounding recipe --quiet --out " + dir + "/round.dkc",
                      dir);
  REQUIRE(rr.status == 0);
  CHECK(rr.out.empty());
  auto rc = detkit::label_cache::try_open(dir + "/round.dkc");
  REQUIRE(rc);
  REQUIRE(rc->boxes().size() == 8);
  for (const auto& b : rc->boxes()) {
    CHECK(b.abs.x1 == std::rint(b.abs.x1));
    CHECK(b.abs.y2 == std::rint(b.abs.y2));
  }
}

TEST_CASE("prepare: bad input exits 2 with the located message and writes no cache", "[prepare]") {
  const std::string dir = detkit_test::work_dir("prepare_bad");
  detkit_test::write_text(dir + "/bad.csv",
                          "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax\n"
                          "000026e7ee790996,xclick,/m/03ssj5,1,0.5,0.2,0.1,0.2\n");
  const std::string classes = " --classes " + oi + "class-descriptions-boxable.v4.csv";
  const auto r =
      run("--boxes " + dir + "/bad.csv" + classes + " --target Bed --out " + dir + "/x.dkc", dir);
  CHECK(r.status == 2);
  CHECK(r.err == "detkit-prepare: " + dir +
                     "/bad.csv:2:37: error: field 'XMin': XMin (0.5) is greater than XMax (0.2) "
                     "[detkit.oi.bad_box]\n");
  CHECK_FALSE(detkit_test::file_exists(dir + "/x.dkc"));

  const auto lenient = run("--boxes " + dir + "/bad.csv" + classes +
                               " --target Bed --lenient --quiet --out " + dir + "/y.dkc",
                           dir);
  CHECK(lenient.status == 0);
  CHECK(lenient.err.find("1 rows: 0 kept, 0 filtered, 1 skipped") != std::string::npos);
  CHECK(lenient.err.find("skipped 1 rows: oi.bad_box") != std::string::npos);

  const auto unknown =
      run("--boxes " + dir + "/bad.csv" + classes + " --target Bedd --out " + dir + "/x.dkc", dir);
  CHECK(unknown.status == 2);
  CHECK(unknown.err ==
        "detkit-prepare: error: unknown class 'Bedd'; did you mean 'Bed', 'Beer' or 'Bird'? "
        "[detkit.oi.unknown_class]\n");

  const auto no_images =
      run("--boxes " + oi + "images/Apple.csv --label Apple" + classes +
              " --target Apple --images " + dir + " --strict-images --out " + dir + "/x.dkc",
          dir);
  CHECK(no_images.status == 2);
  CHECK(no_images.err.find("105433f9d808d18e.jpg") != std::string::npos);
  CHECK_FALSE(detkit_test::file_exists(dir + "/x.dkc"));

  const auto usage = run("--boxes " + dir + "/bad.csv --target Bed", dir);
  CHECK(usage.status == 2);
  CHECK(usage.err == "detkit-prepare: --classes is required (see --help)\n");

  const auto help = run("--help", dir);
  CHECK(help.status == 0);
  for (const char* flag : {"--boxes FILE...", "--classes FILE", "--images DIR", "--target LIST",
                           "--out CACHE", "--dump-json FILE", "--threads N", "--lenient",
                           "--rounding MODE", "--exclude ATTR", "--label NAME"}) {
    CHECK(help.out.find(flag) != std::string::npos);
  }
}

TEST_CASE("prepare: an image missing on disk is left out of every pixel-box export, counted",
          "[prepare]") {
  // 5 of the 8 real JPEGs present: the 3 others are missing on disk.
  const std::string dir = detkit_test::work_dir("prepare_missing_images");
  const std::string images = dir + "/images";
  std::filesystem::create_directories(images);
  std::set<std::string> present;
  for (const auto& kv : sources_dims) {
    if (present.size() == 5) break;
    std::filesystem::copy_file(oi + "images/" + kv.first + ".jpg",
                               images + "/" + kv.first + ".jpg");
    present.insert(kv.first);
  }
  const std::string inputs = "--boxes " + oi + "images/Apple.csv " + oi +
                             "images/Orange.csv --label-from-filename --classes " + oi +
                             "class-descriptions-boxable.v4.csv --target Apple,Orange";
  const auto r = run(inputs + " --images " + images + " --out " + dir + "/fruit.dkc --dump-json " +
                         dir + "/fruit.json",
                     dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("3 of 8 images missing or unreadable") != std::string::npos);
  CHECK(r.err.find("detkit-prepare: --dump-json: 3 of 8 images left out (no size") !=
        std::string::npos);

  // The cache keeps all 8, the 3 missing ones flagged unsized (0 x 0).
  auto cache = detkit::label_cache::try_open(dir + "/fruit.dkc");
  REQUIRE(cache);
  REQUIRE(cache->images().size() == 8);
  std::size_t unsized = 0;
  for (const auto& img : cache->images()) {
    const std::string id(cache->image_id(img));
    CHECK((img.width == 0) == (present.count(id) == 0));
    unsized += img.width == 0 ? 1 : 0;
  }
  CHECK(unsized == 3);

  // The JSON: exactly the 5 present images, none with a zero size or a zero box.
  const std::string json = detkit_test::read_text(dir + "/fruit.json");
  std::size_t records = 0;
  for (std::size_t at = json.find("\"file_name\""); at != std::string::npos;
       at = json.find("\"file_name\"", at + 1))
    ++records;
  CHECK(records == 5);
  for (const auto& kv : sources_dims) {
    const bool in_json = json.find("\"image_id\": \"" + kv.first + "\"") != std::string::npos;
    CHECK(in_json == (present.count(kv.first) == 1));
  }
  CHECK(json.find("\"width\": 0") == std::string::npos);
  CHECK(json.find("\"height\": 0") == std::string::npos);
  CHECK(json.find("[0, 0, 0, 0]") == std::string::npos);

  // detkit-subset from that cache: COCO, VOC, YOLO and Detectron2 leave the 3 out and say so.
  const std::string subset = std::string(DETKIT_BINARY_DIR) + "/bin/detkit-subset";
  const std::string cmd = subset + " --cache " + dir + "/fruit.dkc --target Apple,Orange --coco " +
                          dir + "/coco.json --voc " + dir + "/voc --yolo " + dir +
                          "/yolo --detectron2 " + dir + "/d2.json --quiet >'" + dir +
                          "/subset.out' 2>'" + dir + "/subset.err'";
  const int st = std::system(cmd.c_str());
  const std::string err = detkit_test::read_text(dir + "/subset.err");
  INFO(err);
  REQUIRE((WIFEXITED(st) && WEXITSTATUS(st) == 0));
  for (const char* what : {"COCO", "VOC", "YOLO", "Detectron2 JSON"}) {
    CHECK(err.find(std::string("detkit-subset: ") + what + ": 3 of 8 images left out") !=
          std::string::npos);
  }
  const std::string coco = detkit_test::read_text(dir + "/coco.json");
  CHECK(coco.find("\"width\": 0") == std::string::npos);
  const std::string d2 = detkit_test::read_text(dir + "/d2.json");
  CHECK(d2.find("\"width\": 0") == std::string::npos);
  std::size_t voc_files = 0, yolo_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/voc")) {
    voc_files += e.path().extension() == ".xml" ? 1 : 0;
  }
  for (const auto& e : std::filesystem::directory_iterator(dir + "/yolo")) {
    yolo_files += e.path().extension() == ".txt" ? 1 : 0;
  }
  CHECK(voc_files == 5);
  CHECK(yolo_files == 5);
  for (const auto& id : present) {
    CHECK(detkit_test::file_exists(dir + "/voc/" + id + ".xml"));
    CHECK(detkit_test::file_exists(dir + "/yolo/" + id + ".txt"));
  }

  // Without --images there are no sizes at all: --dump-json is refused up front.
  const auto no_sizes =
      run(inputs + " --out " + dir + "/x.dkc --dump-json " + dir + "/x.json", dir);
  CHECK(no_sizes.status == 2);
  CHECK(no_sizes.err ==
        "detkit-prepare: --dump-json needs --images (Detectron2 records need the image sizes) "
        "(see --help)\n");
  CHECK_FALSE(detkit_test::file_exists(dir + "/x.json"));
}

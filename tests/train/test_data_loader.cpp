// Tests of examples/train/data_loader: synthetic scenes written by detkit-synth and a label cache
// written by detkit-prepare (both run here), then the loader's batches: the same seed gives the
// same batches whatever the worker count, a start position gives the same batch as reaching it,
// another seed gives other batches, flipped boxes mirror the unflipped ones, a sequential pass
// covers every image once, a degenerate box is refused naming the cache, image and box, and
// batches of real photos are padded to their own largest image as torchvision's batch_images.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "train/data_loader.hpp"
#include "train/image_decode.hpp"
#include "train/model_batch.hpp"
#include "train/model_io.hpp"

namespace {

std::string bin(const std::string& name) { return std::string(DETKIT_BINARY_DIR) + "/bin/" + name; }

// Builds <dir>/train.dkc from 24 synthetic 96 px scenes once per process.
const std::string& scenes() {
  static const std::string dir = [] {
    const std::string d = detkit_test::work_dir("train_loader");
    const std::string cmd = bin("detkit-synth") + " --out " + d +
                            " --images 24 --size 96 --classes 3 "
                            "--seed 7 > /dev/null && " +
                            bin("detkit-prepare") + " --boxes " + d + "/boxes.csv --classes " + d +
                            "/classes.csv --target 'Red square,Green "
                            "disc,Blue triangle' --images " +
                            d + "/images --strict-images --out " + d + "/train.dkc > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}

detkit_train::loader_options opts(std::uint64_t seed, unsigned workers) {
  detkit_train::loader_options o;
  o.transform.min_size = 64;  // 96 -> 64: the resize path runs
  o.transform.max_size = 64;
  o.batch_size = 3;
  const auto s = detkit_train::padded_shape(o.transform, o.batch_size);
  o.batch_h = s.h;
  o.batch_w = s.w;
  o.seed = seed;
  o.workers = workers;
  o.prefetch = 3;
  return o;
}

bool same(const detkit_train::loaded_batch& a, const detkit_train::loaded_batch& b) {
  if (a.image_ids != b.image_ids || a.data != b.data || a.flipped != b.flipped) return false;
  for (std::size_t i = 0; i < a.targets.size(); ++i)
    if (a.targets[i].boxes != b.targets[i].boxes || a.targets[i].labels != b.targets[i].labels)
      return false;
  return true;
}

}  // namespace

TEST_CASE("data loader: same seed, same batches; position and worker count do not matter") {
  const auto cache = detkit::label_cache::open(scenes() + "/train.dkc");
  REQUIRE(cache.images().size() == 24);
  detkit_train::data_loader one(cache, scenes() + "/images", opts(5, 1));
  detkit_train::data_loader three(cache, scenes() + "/images", opts(5, 3));
  detkit_train::data_loader other(cache, scenes() + "/images", opts(6, 2));
  detkit_train::data_loader from4(cache, scenes() + "/images", opts(5, 2), 4);
  std::vector<detkit_train::loaded_batch> ref;
  int differs = 0, flips = 0;
  for (int b = 0; b < 10; ++b) {  // 30 images: crosses into the second epoch
    ref.push_back(one.next());
    const auto t = three.next();
    CHECK(t.index == static_cast<std::uint64_t>(b));
    CHECK(same(ref.back(), t));
    differs += same(ref.back(), other.next()) ? 0 : 1;
    for (char f : ref.back().flipped) flips += f;
    CHECK(ref.back().n == 3);
    CHECK(ref.back().h == 64);
    CHECK(ref.back().count == 3);
  }
  CHECK(differs >= 9);
  CHECK(flips > 5);  // random horizontal flip: about half of 30
  CHECK(flips < 25);
  for (int b = 4; b < 10; ++b) CHECK(same(ref[static_cast<std::size_t>(b)], from4.next()));

  // The first epoch (8 batches of 3) is a permutation of the 24 images.
  std::set<std::uint32_t> seen;
  for (int b = 0; b < 8; ++b)
    for (auto i : ref[static_cast<std::size_t>(b)].image_index) seen.insert(i);
  CHECK(seen.size() == 24);
}

TEST_CASE("data loader: flipped boxes mirror the unflipped ones, pixels too") {
  const auto cache = detkit::label_cache::open(scenes() + "/train.dkc");
  auto flip = opts(11, 1);
  auto none = opts(11, 1);
  none.flip = detkit_train::flip_mode::none;
  const auto a = detkit_train::build_batch(cache, scenes() + "/images", flip, 0);
  const auto b = detkit_train::build_batch(cache, scenes() + "/images", none, 0);
  REQUIRE(a.image_ids == b.image_ids);
  int checked = 0;
  for (std::size_t s = 0; s < a.flipped.size(); ++s) {
    const auto& ta = a.targets[s].boxes;
    const auto& tb = b.targets[s].boxes;
    REQUIRE(ta.size() == tb.size());
    REQUIRE(!ta.empty());
    const float w = static_cast<float>(a.resized[s].w);
    for (std::size_t k = 0; k < ta.size(); k += 4) {
      if (a.flipped[s]) {
        CHECK(ta[k] == Approx(w - tb[k + 2]));
        CHECK(ta[k + 2] == Approx(w - tb[k]));
      } else {
        CHECK(ta[k] == tb[k]);
      }
      CHECK(ta[k + 1] == tb[k + 1]);
      CHECK(ta[k + 3] == tb[k + 3]);
    }
    // Pixel (c=0, y=10, x) of the flipped image is pixel (w-1-x) of the plain one.
    const std::size_t plane = 64 * 64;
    const float* pa = a.data.data() + s * 3 * plane + 10 * 64;
    const float* pb = b.data.data() + s * 3 * plane + 10 * 64;
    const int iw = a.resized[s].w;
    for (int x = 0; x < iw; ++x) {
      const float want = a.flipped[s] ? pb[iw - 1 - x] : pb[x];
      if (pa[x] != want) FAIL("pixel mismatch at x=" << x);
    }
    checked += a.flipped[s];
  }
  // Boxes are in padded-input pixels: 96 px scenes resized to 64, so no box passes 64.
  for (const auto& t : b.targets)
    for (float v : t.boxes) CHECK(v <= 64.0f);
  (void)checked;
}

TEST_CASE("data loader: a sequential pass covers every image once, last batch short") {
  const auto cache = detkit::label_cache::open(scenes() + "/train.dkc");
  auto o = opts(1, 2);
  o.order = detkit_train::order_mode::sequential;
  o.batch_size = 5;
  o.batch_h = o.batch_w = 64;
  CHECK(detkit_train::batches_per_epoch(24, o) == 5);
  detkit_train::data_loader l(cache, scenes() + "/images", o);
  std::vector<std::uint32_t> all;
  for (int b = 0; b < 5; ++b) {
    const auto x = l.next();
    CHECK(x.count == (b < 4 ? 5 : 4));
    all.insert(all.end(), x.image_index.begin(), x.image_index.end());
  }
  CHECK(all.size() == 24);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i);
  CHECK_THROWS(l.next());
}

TEST_CASE("data loader: a degenerate box is refused with the cache, image and box") {
  const std::string d = scenes();
  const std::string bad = d + "/bad";
  // One real scene, its first row kept, plus a zero-width box (XMin == XMax) on it.
  const std::string cmd =
      "mkdir -p " + bad + " && head -2 " + d + "/boxes.csv > " + bad + "/boxes.csv && " +
      "sed -n 2p " + d + "/boxes.csv | awk -F, 'BEGIN{OFS=\",\"} {$6=$5; print}' >> " + bad +
      "/boxes.csv && " + bin("detkit-prepare") + " --boxes " + bad + "/boxes.csv --classes " + d +
      "/classes.csv --target 'Red square,Green disc,Blue triangle' --images " + d +
      "/images --out " + bad + "/bad.dkc > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto cache = detkit::label_cache::open(bad + "/bad.dkc");
  detkit_train::data_loader l(cache, d + "/images", opts(1, 1));
  try {
    (void)l.next();
    FAIL("no error");
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    CHECK(m.find("bad.dkc") != std::string::npos);
    CHECK(m.find("image 0000000000000001") != std::string::npos);
    CHECK(m.find("box 1") != std::string::npos);
    CHECK(m.find("degenerate") != std::string::npos);
  }
}

namespace {
std::atomic<int> g_blocks_live{0};
void* counting_allocate(std::size_t bytes) {
  ++g_blocks_live;
  return std::malloc(bytes);
}
void counting_release(void* p) {
  --g_blocks_live;
  std::free(p);
}
}  // namespace

TEST_CASE("data loader: a host block cache gives the same batches and reuses its blocks") {
  // What detkit-train --device cuda does with pinned memory, with malloc as the source.
  const auto cache = detkit::label_cache::open(scenes() + "/train.dkc");
  auto blocks = std::make_shared<detkit_train::host_block_cache>(
      detkit_train::host_memory_source{counting_allocate, counting_release});
  {
    auto o = opts(5, 2);
    o.host_memory = blocks;
    detkit_train::data_loader plain(cache, scenes() + "/images", opts(5, 2));
    detkit_train::data_loader cached(cache, scenes() + "/images", o);
    for (int b = 0; b < 20; ++b) {
      const auto x = plain.next();
      const auto y = cached.next();
      CHECK(same(x, y));
      CHECK(y.data.get_allocator().cache == blocks);  // the pixels really are the cache's
    }
    // In flight at most: prefetch (3) + workers (2) + the one held here, plus one being replaced.
    CHECK(blocks->fresh_allocations() <= 7);
    CHECK(blocks->fresh_allocations() >= 1);
  }
  const std::size_t fresh = blocks->fresh_allocations();
  CHECK(g_blocks_live.load() == static_cast<int>(fresh));  // all returned to the cache, kept
  blocks.reset();
  CHECK(g_blocks_live.load() == 0);  // the cache freed them when the last owner went
}

TEST_CASE("data loader: each batch is padded to its own largest image, as torchvision's") {
  // Real photos of three shapes at 320/512: 1024x640 -> 320x512, 731x1024 -> 448x320 (h x w),
  // 1024x1024 -> 320x320. torchvision's batch_images pads a batch to the largest height and the
  // largest width, each rounded up to 32, and make_batch (transform.hpp, checked against
  // torchvision in test_retinanet_reference) is that rule on its own.
  const std::string dir = detkit_test::fixture("openimages/images/");
  const std::vector<std::string> paths = {
      dir + "3b3a23644d0ba4b1.jpg", dir + "52c33abf081b58ce.jpg", dir + "105433f9d808d18e.jpg"};
  detkit_train::loader_options o;
  o.transform.min_size = 320;
  o.transform.max_size = 512;
  o.batch_size = 2;
  const auto run =
      detkit_train::padded_shape(o.transform, 2, {{640, 1024}, {1024, 731}, {1024, 1024}});
  CHECK(run.h == 448);
  CHECK(run.w == 512);
  CHECK(detkit_train::padded_shape(o.transform, 2, {{640, 1024}, {0, 0}}).h == 512);  // unknown
  o.batch_h = run.h;
  o.batch_w = run.w;

  const auto wide_tall = detkit_train::build_file_batch(paths, o, 0);
  CHECK(wide_tall.h == 448);
  CHECK(wide_tall.w == 512);
  const auto square = detkit_train::build_file_batch(paths, o, 1);  // short: one image
  CHECK(square.count == 1);
  CHECK(square.h == 320);
  CHECK(square.w == 320);

  std::vector<std::vector<float>> chw(2);
  std::vector<detkit::cuda::image_view> views;
  for (std::size_t i = 0; i < 2; ++i) {
    detkit_train::rgb_image rgb;
    detkit_train::decode_rgb(paths[i], rgb);
    const std::size_t px =
        static_cast<std::size_t>(rgb.width) * static_cast<std::size_t>(rgb.height);
    chw[i].resize(3 * px);
    for (std::size_t p = 0; p < px; ++p)
      for (std::size_t c = 0; c < 3; ++c)
        chw[i][c * px + p] = static_cast<float>(rgb.pixels[p * 3 + c]) / 255.0f;
    views.push_back({chw[i].data(), rgb.height, rgb.width});
  }
  const detkit::cuda::image_batch want = detkit::cuda::make_batch(o.transform, views);
  REQUIRE(want.h == wide_tall.h);
  REQUIRE(want.w == wide_tall.w);
  CHECK(std::vector<float>(wide_tall.data.begin(), wide_tall.data.end()) == want.data);

  // A batch that pads past the planned shape is refused, naming it.
  o.batch_h = 416;
  try {
    (void)detkit_train::build_file_batch(paths, o, 0);
    FAIL("no error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) ==
          "images: batch 0 pads to 448x512, more than the planned 416x512");
  }
}

TEST_CASE("model batch: the model takes its shape from the batch, and the pixels must fill it",
          "[train]") {
  detkit::cuda::retinanet model(detkit_train::make_config("resnet18", 2, 16), {2, 64, 96},
                                detkit_train::make_backend("cpu"));
  detkit_train::loaded_batch b;
  b.index = 7;
  b.n = 1;
  b.h = 64;
  b.w = 64;
  b.data.assign(1 * 3 * 64 * 64, 0.5f);
  detkit_train::set_input_shape(model, b);
  CHECK(model.batch().n == 1);
  CHECK(model.batch().h == 64);
  CHECK(model.batch().w == 64);
  // One row of pixels short: refused before forward() could read past the batch.
  b.data.resize(1 * 3 * 64 * 64 - 64);
  CHECK_THROWS_WITH(detkit_train::set_input_shape(model, b),
                    "batch 7: 12224 floats for the shape (1, 3, 64, 64)");
  // A shape the planned arena cannot hold is the model's error.
  b.h = 128;
  b.data.assign(1 * 3 * 128 * 64, 0.5f);
  CHECK_THROWS(detkit_train::set_input_shape(model, b));
}

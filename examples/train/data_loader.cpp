// examples/train/data_loader.cpp — see data_loader.hpp.
#include "train/data_loader.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include "detkit/image_header.hpp"
#include "train/image_decode.hpp"

namespace detkit_train {
namespace {

using detkit::cuda::resized_size;

// splitmix64: independent streams from (seed, a, b) without correlated mt19937 seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return mix(mix(mix(seed) ^ a) ^ b);
}

std::vector<std::uint32_t> epoch_order(std::size_t n, const loader_options& o, std::uint64_t e) {
  std::vector<std::uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  if (o.order == order_mode::shuffled) {
    std::mt19937_64 rng(stream_seed(o.seed, 0x5eed5eedull, e));
    // Fisher-Yates with our own bounded draws: std::shuffle's distribution is not specified, so
    // another standard library would give other batches.
    for (std::size_t i = n; i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(rng() % i);
      std::swap(perm[i - 1], perm[j]);
    }
  }
  return perm;
}

std::string image_path(const detkit::label_cache& cache, const std::string& dir,
                       const detkit::cached_image& img) {
  const std::string_view fn = cache.file_name(img);
  std::string name = fn.empty() ? std::string(cache.image_id(img)) + ".jpg" : std::string(fn);
  return dir.empty() ? name : dir + "/" + name;
}

// Decodes `path` into slot `slot` of `b` (normalised, resized, flipped per the batch's seeded
// draw, zero-padded); records the resized and original sizes and the flip. Sizes in the cache
// (expect_w/h, 0 = unknown) must match the decoded image.
resized_size decode_into(const std::string& path, const std::string& where, const loader_options& o,
                         loaded_batch& b, int slot, int expect_w, int expect_h, int& w, int& h) {
  thread_local std::vector<float> chw, resized;
  const std::size_t plane = static_cast<std::size_t>(b.h) * static_cast<std::size_t>(b.w);
  const std::size_t si = static_cast<std::size_t>(slot);
  const std::uint64_t batch_index = b.index;
  thread_local rgb_image decoded;
  try {
    decode_rgb(path, decoded);
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  w = decoded.width;
  h = decoded.height;
  const unsigned char* px = decoded.pixels.data();
  const std::size_t pixels = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  chw.resize(3 * pixels);
  for (std::size_t i = 0; i < pixels; ++i)
    for (std::size_t c = 0; c < 3; ++c)
      chw[c * pixels + i] = static_cast<float>(px[i * 3 + c]) / 255.0f;
  if ((expect_w != 0 && expect_w != w) || (expect_h != 0 && expect_h != h)) {
    throw std::runtime_error(where + ": " + path + " is " + std::to_string(w) + "x" +
                             std::to_string(h) + " but its cache entry or header says " +
                             std::to_string(expect_w) + "x" + std::to_string(expect_h));
  }
  const resized_size rs = detkit::cuda::transform_output_size(o.transform, h, w);
  if (rs.h > b.h || rs.w > b.w)  // the header promised another size than the pixels have
    throw std::runtime_error(where + ": resized image " + std::to_string(rs.h) + "x" +
                             std::to_string(rs.w) + " exceeds the batch " + std::to_string(b.h) +
                             "x" + std::to_string(b.w));
  resized.resize(3 * static_cast<std::size_t>(rs.h) * static_cast<std::size_t>(rs.w));
  detkit::cuda::normalize_and_resize(o.transform, chw.data(), h, w, rs, resized.data());

  std::mt19937_64 rng(stream_seed(o.seed, batch_index, static_cast<std::uint64_t>(slot)));
  const bool flip = o.flip == flip_mode::random_horizontal && (rng() >> 63) != 0;
  b.flipped.push_back(flip ? 1 : 0);
  float* dst = b.data.data() + si * 3 * plane;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < rs.h; ++y)
      for (int x = 0; x < rs.w; ++x) {
        const int sx = flip ? rs.w - 1 - x : x;
        dst[static_cast<std::size_t>(c) * plane + static_cast<std::size_t>(y * b.w + x)] =
            resized[(static_cast<std::size_t>(c) * static_cast<std::size_t>(rs.h) +
                     static_cast<std::size_t>(y)) *
                        static_cast<std::size_t>(rs.w) +
                    static_cast<std::size_t>(sx)];
      }

  b.resized.push_back(rs);
  b.original.push_back({h, w});
  return rs;
}

// Original (h, w) of `path` from its header (no decode): the batch shape is needed before the
// pixels, and decoding twice would double the loader's main cost.
resized_size header_size(const std::string& path, const std::string& where) {
  auto s = detkit::try_read_image_size(path);
  if (!s) throw std::runtime_error(where + ": " + s.error().to_string());
  return {s->height, s->width};
}

// Sets b.h, b.w to the padded shape of images of these original sizes and allocates b.data (zero).
void shape_batch(loaded_batch& b, const loader_options& o,
                 const std::vector<resized_size>& original, const std::string& where) {
  const detkit::cuda::batch_shape s = padded_shape(o.transform, b.n, original);
  if ((o.batch_h > 0 && s.h > o.batch_h) || (o.batch_w > 0 && s.w > o.batch_w))
    throw std::runtime_error(where + ": batch " + std::to_string(b.index) + " pads to " +
                             std::to_string(s.h) + "x" + std::to_string(s.w) +
                             ", more than the planned " + std::to_string(o.batch_h) + "x" +
                             std::to_string(o.batch_w));
  b.h = s.h;
  b.w = s.w;
  b.data = host_floats(host_allocator<float>(o.host_memory));
  b.data.assign(static_cast<std::size_t>(b.n) * 3 * static_cast<std::size_t>(b.h) *
                    static_cast<std::size_t>(b.w),
                0.0f);
}

}  // namespace

detkit::cuda::batch_shape padded_shape(const detkit::cuda::transform_options& t, int batch_size) {
  const int d = std::max(1, t.size_divisible);
  const int side = (t.max_size + d - 1) / d * d;
  return {batch_size, side, side};
}

detkit::cuda::batch_shape padded_shape(const detkit::cuda::transform_options& t, int batch_size,
                                       const std::vector<resized_size>& original_sizes) {
  int h = 0, w = 0;
  for (const resized_size& o : original_sizes) {
    if (o.h <= 0 || o.w <= 0) return padded_shape(t, batch_size);  // a size not known: worst case
    const resized_size r = detkit::cuda::transform_output_size(t, o.h, o.w);
    h = std::max(h, r.h);
    w = std::max(w, r.w);
  }
  if (h == 0) return padded_shape(t, batch_size);
  const int d = std::max(1, t.size_divisible);
  return {batch_size, (h + d - 1) / d * d, (w + d - 1) / d * d};
}

std::uint64_t batches_per_epoch(std::size_t image_count, const loader_options& o) {
  const std::uint64_t bs = static_cast<std::uint64_t>(std::max(1, o.batch_size));
  return (image_count + bs - 1) / bs;
}

std::vector<std::uint32_t> batch_members(std::size_t image_count, const loader_options& o,
                                         std::uint64_t batch_index) {
  std::vector<std::uint32_t> out;
  if (image_count == 0) return out;
  const std::uint64_t bs = static_cast<std::uint64_t>(std::max(1, o.batch_size));
  if (o.order == order_mode::sequential) {
    for (std::uint64_t p = batch_index * bs; p < (batch_index + 1) * bs && p < image_count; ++p)
      out.push_back(static_cast<std::uint32_t>(p));
    return out;
  }
  std::uint64_t cached_epoch = ~0ull;
  std::vector<std::uint32_t> perm;
  for (std::uint64_t k = 0; k < bs; ++k) {
    const std::uint64_t p = batch_index * bs + k;
    const std::uint64_t e = p / image_count;
    if (e != cached_epoch) perm = epoch_order(image_count, o, cached_epoch = e);
    out.push_back(perm[static_cast<std::size_t>(p % image_count)]);
  }
  return out;
}

loaded_batch build_batch(const detkit::label_cache& cache, const std::string& image_dir,
                         const loader_options& o, std::uint64_t batch_index) {
  loaded_batch b;
  b.index = batch_index;
  b.n = o.batch_size;
  b.image_index = batch_members(cache.images().size(), o, batch_index);
  b.count = static_cast<int>(b.image_index.size());
  std::vector<resized_size> sizes;
  for (std::uint32_t i : b.image_index) {
    const detkit::cached_image& img = cache.images()[i];
    sizes.push_back(
        img.width > 0 && img.height > 0
            ? resized_size{img.height, img.width}
            : header_size(image_path(cache, image_dir, img),
                          cache.path() + ": image " + std::string(cache.image_id(img))));
  }
  shape_batch(b, o, sizes, cache.path());
  b.targets.resize(static_cast<std::size_t>(b.n));
  for (int slot = 0; slot < b.count; ++slot) {
    const std::size_t si = static_cast<std::size_t>(slot);
    const detkit::cached_image& img = cache.images()[b.image_index[si]];
    const std::string path = image_path(cache, image_dir, img);
    const std::string where = cache.path() + ": image " + std::string(cache.image_id(img));
    b.image_ids.emplace_back(cache.image_id(img));
    int w = 0, h = 0;
    const resized_size rs = decode_into(path, where, o, b, slot, img.width, img.height, w, h);
    const bool flip = b.flipped.back() != 0;

    // Boxes: refuse what torchvision would assert on or silently train wrong.
    detkit::cuda::image_targets& t = b.targets[si];
    const auto boxes = cache.boxes_of(img);
    for (std::size_t k = 0; k < boxes.size(); ++k) {
      const detkit::cached_box& cb = boxes[k];
      float bx[4] = {cb.abs.x1, cb.abs.y1, cb.abs.x2, cb.abs.y2};
      const std::string box_where =
          where + ": box " + std::to_string(k) + " (class " + std::to_string(cb.category_id) + ")";
      for (float v : bx)
        if (!std::isfinite(v)) throw std::runtime_error(box_where + ": coordinate is not finite");
      if (!(bx[2] > bx[0] && bx[3] > bx[1]))
        throw std::runtime_error(box_where + ": degenerate box (x2 <= x1 or y2 <= y1)");
      const float tol = 0.5f;  // sub-pixel rounding of relative coordinates
      if (bx[0] < -tol || bx[1] < -tol || bx[2] > static_cast<float>(w) + tol ||
          bx[3] > static_cast<float>(h) + tol)
        throw std::runtime_error(box_where + ": box lies outside the " + std::to_string(w) + "x" +
                                 std::to_string(h) + " image");
      detkit::cuda::resize_boxes(bx, 1, h, w, rs.h, rs.w);
      if (flip) {
        const float x1 = static_cast<float>(rs.w) - bx[2];
        bx[2] = static_cast<float>(rs.w) - bx[0];
        bx[0] = x1;
      }
      t.boxes.insert(t.boxes.end(), bx, bx + 4);
      t.labels.push_back(cb.category_id);
    }
  }
  return b;
}

loaded_batch build_file_batch(const std::vector<std::string>& paths, const loader_options& o,
                              std::uint64_t batch_index) {
  loaded_batch b;
  b.index = batch_index;
  b.n = o.batch_size;
  const std::uint64_t bs = static_cast<std::uint64_t>(std::max(1, o.batch_size));
  for (std::uint64_t p = batch_index * bs; p < (batch_index + 1) * bs && p < paths.size(); ++p)
    b.image_index.push_back(static_cast<std::uint32_t>(p));
  b.count = static_cast<int>(b.image_index.size());
  std::vector<resized_size> sizes;
  for (std::uint32_t i : b.image_index) sizes.push_back(header_size(paths[i], paths[i]));
  shape_batch(b, o, sizes, "images");
  b.targets.resize(static_cast<std::size_t>(b.n));
  loader_options plain = o;
  plain.flip = flip_mode::none;
  for (int slot = 0; slot < b.count; ++slot) {
    const std::string& path = paths[b.image_index[static_cast<std::size_t>(slot)]];
    const std::size_t slash = path.find_last_of('/');
    std::string stem = path.substr(slash == std::string::npos ? 0 : slash + 1);
    stem = stem.substr(0, stem.find_last_of('.'));
    b.image_ids.push_back(stem);
    int w = 0, h = 0;
    const resized_size& want = sizes[static_cast<std::size_t>(slot)];
    (void)decode_into(path, path, plain, b, slot, want.w, want.h, w, h);
  }
  return b;
}

struct data_loader::state {
  const detkit::label_cache* cache;
  std::string dir;
  loader_options o;
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t consumer = 0;  // next batch next() returns
  std::uint64_t handout = 0;   // next batch a worker takes
  std::uint64_t end = ~0ull;   // sequential order: one pass
  bool stop = false;
  struct slot {
    loaded_batch batch;
    std::exception_ptr error;
  };
  std::map<std::uint64_t, slot> ready;
  std::vector<std::thread> threads;

  void work() {
    for (;;) {
      std::uint64_t b;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop || (handout < end && handout < consumer + o.prefetch); });
        if (stop) return;
        b = handout++;
      }
      slot s;
      try {
        s.batch = build_batch(*cache, dir, o, b);
      } catch (...) {
        s.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lk(mu);
        ready.emplace(b, std::move(s));
      }
      cv.notify_all();
    }
  }
};

data_loader::data_loader(const detkit::label_cache& cache, std::string image_dir,
                         loader_options options, std::uint64_t first_batch)
    : s_(std::make_unique<state>()) {
  s_->cache = &cache;
  s_->dir = std::move(image_dir);
  s_->o = options;
  s_->o.prefetch = std::max(1u, options.prefetch);
  s_->consumer = s_->handout = first_batch;
  if (options.order == order_mode::sequential)
    s_->end = batches_per_epoch(cache.images().size(), options);
  if (cache.images().empty()) throw std::runtime_error(cache.path() + ": the cache has no images");
  for (unsigned i = 0; i < std::max(1u, options.workers); ++i)
    s_->threads.emplace_back([this] { s_->work(); });
}

data_loader::~data_loader() {
  {
    std::lock_guard<std::mutex> lk(s_->mu);
    s_->stop = true;
  }
  s_->cv.notify_all();
  for (auto& t : s_->threads) t.join();
}

std::uint64_t data_loader::position() const {
  std::lock_guard<std::mutex> lk(s_->mu);
  return s_->consumer;
}

loaded_batch data_loader::next() {
  std::unique_lock<std::mutex> lk(s_->mu);
  if (s_->consumer >= s_->end) throw std::runtime_error("data_loader: the pass is over");
  const std::uint64_t want = s_->consumer;
  s_->cv.wait(lk, [&] { return s_->ready.count(want) != 0; });
  auto node = s_->ready.extract(want);
  ++s_->consumer;
  lk.unlock();
  s_->cv.notify_all();
  if (node.mapped().error) std::rethrow_exception(node.mapped().error);
  return std::move(node.mapped().batch);
}

}  // namespace detkit_train

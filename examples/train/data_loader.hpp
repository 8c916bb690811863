// examples/train/data_loader.hpp — detkit-train's input pipeline: a detkit label cache + an image
// folder → padded, normalised batches for cuda::retinanet, as torchvision's detection references
// feed GeneralizedRCNNTransform (decode, random horizontal flip, normalise, resize min/max size,
// pad each batch to its largest image rounded up to a multiple of 32), with worker threads
// decoding ahead of the trainer.
//
// Determinism: batch b of a run is a pure function of (seed, b): the epoch order is a seeded
// shuffle of the cache's images, and every image's flip comes from an RNG seeded with
// (seed, b, slot). Which worker builds a batch, and how many workers there are, never changes it,
// so a resumed run restarts at batch b (the "data position") and sees the same data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detkit/label_cache.hpp"
#include "model/retinanet.hpp"
#include "model/transform.hpp"
#include "train/host_memory.hpp"

namespace detkit_train {

enum class flip_mode { none, random_horizontal };
enum class order_mode { shuffled, sequential };

struct loader_options {
  detkit::cuda::transform_options transform;  // min/max size, mean/std, size_divisible
  int batch_size = 2;
  // The largest padded batch the model is planned for (0: no limit). Each batch is padded only to
  // its own largest resized image, rounded up to transform.size_divisible (torchvision's
  // batch_images); a batch that would pad past this is an error.
  int batch_h = 0, batch_w = 0;
  flip_mode flip = flip_mode::random_horizontal;
  order_mode order = order_mode::shuffled;
  std::uint64_t seed = 0;
  unsigned workers = 2;
  unsigned prefetch = 4;  // batches decoded ahead of the consumer
  /// Where batch pixels live: null = the heap; detkit-train --device cuda passes a cache of pinned
  /// blocks (host_memory.hpp), reused from batch to batch.
  std::shared_ptr<host_block_cache> host_memory;
};

/// One batch: (n, 3, h, w) images plus the targets in padded-input pixels; (h, w) is this batch's
/// own padded shape. A short final batch of a sequential pass has `count` < n (the remaining slots
/// are zero images without targets).
struct loaded_batch {
  std::uint64_t index = 0;
  int count = 0;
  int n = 0, h = 0, w = 0;
  host_floats data;
  std::vector<detkit::cuda::image_targets> targets;
  std::vector<std::uint32_t> image_index;  // into the cache's images()
  std::vector<std::string> image_ids;
  std::vector<detkit::cuda::resized_size> resized;   // the image inside the padded batch
  std::vector<detkit::cuda::resized_size> original;  // decoded size (h, w)
  std::vector<char> flipped;
};

/// The padded batch shape for images up to max_size on the long side (square: any aspect fits):
/// the worst case, for a run whose image sizes are not known.
detkit::cuda::batch_shape padded_shape(const detkit::cuda::transform_options& t, int batch_size);
/// The padded shape of a batch of images of these original sizes (h, w): the largest resized
/// height and the largest resized width, each rounded up to size_divisible. Given every image of a
/// run, it is the smallest shape every batch of that run fits (a batch may hold the tallest and
/// the widest image). A size of 0 (unknown) gives the worst case above.
detkit::cuda::batch_shape padded_shape(
    const detkit::cuda::transform_options& t, int batch_size,
    const std::vector<detkit::cuda::resized_size>& original_sizes);

/// Which images batch b holds (before decoding): the seeded epoch order, batch_size per batch.
std::vector<std::uint32_t> batch_members(std::size_t image_count, const loader_options& o,
                                         std::uint64_t batch_index);

/// Batches per pass over the images (sequential order: the last one may be short).
std::uint64_t batches_per_epoch(std::size_t image_count, const loader_options& o);

class data_loader {
 public:
  /// `first_batch`: the data position to start from (a checkpoint's step). Images are read from
  /// image_dir/<file_name or ImageID.jpg>. Errors (unreadable image, a degenerate or out-of-image
  /// box) are thrown from next() as std::runtime_error naming the cache, image and box.
  data_loader(const detkit::label_cache& cache, std::string image_dir, loader_options options,
              std::uint64_t first_batch = 0);
  ~data_loader();
  data_loader(const data_loader&) = delete;
  data_loader& operator=(const data_loader&) = delete;

  /// The next batch in order (blocks until a worker has it).
  loaded_batch next();
  /// The index of the batch next() returns.
  std::uint64_t position() const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

/// Builds batch b on the calling thread (what each worker runs).
loaded_batch build_batch(const detkit::label_cache& cache, const std::string& image_dir,
                         const loader_options& o, std::uint64_t batch_index);

/// Batch b of a plain list of image files (detkit-detect): sequential, no flip, no targets;
/// image_ids are the file names without directory and extension.
loaded_batch build_file_batch(const std::vector<std::string>& paths, const loader_options& o,
                              std::uint64_t batch_index);

}  // namespace detkit_train

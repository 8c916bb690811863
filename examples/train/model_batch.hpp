// examples/train/model_batch.hpp — the last step of the bridge from label records to model
// tensors: a loaded batch into the model. The batch carries its shape (n, 3, h, w) and its pixels;
// the model takes the shape from the batch (set_batch_shape checks it against the planned arena)
// and the pixel count is checked against that shape, so no bare pointer reaches forward() with a
// shape the model does not expect.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "model/retinanet.hpp"
#include "train/data_loader.hpp"

namespace detkit_train {

/// Makes `b` the model's input shape; throws std::runtime_error when the batch's pixels are not
/// n x 3 x h x w floats (or the arena cannot hold the shape: set_batch_shape's error).
inline void set_input_shape(detkit::cuda::retinanet& model, const loaded_batch& b) {
  const std::size_t want = static_cast<std::size_t>(b.n) * 3 * static_cast<std::size_t>(b.h) *
                           static_cast<std::size_t>(b.w);
  if (b.n < 1 || b.h < 1 || b.w < 1 || b.data.size() != want)
    throw std::runtime_error("batch " + std::to_string(b.index) + ": " +
                             std::to_string(b.data.size()) + " floats for the shape (" +
                             std::to_string(b.n) + ", 3, " + std::to_string(b.h) + ", " +
                             std::to_string(b.w) + ")");
  model.set_batch_shape({b.n, b.h, b.w});
}

/// The forward pass on `b` at its own shape.
inline void forward_batch(detkit::cuda::retinanet& model, const loaded_batch& b) {
  set_input_shape(model, b);
  model.forward(b.data.data());
}

}  // namespace detkit_train

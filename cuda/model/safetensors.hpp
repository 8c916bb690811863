// cuda/model/safetensors.hpp — read and write safetensors files (huggingface/safetensors format:
// u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__":
// {string: string}}, then the raw little-endian data), F32 tensors, and the RetinaNet glue: weights
// under torchvision's state_dict names, checkpoints with the SGD momentum.
// Bad files give located errors (file, byte offset, tensor name), never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

class retinanet;

struct named_tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

struct safetensors_file {
  std::vector<named_tensor> tensors;  // header order on read is sorted by data offset
  std::vector<std::pair<std::string, std::string>> metadata;
  const named_tensor* find(const std::string& name) const;
  const std::string* find_metadata(const std::string& key) const;
};

/// Reads every tensor. Only dtype F32 is accepted (the converter writes F32).
[[nodiscard]] result<safetensors_file> try_read_safetensors(const std::string& path) noexcept;
safetensors_file read_safetensors(const std::string& path);
/// The same from bytes in memory; `name` is used in error messages.
[[nodiscard]] result<safetensors_file> try_parse_safetensors(std::string_view bytes,
                                                             const std::string& name) noexcept;
/// The settings a weights file records beside its tensors in "__metadata__": today "bn_eps", the
/// FrozenBatchNorm2d eps the weights were trained with (the converter's --bn-eps; detkit's own
/// saves write the eps the model ran with). Absent: the file does not say.
struct recorded_settings {
  std::optional<float> bn_eps;
};
/// Reads only the header. A recorded value that is not a number in [0, 1) is an error.
[[nodiscard]] result<recorded_settings> try_read_recorded_settings(
    const std::string& path) noexcept;
/// Writes atomically (temp file + rename).
[[nodiscard]] result<void> try_write_safetensors(const std::string& path,
                                                 const safetensors_file& file) noexcept;

/// How load_weights treats tensors whose shape differs from the model's (e.g. a COCO 91-class
/// cls_logits when fine-tuning on 30 classes) and model parameters the file lacks.
enum class mismatch_policy { error, skip };

struct load_options {
  mismatch_policy shape_mismatch = mismatch_policy::error;
  mismatch_policy missing = mismatch_policy::error;
  mismatch_policy unexpected = mismatch_policy::error;  // file tensors the model does not have
};

struct load_report {
  int loaded = 0;
  std::vector<std::string> skipped_shape, missing, unexpected;
};

/// Parameters (and frozen BN buffers) by torchvision state_dict name.
[[nodiscard]] result<load_report> try_load_weights(retinanet& model, const std::string& path,
                                                   const load_options& options = {}) noexcept;
[[nodiscard]] result<void> try_save_weights(const retinanet& model,
                                            const std::string& path) noexcept;
/// Weights plus "optimizer.momentum" and the step count in the metadata.
[[nodiscard]] result<void> try_save_checkpoint(const retinanet& model, const std::string& path,
                                               std::int64_t step) noexcept;
/// Restores weights and momentum; returns the step.
[[nodiscard]] result<std::int64_t> try_load_checkpoint(retinanet& model,
                                                       const std::string& path) noexcept;

}  // namespace cuda
DETKIT_END_NAMESPACE

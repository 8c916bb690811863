// cuda/model/retinanet.hpp — torchvision's RetinaNet (v1: ResNet body with frozen BatchNorm, FPN
// P3-P7 with P6 from P5, 4-conv towers shared over levels, focal + L1 losses) as a flat op tape over
// one arena, run by a backend: the CPU twin here, the CUDA kernels in retinanet_cuda.cu.
//
// Parameter and activation names are torchvision's (state_dict keys; activations are
// "<module path>#<call index>" as tests/retinanet/dump_reference.py records them), so weights and
// reference tensors map one to one. Mirrors tv/models/detection/retinanet.py 0.14.1.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/gemm.hpp"
#include "ops/anchors/anchors.hpp"
#include "ops/box_loss/box_loss.hpp"
#include "ops/conv2d/conv2d.hpp"
#include "ops/focal_loss/focal_loss.hpp"
#include "ops/matcher/matcher.hpp"
#include "ops/max_pool/max_pool.hpp"
#include "ops/sgd/sgd.hpp"
#include "ops/topk/topk.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

enum class block_kind { basic, bottleneck };
/// Whether a convolution has a bias term (ResNet convs do not; FPN and head convs do).
enum class conv_bias { no, yes };

/// Where P6 comes from: P5 (torchvision v1, LastLevelP6P7(256, 256)) or C5 (Detectron2, tv v2).
enum class p6_source { p5, c5 };

struct retinanet_config {
  block_kind block = block_kind::bottleneck;
  std::array<int, 4> layers{3, 4, 6, 3};
  int fpn_channels = 256;
  int num_classes = 91;
  p6_source p6 = p6_source::p5;
  float prior_probability = 0.01f;
  float bn_eps = 1e-5f;  // FrozenBatchNorm2d's default; COCO weights were saved for eps 0
  anchor_options anchors = anchor_options::retinanet_default();
  matcher_options matcher;
  focal_options focal;
  box_loss_options box_loss;  // L1 (torchvision v1), smooth L1, or GIoU (torchvision v2)
  // Inference (postprocess_detections).
  float score_threshold = 0.05f;
  int topk_candidates = 1000;
  float nms_threshold = 0.5f;
  int detections_per_image = 300;

  static retinanet_config resnet18(int num_classes);
  static retinanet_config resnet34(int num_classes);
  static retinanet_config resnet50(int num_classes);
};

/// A padded input batch: n images of h x w (multiples of 32).
struct batch_shape {
  int n = 1, h = 800, w = 800;
};

enum class param_role { trainable, frozen_buffer };

struct param_info {
  std::string name;        // torchvision state_dict key
  std::vector<int> shape;  // torch shape
  std::size_t offset = 0;  // floats from the start of the parameter block
  std::size_t count = 0;
  param_role role = param_role::trainable;
};

struct activation_info {
  std::string name;  // "<module>#<call>", or an internal name starting with '~'
  int n = 0, c = 0, h = 0, w = 0;
  std::size_t offset = 0;       // floats into the activation block
  std::size_t grad_offset = 0;  // floats into the activation-gradient block
  std::size_t count() const {
    return static_cast<std::size_t>(n) * static_cast<std::size_t>(c) * static_cast<std::size_t>(h) *
           static_cast<std::size_t>(w);
  }
};

/// Ground truth of one image: boxes x1,y1,x2,y2 in padded-input pixels, labels in [0, classes).
struct image_targets {
  std::vector<float> boxes;  // 4 per box
  std::vector<int> labels;
};

struct loss_values {
  float classification = 0.0f;
  float box_regression = 0.0f;
  float total() const { return classification + box_regression; }
};

struct detection {
  float box[4];
  float score;
  int label;
};

/// Sizes of the arena's parts in bytes.
struct arena_report {
  std::size_t params = 0, grads = 0, momentum = 0, folded_bn = 0, activations = 0,
              activation_grads = 0, workspace = 0, loss = 0, total = 0;
  std::size_t trainable_parameters = 0;  // a count, not bytes: torchvision's num_params
};

/// The operations the tape needs; one implementation per device. Pointers point into the arena.
class op_backend {
 public:
  virtual ~op_backend() = default;
  virtual void* allocate_arena(std::size_t bytes) = 0;  // called once
  virtual void upload(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void download(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void zero(void* dst, std::size_t bytes) = 0;
  virtual void conv_forward(const conv2d_shape& s, const float* x, const float* w, const float* b,
                            float* y, float* col) = 0;
  /// dx per dx_write, dw and db per param_write (conv2d_backward_cpu); null: not needed.
  virtual void conv_backward(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                             float* dx, float* dw, float* db, float* col, grad_write dx_write,
                             grad_write param_write) = 0;
  virtual void bn_fold(int c, const float* weight, const float* bias, const float* mean,
                       const float* var, float eps, float* scale, float* shift) = 0;
  virtual void bn_forward(int n, int c, int pixels, const float* x, const float* scale,
                          const float* shift, float* y) = 0;
  virtual void bn_backward(int n, int c, int pixels, const float* dy, const float* scale,
                           float* dx) = 0;
  virtual void relu_forward(long long count, const float* x, float* y) = 0;
  virtual void relu_backward(long long count, const float* y, const float* dy, float* dx) = 0;
  virtual void add_forward(long long count, const float* a, const float* b, float* y) = 0;
  virtual void accumulate(long long count, const float* src, float* dst) = 0;
  /// dst = src (a gradient's first writer, where accumulate would need a cleared dst).
  virtual void copy(long long count, const float* src, float* dst) = 0;
  virtual void max_pool_forward(const max_pool_shape& s, const float* x, float* y, int* arg) = 0;
  virtual void max_pool_backward(const max_pool_shape& s, const float* dy, const int* arg,
                                 float* dx) = 0;
  virtual void upsample_add_forward(int n, int c, int h, int w, int th, int tw,
                                    const float* lateral, const float* top, float* out) = 0;
  virtual void upsample_add_backward(int n, int c, int h, int w, int th, int tw, const float* dout,
                                     float* dlateral, float* dtop) = 0;
  /// (n, a*k, h, w) -> rows [row0, row0 + h*w*a) of (n, rows, k), torchvision's view/permute.
  virtual void to_anchor_major(int n, int a, int k, int h, int w, int rows, int row0,
                               const float* x, float* y) = 0;
  /// dx += the inverse permutation of dy.
  virtual void to_anchor_major_backward(int n, int a, int k, int h, int w, int rows, int row0,
                                        const float* dy, float* dx) = 0;
  virtual float focal_loss(int n, int r, int k, const float* logits, const int* cls_target,
                           const focal_options& o, float grad_scale, float* dlogits,
                           float* work) = 0;
  virtual float box_loss(int n, int r, const box_loss_options& o, const float* deltas,
                         const float* targets, const float* anchors, const int* cls_target,
                         float grad_scale, float* ddeltas, float* work) = 0;
  virtual void sgd_step(const sgd_options& o, long long count, const float* grad, float* param,
                        float* momentum_buf) = 0;
  /// Waits until every queued op has finished (timing; the CPU twin runs ops synchronously).
  virtual void synchronize() {}
  /// Sum of squares of count floats (gradient clipping); returns to the host.
  virtual double sum_of_squares(long long count, const float* x) = 0;
  /// Inference: sigmoid > threshold, top k of `count` logits (one level of one image), best first.
  /// Only the winners leave the device.
  virtual std::vector<scored_index> select_candidates(const float* logits, long long count,
                                                      float threshold, int k) = 0;
};

/// torchvision postprocess_detections for one image: logits (r, k) and deltas (r, 4) of that image,
/// anchors (r, 4), rows per level. Scores > threshold, top-k per level, decode, clip to
/// (image_h, image_w), batched NMS, keep detections_per_image.
std::vector<detection> postprocess_detections_cpu(const retinanet_config& config,
                                                  const std::vector<int>& level_rows,
                                                  const float* anchors, const float* logits,
                                                  const float* deltas, int image_h, int image_w);

/// The same with the per-level candidates supplied by `select(level, first_row, rows)` (the
/// device top-k in retinanet::detect); `deltas` and `anchors` are host arrays.
using candidate_selector =
    std::function<std::vector<scored_index>(int level, long long first_row, int rows)>;
std::vector<detection> postprocess_candidates(const retinanet_config& config,
                                              const std::vector<int>& level_rows,
                                              const float* anchors, const float* deltas,
                                              int image_h, int image_w,
                                              const candidate_selector& select);

/// The CPU twin backend (CBLAS GEMMs, the *_math.hpp bodies in loops).
std::unique_ptr<op_backend> make_cpu_backend();
#if defined(DETKIT_CUDA)
/// The CUDA backend (kernels + cuBLAS); defined in retinanet_cuda.cu.
std::unique_ptr<op_backend> make_cuda_backend(gemm_math math = gemm_math::fp32);
/// Page-locked host memory (cudaHostAlloc; nullptr on failure) and its release (cudaFreeHost):
/// the source of detkit-train's pinned batch buffers.
void* pinned_host_allocate(std::size_t bytes);
void pinned_host_release(void* p);
#endif

class retinanet;
/// The arena a model would need, without allocating it (for sizing a GPU run on any machine).
arena_report plan_arena(const retinanet_config& config, batch_shape batch);

/// Whether the backward pass carries gradients through frozen layers to the activations before
/// them (`through`: every activation gets its gradient) or stops where nothing upstream is
/// trainable (`stop`: torchvision's autograd with requires_grad=False — no dX GEMMs for conv1 and
/// layer1 under trainable_backbone_layers=3).
enum class frozen_backward { through, stop };

/// RetinaNet planned for a largest batch shape: every parameter, gradient, momentum buffer,
/// activation, activation gradient and workspace lives in one arena allocated at construction for
/// that shape; a training step allocates nothing on the device. Batches padded to their own size
/// (torchvision's batch_images) run in the same arena after set_batch_shape.
class retinanet {
 public:
  /// `planned`: the largest batch the model will run (n, and h, w each rounded up to 32); it is
  /// also the current shape until set_batch_shape.
  retinanet(const retinanet_config& config, batch_shape planned,
            std::unique_ptr<op_backend> backend);
  ~retinanet();
  retinanet(const retinanet&) = delete;
  retinanet& operator=(const retinanet&) = delete;

  const retinanet_config& config() const { return config_; }
  /// The shape forward() reads now, and the largest one the arena holds.
  const batch_shape& batch() const { return batch_; }
  const batch_shape& planned_batch() const { return planned_; }
  /// Re-plans the tape (activations, anchors, feature sizes) for a batch no larger than the planned
  /// one in n, h and w, in the same arena: nothing is allocated. A no-op for the current shape.
  /// Activations of the previous shape are invalid afterwards. Throws std::invalid_argument for a
  /// shape that is not a multiple of 32 or does not fit.
  void set_batch_shape(batch_shape shape);
  const std::vector<param_info>& params() const { return params_; }
  const std::vector<activation_info>& activations() const { return acts_; }
  const arena_report& arena() const { return report_; }
  /// Total anchors per image and the anchors themselves (r x 4, host).
  int num_anchors() const { return num_anchors_; }
  const std::vector<float>& anchors() const { return anchors_; }
  std::vector<feature_size> level_sizes() const;

  const param_info* find_param(const std::string& name) const;
  const activation_info* find_activation(const std::string& name) const;

  /// torchvision's init: ResNet convs kaiming_normal(fan_out), FPN kaiming_uniform(a=1) bias 0,
  /// head N(0, 0.01) bias 0, cls bias -log((1-p)/p); frozen BN identity. Seeded std::mt19937, so
  /// values differ from torch's generator (load weights to reproduce torchvision exactly).
  void init_parameters(unsigned seed);
  /// Host copies of one parameter / all parameters (state_dict order).
  void set_param(const std::string& name, const float* data, std::size_t count);
  std::vector<float> get_param(const std::string& name) const;
  std::vector<float> get_param_grad(const std::string& name) const;
  std::vector<float> get_activation(const std::string& name) const;
  std::vector<float> get_activation_grad(const std::string& name) const;
  /// The optimiser state (momentum buffers), for checkpoints.
  std::vector<float> get_momentum() const;
  void set_momentum(const std::vector<float>& m);
  /// Freeze (no SGD update, no gradient) every trainable parameter whose name starts with prefix.
  void freeze_prefix(const std::string& prefix);
  void set_frozen_backward(frozen_backward mode) { frozen_backward_ = mode; }

  /// images: (n, 3, h, w) normalised, host. Runs the forward pass.
  void forward(const float* images);
  /// Host values that replace an activation right after the op computing it (nullptr: keep ours).
  using activation_override = std::function<const float*(const activation_info&)>;
  /// Forward with "teacher forcing": every activation the override supplies is replaced before the
  /// next op reads it, so each op (and the backward's ReLU masks and max-pool winners) sees the
  /// reference's inputs. Tests use it to check each op's backward in isolation: a value within
  /// float noise of a ReLU kink otherwise flips a mask and moves a whole gradient element.
  void forward(const float* images, const activation_override& override);
  /// Matches anchors to targets (torchvision Matcher), one entry per image: r matched indices.
  std::vector<std::vector<int>> match(const std::vector<image_targets>& targets) const;
  /// Losses of the last forward with gradients of the head outputs; then the backward pass fills
  /// every parameter and activation gradient. matched: from match() (or a reference).
  loss_values loss_and_backward(const std::vector<image_targets>& targets,
                                const std::vector<std::vector<int>>& matched);
  /// L2 norm over the gradients of every trainable, unfrozen parameter (clip_grad_norm_'s total).
  double gradient_norm() const;
  /// One SGD update of every trainable parameter from the current gradients (o.grad_scale scales
  /// them first: gradient clipping).
  void sgd_step(const sgd_options& o);
  /// forward + match + loss_and_backward + sgd_step. Returns the losses before the update.
  loss_values train_step(const float* images, const std::vector<image_targets>& targets,
                         const sgd_options& o);
  /// torchvision postprocess_detections on the last forward's head outputs for one image of size
  /// (image_h, image_w) (boxes are clipped to it; no rescale).
  std::vector<detection> detect(int image_index, int image_h, int image_w) const;
  /// Waits for the device (timings that must not leak into the next phase).
  void synchronize() { be_->synchronize(); }
  /// Rows (anchors) per pyramid level, P3 first.
  std::vector<int> level_rows() const;

 private:
  struct op;
  static void check_batch_shape(batch_shape b);
  void build_tape();
  void allocate_arena();
  std::size_t loss_work_floats() const;
  int add_activation(const std::string& name, int n, int c, int h, int w);
  int add_param(const std::string& name, std::vector<int> shape, param_role role);
  int conv(const std::string& module, int x, int c_out, int k, int stride, int pad, conv_bias bias,
           int call = 0);
  int frozen_bn(const std::string& module, int x);
  int relu(const std::string& name, int x);
  int block(const std::string& prefix, int x, int planes, int stride);
  float* act_ptr(int a) const;
  float* grad_ptr(int a) const;
  float* param_ptr(int p) const;
  float* param_grad_ptr(int p) const;
  /// Whether SGD updates parameter i (trainable and not frozen): what sgd_step and gradient_norm
  /// walk over.
  /// What one backward pass does, from the tape and the frozen set: which activations need a
  /// gradient, which op stores first into each gradient (slots: 0 dx, 1 the conv's parameters,
  /// 2 the second input), and the [begin, end) float ranges of activation gradients to clear.
  struct backward_plan {
    std::vector<char> needs_grad;
    std::vector<std::array<char, 3>> first_writer;
    std::vector<std::pair<std::size_t, std::size_t>> zero_runs;
  };
  backward_plan plan_backward() const;
  bool updated(std::size_t i) const {
    return params_[i].role == param_role::trainable && frozen_[i] == 0;
  }

  retinanet_config config_;
  batch_shape batch_, planned_;
  std::unique_ptr<op_backend> be_;
  std::vector<param_info> params_;
  std::vector<activation_info> acts_;
  std::vector<op> ops_;
  std::vector<char> frozen_;  // per parameter: excluded from gradients and SGD
  frozen_backward frozen_backward_ = frozen_backward::through;
  std::vector<float> anchors_;
  int num_anchors_ = 0;
  int input_ = -1, logits_ = -1, deltas_ = -1;
  std::size_t param_floats_ = 0, act_floats_ = 0, col_floats_ = 0, bn_floats_ = 0, int_slots_ = 0;
  arena_report report_;
  struct capacity {  // what the planned shape carved out (floats, ints, anchors)
    std::size_t act_floats = 0, col_floats = 0, int_slots = 0, loss_work = 0, anchors = 0;
  } capacity_;
  char* arena_ = nullptr;
  std::size_t off_params_ = 0, off_grads_ = 0, off_momentum_ = 0, off_bn_ = 0, off_acts_ = 0,
              off_act_grads_ = 0, off_col_ = 0, off_ints_ = 0, off_loss_ = 0, off_cls_target_ = 0,
              off_target_deltas_ = 0, off_anchors_ = 0;
};

}  // namespace cuda
DETKIT_END_NAMESPACE

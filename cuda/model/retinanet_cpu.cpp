// cuda/model/retinanet_cpu.cpp — the RetinaNet tape (plan, forward, loss, backward, SGD, inference)
// and the CPU twin backend. The model code is device-neutral: it only talks to op_backend.
// Mirrors tv/models/detection/retinanet.py, tv/models/resnet.py, tv/ops/feature_pyramid_network.py.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "common/debug_grad_scale.hpp"
#include "model/permute_math.hpp"
#include "ops/box_coder/box_coder.hpp"
#include "ops/box_loss/box_loss.hpp"
#include "ops/frozen_bn/frozen_bn.hpp"
#include "ops/nms/nms.hpp"
#include "ops/relu/relu.hpp"
#include "ops/topk/topk.hpp"
#include "ops/upsample_add/upsample_add.hpp"
#include "retinanet.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

// ---- configurations ------------------------------------------------------------------------------
retinanet_config retinanet_config::resnet18(int num_classes) {
  retinanet_config c;
  c.block = block_kind::basic;
  c.layers = {2, 2, 2, 2};
  c.num_classes = num_classes;
  return c;
}
retinanet_config retinanet_config::resnet34(int num_classes) {
  retinanet_config c = resnet18(num_classes);
  c.layers = {3, 4, 6, 3};
  return c;
}
retinanet_config retinanet_config::resnet50(int num_classes) {
  retinanet_config c;
  c.num_classes = num_classes;
  return c;
}

// ---- the tape --------------------------------------------------------------------------------------
enum class op_kind { conv, bn, relu, add, max_pool, upsample_add, to_anchor_major };

struct retinanet::op {
  op_kind kind;
  int x = -1, x2 = -1, y = -1;  // activations
  int w = -1, b = -1;           // parameters (conv weight/bias; bn: w = first of its 4 buffers)
  std::size_t bn_off = 0;       // floats into the folded-BN block: scale[c], then shift[c]
  std::size_t int_off = 0;      // ints into the int block (max-pool winners)
  conv2d_shape conv{};
  max_pool_shape pool{};
  int a = 0, k = 0, rows = 0, row0 = 0;  // to_anchor_major
};

namespace {
constexpr std::size_t kAlign = 256;
std::size_t align_bytes(std::size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }
}  // namespace

retinanet::retinanet(const retinanet_config& config, batch_shape batch,
                     std::unique_ptr<op_backend> backend)
    : config_(config), batch_(batch), planned_(batch), be_(std::move(backend)) {
  check_batch_shape(batch_);
  build_tape();
  allocate_arena();
}

namespace {
std::string shape_text(batch_shape b) {
  return std::to_string(b.n) + " x " + std::to_string(b.h) + " x " + std::to_string(b.w);
}
}  // namespace

void retinanet::check_batch_shape(batch_shape b) {
  // torchvision pads batches to multiples of 32 (size_divisible); P6/P7 then round up and anchor
  // strides become padded size // feature size (800 -> P7 7x7, stride 114), as in torchvision.
  if (b.n <= 0 || b.h <= 0 || b.w <= 0 || b.h % 32 != 0 || b.w % 32 != 0)
    throw std::invalid_argument(
        "retinanet: the padded batch must have positive n and h, w "
        "multiples of 32, got " +
        shape_text(b));
}

void retinanet::set_batch_shape(batch_shape b) {
  check_batch_shape(b);
  if (b.n == batch_.n && b.h == batch_.h && b.w == batch_.w) return;
  if (b.n > planned_.n || b.h > planned_.h || b.w > planned_.w)
    throw std::invalid_argument("retinanet: batch " + shape_text(b) +
                                " does not fit the arena planned for " + shape_text(planned_));
  const batch_shape before = batch_;
  batch_ = b;
  build_tape();
  // Every size in the tape grows with n, h and w, so a batch inside the planned one fits each part
  // of the arena; checked anyway, since an overrun here would be silent memory corruption.
  if (act_floats_ > capacity_.act_floats || col_floats_ > capacity_.col_floats ||
      int_slots_ > capacity_.int_slots || loss_work_floats() > capacity_.loss_work ||
      static_cast<std::size_t>(num_anchors_) > capacity_.anchors) {
    batch_ = before;
    build_tape();
    throw std::logic_error("retinanet: batch " + shape_text(b) +
                           " needs more of the arena than the planned " + shape_text(planned_));
  }
  be_->upload(arena_ + off_anchors_, anchors_.data(), anchors_.size() * sizeof(float));
}

std::size_t retinanet::loss_work_floats() const {
  return std::max(
      static_cast<std::size_t>(focal_loss_work_floats(batch_.n, num_anchors_, config_.num_classes)),
      static_cast<std::size_t>(box_loss_work_floats(batch_.n, num_anchors_)));
}

retinanet::~retinanet() = default;

int retinanet::add_activation(const std::string& name, int n, int c, int h, int w) {
  activation_info a;
  a.name = name;
  a.n = n;
  a.c = c;
  a.h = h;
  a.w = w;
  a.offset = act_floats_;
  a.grad_offset = act_floats_;
  act_floats_ += (a.count() + 63) / 64 * 64;
  acts_.push_back(a);
  return static_cast<int>(acts_.size()) - 1;
}

int retinanet::add_param(const std::string& name, std::vector<int> shape, param_role role) {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return static_cast<int>(i);
  param_info p;
  p.name = name;
  p.count = 1;
  for (int d : shape) p.count *= static_cast<std::size_t>(d);
  p.shape = std::move(shape);
  p.offset = param_floats_;
  p.role = role;
  param_floats_ += (p.count + 63) / 64 * 64;
  params_.push_back(p);
  return static_cast<int>(params_.size()) - 1;
}

int retinanet::conv(const std::string& module, int x, int c_out, int k, int stride, int pad,
                    conv_bias bias, int call) {
  const activation_info in = acts_[static_cast<std::size_t>(x)];
  op o{};
  o.kind = op_kind::conv;
  o.conv = conv2d_shape{in.n, in.c, in.h, in.w, c_out, k, k, stride, pad};
  o.x = x;
  o.w = add_param(module + ".weight", {c_out, in.c, k, k}, param_role::trainable);
  if (bias == conv_bias::yes) o.b = add_param(module + ".bias", {c_out}, param_role::trainable);
  o.y = add_activation(module + "#" + std::to_string(call), in.n, c_out, o.conv.out_h(),
                       o.conv.out_w());
  col_floats_ = std::max(col_floats_, conv2d_workspace_floats(o.conv));
  ops_.push_back(o);
  return o.y;
}

int retinanet::frozen_bn(const std::string& module, int x) {
  const activation_info in = acts_[static_cast<std::size_t>(x)];
  op o{};
  o.kind = op_kind::bn;
  o.x = x;
  o.w = add_param(module + ".weight", {in.c}, param_role::frozen_buffer);
  add_param(module + ".bias", {in.c}, param_role::frozen_buffer);
  add_param(module + ".running_mean", {in.c}, param_role::frozen_buffer);
  add_param(module + ".running_var", {in.c}, param_role::frozen_buffer);
  o.bn_off = bn_floats_;
  bn_floats_ += 2 * static_cast<std::size_t>(in.c);
  o.y = add_activation(module + "#0", in.n, in.c, in.h, in.w);
  ops_.push_back(o);
  return o.y;
}

int retinanet::relu(const std::string& name, int x) {
  const activation_info in = acts_[static_cast<std::size_t>(x)];
  op o{};
  o.kind = op_kind::relu;
  o.x = x;
  o.y = add_activation(name, in.n, in.c, in.h, in.w);
  ops_.push_back(o);
  return o.y;
}

// torchvision BasicBlock / Bottleneck (v1.5: the stride sits on the 3x3 conv).
int retinanet::block(const std::string& p, int x, int planes, int stride) {
  const int in_c = acts_[static_cast<std::size_t>(x)].c;
  int out = -1, out_c = 0;
  if (config_.block == block_kind::basic) {
    out_c = planes;
    out = conv(p + ".conv1", x, planes, 3, stride, 1, conv_bias::no);
    out = relu(p + ".relu#0", frozen_bn(p + ".bn1", out));
    out = conv(p + ".conv2", out, planes, 3, 1, 1, conv_bias::no);
    out = frozen_bn(p + ".bn2", out);
  } else {
    out_c = planes * 4;
    out = conv(p + ".conv1", x, planes, 1, 1, 0, conv_bias::no);
    out = relu(p + ".relu#0", frozen_bn(p + ".bn1", out));
    out = conv(p + ".conv2", out, planes, 3, stride, 1, conv_bias::no);
    out = relu(p + ".relu#1", frozen_bn(p + ".bn2", out));
    out = conv(p + ".conv3", out, out_c, 1, 1, 0, conv_bias::no);
    out = frozen_bn(p + ".bn3", out);
  }
  int identity = x;
  if (stride != 1 || in_c != out_c)
    identity = frozen_bn(p + ".downsample.1",
                         conv(p + ".downsample.0", x, out_c, 1, stride, 0, conv_bias::no));
  const activation_info& a = acts_[static_cast<std::size_t>(out)];
  op add{};
  add.kind = op_kind::add;
  add.x = out;
  add.x2 = identity;
  add.y = add_activation("~" + p + ".add", a.n, a.c, a.h, a.w);
  ops_.push_back(add);
  return relu(p + (config_.block == block_kind::basic ? ".relu#1" : ".relu#2"), add.y);
}

void retinanet::build_tape() {
  // Parameters persist (add_param finds them by name); the activations, ops and anchors follow the
  // current batch shape.
  acts_.clear();
  ops_.clear();
  act_floats_ = col_floats_ = bn_floats_ = int_slots_ = 0;
  const int n = batch_.n, f = config_.fpn_channels, k = config_.num_classes;
  const int a_per_loc = config_.anchors.anchors_per_location();
  const int expansion = config_.block == block_kind::basic ? 1 : 4;
  if (config_.anchors.sizes.size() != 5)
    throw std::invalid_argument("retinanet: anchor sizes must list 5 levels (P3-P7)");
  input_ = add_activation("input.images", n, 3, batch_.h, batch_.w);

  // Body: stem, then layer1..4 (C2..C5).
  const std::string body = "backbone.body.";
  int x = conv(body + "conv1", input_, 64, 7, 2, 3, conv_bias::no);
  x = relu(body + "relu#0", frozen_bn(body + "bn1", x));
  {
    const activation_info in = acts_[static_cast<std::size_t>(x)];
    op o{};
    o.kind = op_kind::max_pool;
    o.pool = max_pool_shape{in.n, in.c, in.h, in.w, 3, 2, 1};
    o.x = x;
    o.y = add_activation(body + "maxpool#0", in.n, in.c, o.pool.out_h(), o.pool.out_w());
    o.int_off = int_slots_;
    int_slots_ += acts_[static_cast<std::size_t>(o.y)].count();
    ops_.push_back(o);
    x = o.y;
  }
  int c_out[4];
  for (int l = 0; l < 4; ++l) {
    for (int b = 0; b < config_.layers[static_cast<std::size_t>(l)]; ++b)
      x = block(body + "layer" + std::to_string(l + 1) + "." + std::to_string(b), x, 64 << l,
                b == 0 && l > 0 ? 2 : 1);
    c_out[l] = x;
  }
  (void)expansion;

  // FPN parameters first, in torchvision's state_dict order.
  const std::string fpn = "backbone.fpn.";
  for (int i = 0; i < 3; ++i) {
    const int in_c = acts_[static_cast<std::size_t>(c_out[i + 1])].c;
    add_param(fpn + "inner_blocks." + std::to_string(i) + ".0.weight", {f, in_c, 1, 1},
              param_role::trainable);
    add_param(fpn + "inner_blocks." + std::to_string(i) + ".0.bias", {f}, param_role::trainable);
  }
  for (int i = 0; i < 3; ++i) {
    add_param(fpn + "layer_blocks." + std::to_string(i) + ".0.weight", {f, f, 3, 3},
              param_role::trainable);
    add_param(fpn + "layer_blocks." + std::to_string(i) + ".0.bias", {f}, param_role::trainable);
  }
  // FeaturePyramidNetwork.forward: top-down from C5, nearest upsample to the lateral's size.
  int inner = conv(fpn + "inner_blocks.2.0", c_out[3], f, 1, 1, 0, conv_bias::yes);
  int p[5];
  p[2] = conv(fpn + "layer_blocks.2.0", inner, f, 3, 1, 1, conv_bias::yes);
  for (int i = 1; i >= 0; --i) {
    const int lateral = conv(fpn + "inner_blocks." + std::to_string(i) + ".0", c_out[i + 1], f, 1,
                             1, 0, conv_bias::yes);
    const activation_info lat = acts_[static_cast<std::size_t>(lateral)];
    op o{};
    o.kind = op_kind::upsample_add;
    o.x = lateral;
    o.x2 = inner;
    o.y = add_activation("~fpn.merge." + std::to_string(i), lat.n, lat.c, lat.h, lat.w);
    ops_.push_back(o);
    inner = o.y;
    p[i] =
        conv(fpn + "layer_blocks." + std::to_string(i) + ".0", inner, f, 3, 1, 1, conv_bias::yes);
  }
  // LastLevelP6P7: P6 = conv(P5 or C5), P7 = conv(relu(P6)).
  const int p6_in = config_.p6 == p6_source::p5 ? p[2] : c_out[3];
  p[3] = conv(fpn + "extra_blocks.p6", p6_in, f, 3, 2, 1, conv_bias::yes);
  p[4] = conv(fpn + "extra_blocks.p7", relu("~fpn.p6_relu", p[3]), f, 3, 2, 1, conv_bias::yes);

  // Anchors (host) and the head outputs (n, r, k) / (n, r, 4).
  std::vector<feature_size> sizes;
  for (int i = 0; i < 5; ++i)
    sizes.push_back(
        {acts_[static_cast<std::size_t>(p[i])].h, acts_[static_cast<std::size_t>(p[i])].w});
  anchors_ = generate_anchors_cpu(config_.anchors, batch_.h, batch_.w, sizes);
  num_anchors_ = static_cast<int>(anchors_.size() / 4);
  logits_ = add_activation("head_outputs.cls_logits", n, num_anchors_, k, 1);
  deltas_ = add_activation("head_outputs.bbox_regression", n, num_anchors_, 4, 1);

  // Head: 4 x (conv3x3 + ReLU) then the predictor, shared over levels; classification first.
  const char* heads[2] = {"head.classification_head.", "head.regression_head."};
  for (int h = 0; h < 2; ++h) {
    const std::string hp = heads[h];
    const int out_c = h == 0 ? a_per_loc * k : a_per_loc * 4;
    const std::string pred = hp + (h == 0 ? "cls_logits" : "bbox_reg");
    int row0 = 0;
    for (int l = 0; l < 5; ++l) {
      int t = p[l];
      for (int i = 0; i < 4; ++i) {
        const std::string m = hp + "conv." + std::to_string(i);
        t = conv(m + ".0", t, f, 3, 1, 1, conv_bias::yes, l);
        t = relu(m + ".1#" + std::to_string(l), t);
      }
      const int out = conv(pred, t, out_c, 3, 1, 1, conv_bias::yes, l);
      const activation_info o_info = acts_[static_cast<std::size_t>(out)];
      op o{};
      o.kind = op_kind::to_anchor_major;
      o.x = out;
      o.y = h == 0 ? logits_ : deltas_;
      o.a = a_per_loc;
      o.k = h == 0 ? k : 4;
      o.rows = num_anchors_;
      o.row0 = row0;
      ops_.push_back(o);
      row0 += o_info.h * o_info.w * a_per_loc;
    }
  }
}

void retinanet::allocate_arena() {
  // The arena: one allocation, carved in fixed order, sized for the planned batch shape.
  const std::size_t r = static_cast<std::size_t>(num_anchors_),
                    nn = static_cast<std::size_t>(batch_.n);
  const std::size_t loss_work = loss_work_floats();
  capacity_ = {act_floats_, col_floats_, int_slots_, loss_work, r};
  report_.params = align_bytes(param_floats_ * sizeof(float));
  report_.grads = report_.params;
  report_.momentum = report_.params;
  report_.folded_bn = align_bytes(bn_floats_ * sizeof(float));
  report_.activations = align_bytes(act_floats_ * sizeof(float));
  report_.activation_grads = report_.activations;
  report_.workspace =
      align_bytes(col_floats_ * sizeof(float)) + align_bytes(int_slots_ * sizeof(int));
  report_.loss = align_bytes(loss_work * sizeof(float)) + align_bytes(nn * r * sizeof(int)) +
                 align_bytes(nn * r * 4 * sizeof(float)) + align_bytes(r * 4 * sizeof(float));
  std::size_t at = 0;
  auto carve = [&at](std::size_t bytes) {
    const std::size_t here = at;
    at += align_bytes(bytes);
    return here;
  };
  off_params_ = carve(param_floats_ * sizeof(float));
  off_grads_ = carve(param_floats_ * sizeof(float));
  off_momentum_ = carve(param_floats_ * sizeof(float));
  off_bn_ = carve(bn_floats_ * sizeof(float));
  off_acts_ = carve(act_floats_ * sizeof(float));
  off_act_grads_ = carve(act_floats_ * sizeof(float));
  off_col_ = carve(col_floats_ * sizeof(float));
  off_ints_ = carve(int_slots_ * sizeof(int));
  off_loss_ = carve(loss_work * sizeof(float));
  off_cls_target_ = carve(nn * r * sizeof(int));
  off_target_deltas_ = carve(nn * r * 4 * sizeof(float));
  off_anchors_ = carve(r * 4 * sizeof(float));
  report_.total = at;
  for (const param_info& info : params_)
    if (info.role == param_role::trainable) report_.trainable_parameters += info.count;
  arena_ = static_cast<char*>(be_->allocate_arena(at));
  be_->zero(arena_, at);
  if (arena_ != nullptr)  // the sizing backend plans only
    be_->upload(arena_ + off_anchors_, anchors_.data(), anchors_.size() * sizeof(float));
  frozen_.assign(params_.size(), 0);
}

// ---- accessors -----------------------------------------------------------------------------------
float* retinanet::act_ptr(int a) const {
  return reinterpret_cast<float*>(arena_ + off_acts_) + acts_[static_cast<std::size_t>(a)].offset;
}
float* retinanet::grad_ptr(int a) const {
  return reinterpret_cast<float*>(arena_ + off_act_grads_) +
         acts_[static_cast<std::size_t>(a)].grad_offset;
}
float* retinanet::param_ptr(int p) const {
  return reinterpret_cast<float*>(arena_ + off_params_) +
         params_[static_cast<std::size_t>(p)].offset;
}
float* retinanet::param_grad_ptr(int p) const {
  return reinterpret_cast<float*>(arena_ + off_grads_) +
         params_[static_cast<std::size_t>(p)].offset;
}

std::vector<feature_size> retinanet::level_sizes() const {
  std::vector<feature_size> out;
  for (const op& o : ops_)
    if (o.kind == op_kind::to_anchor_major && o.y == logits_)
      out.push_back(
          {acts_[static_cast<std::size_t>(o.x)].h, acts_[static_cast<std::size_t>(o.x)].w});
  return out;
}

std::vector<int> retinanet::level_rows() const {
  std::vector<int> out;
  for (const feature_size& s : level_sizes())
    out.push_back(s.h * s.w * config_.anchors.anchors_per_location());
  return out;
}

const param_info* retinanet::find_param(const std::string& name) const {
  for (const param_info& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}
const activation_info* retinanet::find_activation(const std::string& name) const {
  for (const activation_info& a : acts_)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {
template <typename T>
int index_of(const std::vector<T>& v, const T* item) {
  return static_cast<int>(item - v.data());
}
}  // namespace

void retinanet::set_param(const std::string& name, const float* data, std::size_t count) {
  const param_info* p = find_param(name);
  if (p == nullptr) throw std::invalid_argument("retinanet: no parameter named " + name);
  if (p->count != count)
    throw std::invalid_argument("retinanet: parameter " + name + " has " +
                                std::to_string(p->count) + " values, got " + std::to_string(count));
  be_->upload(param_ptr(index_of(params_, p)), data, count * sizeof(float));
}

std::vector<float> retinanet::get_param(const std::string& name) const {
  const param_info* p = find_param(name);
  if (p == nullptr) throw std::invalid_argument("retinanet: no parameter named " + name);
  std::vector<float> out(p->count);
  be_->download(out.data(), param_ptr(index_of(params_, p)), p->count * sizeof(float));
  return out;
}

std::vector<float> retinanet::get_param_grad(const std::string& name) const {
  const param_info* p = find_param(name);
  if (p == nullptr) throw std::invalid_argument("retinanet: no parameter named " + name);
  std::vector<float> out(p->count);
  be_->download(out.data(), param_grad_ptr(index_of(params_, p)), p->count * sizeof(float));
  return out;
}

std::vector<float> retinanet::get_activation(const std::string& name) const {
  const activation_info* a = find_activation(name);
  if (a == nullptr) throw std::invalid_argument("retinanet: no activation named " + name);
  std::vector<float> out(a->count());
  be_->download(out.data(), act_ptr(index_of(acts_, a)), out.size() * sizeof(float));
  return out;
}

std::vector<float> retinanet::get_activation_grad(const std::string& name) const {
  const activation_info* a = find_activation(name);
  if (a == nullptr) throw std::invalid_argument("retinanet: no activation named " + name);
  std::vector<float> out(a->count());
  be_->download(out.data(), grad_ptr(index_of(acts_, a)), out.size() * sizeof(float));
  return out;
}

std::vector<float> retinanet::get_momentum() const {
  std::vector<float> out(param_floats_);
  be_->download(out.data(), arena_ + off_momentum_, out.size() * sizeof(float));
  return out;
}

void retinanet::set_momentum(const std::vector<float>& m) {
  if (m.size() != param_floats_)
    throw std::invalid_argument("retinanet: momentum state of the wrong size");
  be_->upload(arena_ + off_momentum_, m.data(), m.size() * sizeof(float));
}

void retinanet::freeze_prefix(const std::string& prefix) {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name.compare(0, prefix.size(), prefix) == 0) frozen_[i] = 1;
}

// ---- init ----------------------------------------------------------------------------------------
void retinanet::init_parameters(unsigned seed) {
  std::mt19937 gen(seed);
  for (const param_info& p : params_) {
    std::vector<float> v(p.count, 0.0f);
    const std::string& nm = p.name;
    auto ends_with = [&nm](const char* s) {
      const std::size_t l = std::strlen(s);
      return nm.size() >= l && nm.compare(nm.size() - l, l, s) == 0;
    };
    if (p.role == param_role::frozen_buffer) {
      // Identity affine: weight 1, bias 0, mean 0, var 1.
      if (ends_with(".weight") || ends_with(".running_var")) std::fill(v.begin(), v.end(), 1.0f);
    } else if (ends_with(".bias")) {
      if (nm == "head.classification_head.cls_logits.bias") {
        const float p0 = config_.prior_probability;
        std::fill(v.begin(), v.end(), -std::log((1.0f - p0) / p0));
      }
    } else if (nm.compare(0, 5, "head.") == 0) {
      std::normal_distribution<float> d(0.0f, 0.01f);
      for (float& x : v) x = d(gen);
    } else if (nm.compare(0, 13, "backbone.fpn.") == 0) {
      // kaiming_uniform_(a=1): bound = sqrt(6 / ((1 + a^2) * fan_in)) = sqrt(3 / fan_in).
      const float fan_in = static_cast<float>(p.count / static_cast<std::size_t>(p.shape[0]));
      const float bound = std::sqrt(3.0f / fan_in);
      std::uniform_real_distribution<float> d(-bound, bound);
      for (float& x : v) x = d(gen);
    } else {
      // ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu").
      const float fan_out = static_cast<float>(p.count / static_cast<std::size_t>(p.shape[1]));
      std::normal_distribution<float> d(0.0f, std::sqrt(2.0f / fan_out));
      for (float& x : v) x = d(gen);
    }
    be_->upload(param_ptr(index_of(params_, &p)), v.data(), v.size() * sizeof(float));
  }
}

// ---- forward / backward --------------------------------------------------------------------------
void retinanet::forward(const float* images) { forward(images, activation_override{}); }

void retinanet::forward(const float* images, const activation_override& override) {
  be_->upload(act_ptr(input_), images,
              acts_[static_cast<std::size_t>(input_)].count() * sizeof(float));
  float* bn = reinterpret_cast<float*>(arena_ + off_bn_);
  float* col = reinterpret_cast<float*>(arena_ + off_col_);
  int* ints = reinterpret_cast<int*>(arena_ + off_ints_);
  for (const op& o : ops_) {
    const activation_info& y = acts_[static_cast<std::size_t>(o.y)];
    switch (o.kind) {
      case op_kind::conv:
        be_->conv_forward(o.conv, act_ptr(o.x), param_ptr(o.w), o.b >= 0 ? param_ptr(o.b) : nullptr,
                          act_ptr(o.y), col);
        break;
      case op_kind::bn: {
        float* scale = bn + o.bn_off;
        float* shift = scale + y.c;
        // Buffers were added as weight, bias, running_mean, running_var: consecutive indices.
        be_->bn_fold(y.c, param_ptr(o.w), param_ptr(o.w + 1), param_ptr(o.w + 2),
                     param_ptr(o.w + 3), config_.bn_eps, scale, shift);
        be_->bn_forward(y.n, y.c, y.h * y.w, act_ptr(o.x), scale, shift, act_ptr(o.y));
        break;
      }
      case op_kind::relu:
        be_->relu_forward(static_cast<long long>(y.count()), act_ptr(o.x), act_ptr(o.y));
        break;
      case op_kind::add:
        be_->add_forward(static_cast<long long>(y.count()), act_ptr(o.x), act_ptr(o.x2),
                         act_ptr(o.y));
        break;
      case op_kind::max_pool:
        be_->max_pool_forward(o.pool, act_ptr(o.x), act_ptr(o.y), ints + o.int_off);
        break;
      case op_kind::upsample_add: {
        const activation_info& top = acts_[static_cast<std::size_t>(o.x2)];
        be_->upsample_add_forward(y.n, y.c, y.h, y.w, top.h, top.w, act_ptr(o.x), act_ptr(o.x2),
                                  act_ptr(o.y));
        break;
      }
      case op_kind::to_anchor_major: {
        const activation_info& x = acts_[static_cast<std::size_t>(o.x)];
        be_->to_anchor_major(x.n, o.a, o.k, x.h, x.w, o.rows, o.row0, act_ptr(o.x), act_ptr(o.y));
        break;
      }
    }
    // The head outputs are written level by level: override them once the last level is in.
    if (override && (o.kind != op_kind::to_anchor_major ||
                     o.row0 + static_cast<int>(acts_[static_cast<std::size_t>(o.x)].h *
                                               acts_[static_cast<std::size_t>(o.x)].w) *
                                  o.a ==
                         o.rows))
      if (const float* v = override(y)) be_->upload(act_ptr(o.y), v, y.count() * sizeof(float));
  }
}

std::vector<std::vector<int>> retinanet::match(const std::vector<image_targets>& targets) const {
  if (static_cast<int>(targets.size()) != batch_.n)
    throw std::invalid_argument("retinanet::match: one target set per image is required");
  std::vector<std::vector<int>> out;
  std::vector<float> iou;
  for (const image_targets& t : targets) {
    const int g = static_cast<int>(t.labels.size());
    if (t.boxes.size() != 4 * t.labels.size())
      throw std::invalid_argument("retinanet::match: 4 box coordinates per label are required");
    iou.resize(static_cast<std::size_t>(g) * static_cast<std::size_t>(num_anchors_));
    std::vector<int> m(static_cast<std::size_t>(num_anchors_));
    match_anchors_cpu(config_.matcher, g, num_anchors_, t.boxes.data(), anchors_.data(), m.data(),
                      iou.data());
    out.push_back(std::move(m));
  }
  return out;
}

loss_values retinanet::loss_and_backward(const std::vector<image_targets>& targets,
                                         const std::vector<std::vector<int>>& matched) {
  const int n = batch_.n, r = num_anchors_, k = config_.num_classes;
  if (static_cast<int>(targets.size()) != n || static_cast<int>(matched.size()) != n)
    throw std::invalid_argument("retinanet: one target set and one match list per image");
  // Host side (cheap, r per image): per-anchor class targets and encoded box targets.
  std::vector<int> cls_target(static_cast<std::size_t>(n) * static_cast<std::size_t>(r));
  std::vector<float> target_deltas(cls_target.size() * 4, 0.0f);
  for (int i = 0; i < n; ++i) {
    const image_targets& t = targets[static_cast<std::size_t>(i)];
    const std::vector<int>& m = matched[static_cast<std::size_t>(i)];
    if (static_cast<int>(m.size()) != r)
      throw std::invalid_argument("retinanet: a match list must have one entry per anchor");
    for (int a = 0; a < r; ++a) {
      const std::size_t at =
          static_cast<std::size_t>(i) * static_cast<std::size_t>(r) + static_cast<std::size_t>(a);
      const int g = m[static_cast<std::size_t>(a)];
      if (g >= static_cast<int>(t.labels.size()))
        throw std::invalid_argument("retinanet: match index out of range");
      if (g >= 0) {
        const int label = t.labels[static_cast<std::size_t>(g)];
        if (label < 0 || label >= k)
          throw std::invalid_argument("retinanet: label " + std::to_string(label) +
                                      " outside [0, num_classes)");
        cls_target[at] = label;
        const float* gt = &t.boxes[4 * static_cast<std::size_t>(g)];
        // GIoU compares decoded boxes with the ground truth itself; the others encoded targets.
        if (config_.box_loss.kind == box_loss_kind::giou)
          std::copy(gt, gt + 4, &target_deltas[4 * at]);
        else
          box_encode(gt, &anchors_[4 * static_cast<std::size_t>(a)], &target_deltas[4 * at]);
      } else {
        cls_target[at] = g == -2 ? anchor_ignored : anchor_background;
      }
    }
  }
  int* d_cls_target = reinterpret_cast<int*>(arena_ + off_cls_target_);
  float* d_target_deltas = reinterpret_cast<float*>(arena_ + off_target_deltas_);
  be_->upload(d_cls_target, cls_target.data(), cls_target.size() * sizeof(int));
  be_->upload(d_target_deltas, target_deltas.data(), target_deltas.size() * sizeof(float));
  const backward_plan plan = plan_backward();
  // Only gradients whose first writer adds (+=) start from zero; the others are written over.
  for (const auto& run : plan.zero_runs)
    be_->zero(reinterpret_cast<float*>(arena_ + off_act_grads_) + run.first,
              (run.second - run.first) * sizeof(float));

  float* work = reinterpret_cast<float*>(arena_ + off_loss_);
  loss_values lv;
  lv.classification = be_->focal_loss(n, r, k, act_ptr(logits_), d_cls_target, config_.focal, 1.0f,
                                      grad_ptr(logits_), work);
  lv.box_regression = be_->box_loss(n, r, config_.box_loss, act_ptr(deltas_), d_target_deltas,
                                    reinterpret_cast<const float*>(arena_ + off_anchors_),
                                    d_cls_target, 1.0f, grad_ptr(deltas_), work);

  const float* bn = reinterpret_cast<const float*>(arena_ + off_bn_);
  float* col = reinterpret_cast<float*>(arena_ + off_col_);
  const int* ints = reinterpret_cast<const int*>(arena_ + off_ints_);
  for (std::size_t i = ops_.size(); i-- > 0;) {
    const op& o = ops_[i];
    if (!plan.needs_grad[static_cast<std::size_t>(o.y)]) continue;  // nothing trainable upstream
    const activation_info& y = acts_[static_cast<std::size_t>(o.y)];
    float* dx = plan.needs_grad[static_cast<std::size_t>(o.x)] ? grad_ptr(o.x) : nullptr;
    const auto write = [&](int slot) {
      return plan.first_writer[static_cast<std::size_t>(i)][static_cast<std::size_t>(slot)] != 0
                 ? grad_write::overwrite
                 : grad_write::accumulate;
    };
    switch (o.kind) {
      case op_kind::conv: {
        // Slot 0: dx; slot 1: the parameters (the head's convs run once per level).
        be_->conv_backward(
            o.conv, act_ptr(o.x), param_ptr(o.w), grad_ptr(o.y), dx,
            updated(static_cast<std::size_t>(o.w)) ? param_grad_ptr(o.w) : nullptr,
            o.b >= 0 && updated(static_cast<std::size_t>(o.b)) ? param_grad_ptr(o.b) : nullptr, col,
            write(0), write(1));
        break;
      }
      case op_kind::bn:
        be_->bn_backward(y.n, y.c, y.h * y.w, grad_ptr(o.y), bn + o.bn_off, dx);
        break;
      case op_kind::relu:
        be_->relu_backward(static_cast<long long>(y.count()), act_ptr(o.y), grad_ptr(o.y), dx);
        break;
      case op_kind::add: {
        float* dx2 = plan.needs_grad[static_cast<std::size_t>(o.x2)] ? grad_ptr(o.x2) : nullptr;
        const long long count = static_cast<long long>(y.count());
        if (write(0) == grad_write::overwrite)
          be_->copy(count, grad_ptr(o.y), dx);
        else
          be_->accumulate(count, grad_ptr(o.y), dx);
        if (write(2) == grad_write::overwrite)
          be_->copy(count, grad_ptr(o.y), dx2);
        else
          be_->accumulate(count, grad_ptr(o.y), dx2);
        break;
      }
      case op_kind::max_pool:
        be_->max_pool_backward(o.pool, grad_ptr(o.y), ints + o.int_off, dx);
        break;
      case op_kind::upsample_add: {
        const activation_info& top = acts_[static_cast<std::size_t>(o.x2)];
        be_->upsample_add_backward(
            y.n, y.c, y.h, y.w, top.h, top.w, grad_ptr(o.y), dx,
            plan.needs_grad[static_cast<std::size_t>(o.x2)] ? grad_ptr(o.x2) : nullptr);
        break;
      }
      case op_kind::to_anchor_major: {
        const activation_info& x = acts_[static_cast<std::size_t>(o.x)];
        be_->to_anchor_major_backward(x.n, o.a, o.k, x.h, x.w, o.rows, o.row0, grad_ptr(o.y), dx);
        break;
      }
    }
  }
  // Testing the tests only (common/debug_grad_scale.hpp): nothing happens unless the variable is set.
  const grad_scale_fault& fault = debug_grad_scale_from_env();
  if (const param_info* p = fault.param.empty() ? nullptr : find_param(fault.param)) {
    std::vector<float> g = get_param_grad(fault.param);
    for (float& v : g) v *= fault.factor;
    be_->upload(param_grad_ptr(static_cast<int>(p - params_.data())), g.data(),
                g.size() * sizeof(float));
  } else if (!fault.param.empty()) {
    ::detkit::detail::throw_error(
        make_error(errc::usage, "no parameter named " + fault.param, "DETKIT_DEBUG_SCALE_GRAD"));
  }
  return lv;
}

retinanet::backward_plan retinanet::plan_backward() const {
  backward_plan plan;
  // An activation needs a gradient when a trainable parameter lies upstream of it (with
  // frozen_backward::stop; with `through` every conv counts as trainable here), never the images.
  plan.needs_grad.assign(acts_.size(), 0);
  const bool through = frozen_backward_ == frozen_backward::through;
  const auto needs = [&plan](int a) {
    return a >= 0 && plan.needs_grad[static_cast<std::size_t>(a)] != 0;
  };
  for (const op& o : ops_) {
    const bool trains =
        o.kind == op_kind::conv && (through || updated(static_cast<std::size_t>(o.w)) ||
                                    (o.b >= 0 && updated(static_cast<std::size_t>(o.b))));
    if (trains || needs(o.x) || needs(o.x2)) plan.needs_grad[static_cast<std::size_t>(o.y)] = 1;
  }
  // Walk the backward order: the first op to store into a gradient may write it over (convs and
  // the residual add can; the other ops add into it, so theirs must start from zero).
  plan.first_writer.assign(ops_.size(), {0, 0, 0});
  std::vector<char> written(acts_.size(), 0), param_written(params_.size(), 0);
  std::vector<char> zero(acts_.size(), 0);
  const auto store = [&](std::size_t i, int slot, int a, bool can_overwrite) {
    if (!needs(a) || written[static_cast<std::size_t>(a)]) return;
    written[static_cast<std::size_t>(a)] = 1;
    if (can_overwrite)
      plan.first_writer[i][static_cast<std::size_t>(slot)] = 1;
    else
      zero[static_cast<std::size_t>(a)] = 1;
  };
  // The losses store into the heads' outputs, leaving the ignored anchors' box rows alone.
  for (int a : {logits_, deltas_}) {
    written[static_cast<std::size_t>(a)] = 1;
    zero[static_cast<std::size_t>(a)] = 1;
  }
  for (std::size_t i = ops_.size(); i-- > 0;) {
    const op& o = ops_[i];
    if (!needs(o.y)) continue;
    const bool overwrites = o.kind == op_kind::conv || o.kind == op_kind::add;
    store(i, 0, o.x, overwrites);
    if (o.kind == op_kind::conv && !param_written[static_cast<std::size_t>(o.w)]) {
      // A conv's weight and bias are written together, so they share one slot.
      param_written[static_cast<std::size_t>(o.w)] = 1;
      plan.first_writer[i][1] = 1;
    }
    if (o.kind == op_kind::add || o.kind == op_kind::upsample_add) store(i, 2, o.x2, overwrites);
  }
  // Anything needing a gradient that no op writes (none in this network) starts from zero too.
  for (std::size_t a = 0; a < acts_.size(); ++a)
    if (plan.needs_grad[a] && !written[a]) zero[a] = 1;
  // Neighbouring activations are neighbours in the arena: clear each run of them at once, and
  // close a gap of up to 10 MiB (what a GPU writes in about the 3 us one more memset launch
  // costs) by clearing gradients that will be written over anyway.
  constexpr std::size_t kMergeGapFloats = (std::size_t{10} << 20) / sizeof(float);
  for (std::size_t a = 0; a < acts_.size(); ++a) {
    if (!zero[a]) continue;
    const std::size_t begin = acts_[a].grad_offset;
    const std::size_t end = begin + (acts_[a].count() + 63) / 64 * 64;
    if (!plan.zero_runs.empty() && begin - plan.zero_runs.back().second <= kMergeGapFloats)
      plan.zero_runs.back().second = end;
    else
      plan.zero_runs.emplace_back(begin, end);
  }
  return plan;
}

void retinanet::sgd_step(const sgd_options& o) {
  float* momentum = reinterpret_cast<float*>(arena_ + off_momentum_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const param_info& p = params_[i];
    if (!updated(i)) continue;
    be_->sgd_step(o, static_cast<long long>(p.count), param_grad_ptr(static_cast<int>(i)),
                  param_ptr(static_cast<int>(i)), momentum + p.offset);
  }
}

double retinanet::gradient_norm() const {
  double s = 0.0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const param_info& p = params_[i];
    if (!updated(i)) continue;
    s += be_->sum_of_squares(static_cast<long long>(p.count), param_grad_ptr(static_cast<int>(i)));
  }
  return std::sqrt(s);
}

loss_values retinanet::train_step(const float* images, const std::vector<image_targets>& targets,
                                  const sgd_options& o) {
  forward(images);
  const loss_values lv = loss_and_backward(targets, match(targets));
  sgd_step(o);
  return lv;
}

// ---- inference -----------------------------------------------------------------------------------
std::vector<detection> postprocess_detections_cpu(const retinanet_config& config,
                                                  const std::vector<int>& level_rows,
                                                  const float* anchors, const float* logits,
                                                  const float* deltas, int image_h, int image_w) {
  const long long k = config.num_classes;
  return postprocess_candidates(
      config, level_rows, anchors, deltas, image_h, image_w, [&](int, long long row0, int rows) {
        return topk_scores_cpu(rows * k, logits + row0 * k, config.score_threshold,
                               config.topk_candidates);
      });
}

std::vector<detection> postprocess_candidates(const retinanet_config& config,
                                              const std::vector<int>& level_rows,
                                              const float* anchors, const float* deltas,
                                              int image_h, int image_w,
                                              const candidate_selector& select) {
  const int k = config.num_classes;
  std::vector<float> boxes, scores;
  std::vector<int> labels;
  long long row0 = 0;
  int level = 0;
  for (int rows : level_rows) {
    const std::vector<scored_index> top = select(level++, row0, rows);
    for (const scored_index& s : top) {
      const long long anchor = row0 + s.index / k;
      float box[4];
      box_decode(deltas + 4 * anchor, anchors + 4 * anchor, box);
      box_clip(box, static_cast<float>(image_h), static_cast<float>(image_w));
      boxes.insert(boxes.end(), box, box + 4);
      scores.push_back(s.score);
      labels.push_back(s.index % k);
    }
    row0 += rows;
  }
  const std::vector<int> keep =
      batched_nms_cpu(static_cast<int>(scores.size()), boxes.data(), scores.data(), labels.data(),
                      config.nms_threshold, config.detections_per_image);
  std::vector<detection> out;
  for (int i : keep) {
    detection d{};
    for (int j = 0; j < 4; ++j)
      d.box[j] = boxes[4 * static_cast<std::size_t>(i) + static_cast<std::size_t>(j)];
    d.score = scores[static_cast<std::size_t>(i)];
    d.label = labels[static_cast<std::size_t>(i)];
    out.push_back(d);
  }
  return out;
}

std::vector<detection> retinanet::detect(int image_index, int image_h, int image_w) const {
  if (image_index < 0 || image_index >= batch_.n)
    throw std::invalid_argument("retinanet::detect: image index out of range");
  const std::size_t r = static_cast<std::size_t>(num_anchors_);
  const long long k = config_.num_classes;
  // The (r, k) scores stay on the device; the top-k per level and the image's deltas come back.
  std::vector<float> deltas(r * 4);
  be_->download(deltas.data(), act_ptr(deltas_) + static_cast<std::size_t>(image_index) * r * 4,
                deltas.size() * sizeof(float));
  const float* logits =
      act_ptr(logits_) + static_cast<std::size_t>(image_index) * r * static_cast<std::size_t>(k);
  return postprocess_candidates(config_, level_rows(), anchors_.data(), deltas.data(), image_h,
                                image_w, [&](int, long long row0, int rows) {
                                  return be_->select_candidates(logits + row0 * k, rows * k,
                                                                config_.score_threshold,
                                                                config_.topk_candidates);
                                });
}

// ---- the CPU backend -----------------------------------------------------------------------------
namespace {
class cpu_backend final : public op_backend {
 public:
  void* allocate_arena(std::size_t bytes) override {
    storage_.reset(
        new std::max_align_t[(bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t)]);
    return storage_.get();
  }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void zero(void* dst, std::size_t bytes) override { std::memset(dst, 0, bytes); }
  void conv_forward(const conv2d_shape& s, const float* x, const float* w, const float* b, float* y,
                    float* col) override {
    conv2d_forward_cpu(s, x, w, b, y, col);
  }
  void conv_backward(const conv2d_shape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, float* col, grad_write dx_write,
                     grad_write param_write) override {
    conv2d_backward_cpu(s, x, w, dy, dx, dw, db, col, dx_write, param_write);
  }
  void bn_fold(int c, const float* weight, const float* bias, const float* mean, const float* var,
               float eps, float* scale, float* shift) override {
    frozen_bn_fold_cpu(c, weight, bias, mean, var, eps, scale, shift);
  }
  void bn_forward(int n, int c, int pixels, const float* x, const float* scale, const float* shift,
                  float* y) override {
    frozen_bn_forward_cpu(n, c, pixels, x, scale, shift, y);
  }
  void bn_backward(int n, int c, int pixels, const float* dy, const float* scale,
                   float* dx) override {
    if (dx != nullptr) frozen_bn_backward_cpu(n, c, pixels, dy, scale, dx);
  }
  void relu_forward(long long count, const float* x, float* y) override {
    relu_forward_cpu(count, x, y);
  }
  void relu_backward(long long count, const float* y, const float* dy, float* dx) override {
    if (dx != nullptr) relu_backward_cpu(count, y, dy, dx);
  }
  void add_forward(long long count, const float* a, const float* b, float* y) override {
    add_forward_cpu(count, a, b, y);
  }
  void accumulate(long long count, const float* src, float* dst) override {
    if (dst != nullptr) accumulate_cpu(count, src, dst);
  }
  void copy(long long count, const float* src, float* dst) override {
    if (dst != nullptr) std::copy(src, src + count, dst);
  }
  void max_pool_forward(const max_pool_shape& s, const float* x, float* y, int* arg) override {
    max_pool_forward_cpu(s, x, y, arg);
  }
  void max_pool_backward(const max_pool_shape& s, const float* dy, const int* arg,
                         float* dx) override {
    if (dx != nullptr) max_pool_backward_cpu(s, dy, arg, dx);
  }
  void upsample_add_forward(int n, int c, int h, int w, int th, int tw, const float* lateral,
                            const float* top, float* out) override {
    upsample_add_forward_cpu(n, c, h, w, th, tw, lateral, top, out);
  }
  void upsample_add_backward(int n, int c, int h, int w, int th, int tw, const float* dout,
                             float* dlateral, float* dtop) override {
    upsample_add_backward_cpu(n, c, h, w, th, tw, dout, dlateral, dtop);
  }
  void to_anchor_major(int n, int a, int k, int h, int w, int rows, int row0, const float* x,
                       float* y) override {
    const long long total = static_cast<long long>(n) * h * w * a * k;
    for (long long i = 0; i < total; ++i) {
      long long dst = 0;
      const long long src = anchor_major_source(i, a, k, h, w, &dst, rows, row0);
      y[dst] = x[src];
    }
  }
  void to_anchor_major_backward(int n, int a, int k, int h, int w, int rows, int row0,
                                const float* dy, float* dx) override {
    const long long total = static_cast<long long>(n) * h * w * a * k;
    for (long long i = 0; i < total; ++i) {
      long long dst = 0;
      const long long src = anchor_major_source(i, a, k, h, w, &dst, rows, row0);
      dx[src] += dy[dst];
    }
  }
  float focal_loss(int n, int r, int k, const float* logits, const int* cls_target,
                   const focal_options& o, float grad_scale, float* dlogits, float*) override {
    return focal_loss_cpu(n, r, k, logits, cls_target, o, grad_scale, dlogits);
  }
  float box_loss(int n, int r, const box_loss_options& o, const float* deltas, const float* targets,
                 const float* anchors, const int* cls_target, float grad_scale, float* ddeltas,
                 float*) override {
    return box_loss_cpu(n, r, o, deltas, targets, anchors, cls_target, grad_scale, ddeltas);
  }
  void sgd_step(const sgd_options& o, long long count, const float* grad, float* param,
                float* momentum_buf) override {
    sgd_step_cpu(o, count, grad, param, momentum_buf);
  }
  double sum_of_squares(long long count, const float* x) override {
    return sum_of_squares_cpu(count, x);
  }
  std::vector<scored_index> select_candidates(const float* logits, long long count, float threshold,
                                              int k) override {
    return topk_scores_cpu(count, logits, threshold, k);
  }

 private:
  std::unique_ptr<std::max_align_t[]> storage_;
};
}  // namespace

std::unique_ptr<op_backend> make_cpu_backend() { return std::make_unique<cpu_backend>(); }

namespace {
// Plans only: hands out no memory and must never run an op.
class sizing_backend final : public op_backend {
  [[noreturn]] static void unused() {
    throw std::logic_error("plan_arena: the sizing backend cannot run ops");
  }

 public:
  void* allocate_arena(std::size_t) override { return nullptr; }
  void upload(void*, const void*, std::size_t) override { unused(); }
  void download(void*, const void*, std::size_t) override { unused(); }
  void zero(void*, std::size_t) override {}
  void conv_forward(const conv2d_shape&, const float*, const float*, const float*, float*,
                    float*) override {
    unused();
  }
  void conv_backward(const conv2d_shape&, const float*, const float*, const float*, float*, float*,
                     float*, float*, grad_write, grad_write) override {
    unused();
  }
  void bn_fold(int, const float*, const float*, const float*, const float*, float, float*,
               float*) override {
    unused();
  }
  void bn_forward(int, int, int, const float*, const float*, const float*, float*) override {
    unused();
  }
  void bn_backward(int, int, int, const float*, const float*, float*) override { unused(); }
  void relu_forward(long long, const float*, float*) override { unused(); }
  void relu_backward(long long, const float*, const float*, float*) override { unused(); }
  void add_forward(long long, const float*, const float*, float*) override { unused(); }
  void accumulate(long long, const float*, float*) override { unused(); }
  void copy(long long, const float*, float*) override { unused(); }
  void max_pool_forward(const max_pool_shape&, const float*, float*, int*) override { unused(); }
  void max_pool_backward(const max_pool_shape&, const float*, const int*, float*) override {
    unused();
  }
  void upsample_add_forward(int, int, int, int, int, int, const float*, const float*,
                            float*) override {
    unused();
  }
  void upsample_add_backward(int, int, int, int, int, int, const float*, float*, float*) override {
    unused();
  }
  void to_anchor_major(int, int, int, int, int, int, int, const float*, float*) override {
    unused();
  }
  void to_anchor_major_backward(int, int, int, int, int, int, int, const float*, float*) override {
    unused();
  }
  float focal_loss(int, int, int, const float*, const int*, const focal_options&, float, float*,
                   float*) override {
    unused();
  }
  float box_loss(int, int, const box_loss_options&, const float*, const float*, const float*,
                 const int*, float, float*, float*) override {
    unused();
  }
  void sgd_step(const sgd_options&, long long, const float*, float*, float*) override { unused(); }
  double sum_of_squares(long long, const float*) override { unused(); }
  std::vector<scored_index> select_candidates(const float*, long long, float, int) override {
    unused();
  }
};
}  // namespace

arena_report plan_arena(const retinanet_config& config, batch_shape batch) {
  const retinanet model(config, batch, std::make_unique<sizing_backend>());
  return model.arena();
}

}  // namespace cuda
DETKIT_END_NAMESPACE

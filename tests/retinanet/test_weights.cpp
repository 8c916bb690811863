// tests/retinanet/test_weights.cpp — cuda/model/safetensors.hpp: round trips, located errors for
// malformed files (exact messages for representative cases), model weights by torchvision name,
// shape-mismatch policies for fine-tuning, checkpoints.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "../test_support.hpp"
#include "model/retinanet.hpp"
#include "model/safetensors.hpp"

namespace dc = detkit::cuda;
using detkit_test::read_text;
using detkit_test::work_dir;
using detkit_test::write_text;

namespace {

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t n = json.size();
  for (int b = 0; b < 8; ++b)
    out[static_cast<std::size_t>(b)] = static_cast<char>((n >> (8 * b)) & 0xff);
  return out + json + data;
}

std::string floats(std::initializer_list<float> v) {
  std::string s;
  for (float f : v) s.append(reinterpret_cast<const char*>(&f), sizeof f);
  return s;
}

std::string read_error(const std::string& dir, const std::string& bytes) {
  const std::string path = dir + "/bad.safetensors";
  write_text(path, bytes);
  auto r = dc::try_read_safetensors(path);
  REQUIRE_FALSE(r);
  return r.error().to_string();
}

dc::retinanet tiny_model(int classes) {
  dc::retinanet_config c;
  c.block = dc::block_kind::basic;
  c.layers = {1, 1, 1, 1};
  c.fpn_channels = 16;
  c.num_classes = classes;
  return dc::retinanet(c, dc::batch_shape{1, 128, 128}, dc::make_cpu_backend());
}

}  // namespace

TEST_CASE("safetensors: write then read gives the same tensors and metadata", "[safetensors]") {
  const std::string dir = work_dir("safetensors_roundtrip");
  dc::safetensors_file f;
  f.tensors.push_back({"a.weight", {2, 3}, {1, 2, 3, 4, 5, 6}});
  f.tensors.push_back({"b", {}, {-7.5f}});
  f.tensors.push_back({"empty", {0, 4}, {}});
  f.metadata.emplace_back("format", "pt");
  f.metadata.emplace_back("quote\"key", "line\nbreak");
  REQUIRE(dc::try_write_safetensors(dir + "/x.safetensors", f));
  const std::string bytes = read_text(dir + "/x.safetensors");
  std::uint64_t header = 0;
  for (int b = 7; b >= 0; --b)
    header = (header << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(b)]);
  CHECK(header % 8 == 0);  // data 8-byte aligned
  CHECK(bytes.size() == 8 + header + 7 * 4);
  const dc::safetensors_file g = dc::read_safetensors(dir + "/x.safetensors");
  REQUIRE(g.tensors.size() == 3);
  REQUIRE(g.find("a.weight") != nullptr);
  CHECK(g.find("a.weight")->shape == std::vector<std::int64_t>{2, 3});
  CHECK(g.find("a.weight")->data == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(g.find("b")->data == std::vector<float>{-7.5f});
  CHECK(g.find("b")->shape.empty());
  CHECK(g.find("empty")->data.empty());
  REQUIRE(g.find_metadata("quote\"key") != nullptr);
  CHECK(*g.find_metadata("quote\"key") == "line\nbreak");
}

TEST_CASE("safetensors: malformed files give located errors", "[safetensors]") {
  const std::string dir = work_dir("safetensors_bad");
  const std::string p = dir + "/bad.safetensors";
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

  CHECK(
      read_error(dir, "abc") ==
      p + ": byte 0: error: file too short for a safetensors header length [detkit.model.weights]");
  std::string lying = with_header("{}", "");
  lying[1] = 3;  // claims 770 header bytes
  CHECK(read_error(dir, lying) == p + ": byte 0: error: header length 770 does not fit the file "
                                      "(10 bytes) [detkit.model.weights]");
  // Missing closing brace: the error points at the end of the header (8 + its length).
  const std::string open_header = "{" + ok_entry;
  CHECK(read_error(dir, with_header(open_header, floats({1, 2}))) ==
        p + ": byte " + std::to_string(8 + open_header.size()) +
            ": error: expected '}' [detkit.json.syntax]");
  CHECK(read_error(dir, with_header(R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                                    floats({1}))) ==
        p + ": byte 9: error: field 't': dtype F16 is not supported (only F32) "
            "[detkit.model.weights]");
  CHECK(read_error(dir, with_header(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                    floats({1, 2}))) ==
        p + ": byte 9: error: field 't': data_offsets span 8 bytes, the shape needs 12 "
            "[detkit.model.shape]");
  // A data error reports the absolute file offset of the tensor's data.
  CHECK(read_error(dir, with_header("{" + ok_entry + "}", floats({1}))) ==
        p + ": byte " + std::to_string(8 + open_header.size() + 1) +
            ": error: field 't': tensor data runs past the end of the file [detkit.io.read]");
  const std::string overlap =
      R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  CHECK(read_error(dir, with_header(overlap, floats({1, 2})))
            .find("field 'u': tensor data overlaps the previous tensor") != std::string::npos);
  const std::string dup =
      R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  CHECK(read_error(dir, with_header(dup, floats({1, 2}))).find("tensor name appears twice") !=
        std::string::npos);
  CHECK(read_error(dir,
                   with_header(R"({"t":{"dtype":"F32","shape":[1],"offsets":[0,4]}})", floats({1})))
            .find("unknown member 'offsets' in tensor 't'") != std::string::npos);
  CHECK(read_error(dir, with_header(R"({"t":{"dtype":"F32","shape":[1]}})", floats({1})))
            .find("tensor lacks dtype, shape or data_offsets") != std::string::npos);
  CHECK(read_error(dir, with_header("{" + ok_entry + "} x", floats({1, 2})))
            .find("junk after the header object") != std::string::npos);
  auto missing = dc::try_read_safetensors(dir + "/nope.safetensors");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == detkit::errc::io_open);
  CHECK_THROWS_AS(dc::read_safetensors(dir + "/nope.safetensors"), detkit::parse_error);
}

TEST_CASE("weights: save and load by torchvision name, mismatch policies", "[safetensors][model]") {
  const std::string dir = work_dir("weights");
  dc::retinanet a = tiny_model(5);
  a.init_parameters(3);
  REQUIRE(dc::try_save_weights(a, dir + "/w.safetensors"));
  const dc::safetensors_file f = dc::read_safetensors(dir + "/w.safetensors");
  CHECK(f.find("backbone.body.layer4.0.downsample.1.running_var") != nullptr);
  CHECK(f.find("head.classification_head.cls_logits.weight")->shape ==
        std::vector<std::int64_t>{45, 16, 3, 3});

  dc::retinanet b = tiny_model(5);
  b.init_parameters(4);
  auto rep = dc::try_load_weights(b, dir + "/w.safetensors");
  REQUIRE(rep);
  CHECK(rep->loaded == static_cast<int>(a.params().size()));
  for (const dc::param_info& p : a.params()) CHECK(a.get_param(p.name) == b.get_param(p.name));
  // The prior-probability bias: -log(99).
  CHECK(a.get_param("head.classification_head.cls_logits.bias")[0] == Approx(-4.59512));

  // Fine-tuning a 5-class checkpoint into a 3-class model: strict fails naming the tensor ...
  dc::retinanet c = tiny_model(3);
  auto strict = dc::try_load_weights(c, dir + "/w.safetensors");
  REQUIRE_FALSE(strict);
  CHECK(strict.error().to_string() ==
        dir +
            "/w.safetensors: error: field 'head.classification_head.cls_logits.weight': shape "
            "45x16x3x3 in the file, the model has 27x16x3x3 [detkit.model.shape]");
  // ... and skip loads everything else and lists what it left out.
  dc::load_options o;
  o.shape_mismatch = dc::mismatch_policy::skip;
  auto lenient = dc::try_load_weights(c, dir + "/w.safetensors", o);
  REQUIRE(lenient);
  CHECK(lenient->skipped_shape ==
        std::vector<std::string>{"head.classification_head.cls_logits.weight",
                                 "head.classification_head.cls_logits.bias"});
  CHECK(lenient->loaded + 2 == static_cast<int>(c.params().size()));

  // A file lacking a parameter: error by default, listed with missing = skip.
  dc::safetensors_file partial = f;
  partial.tensors.erase(partial.tensors.begin());
  REQUIRE(dc::try_write_safetensors(dir + "/partial.safetensors", partial));
  auto miss = dc::try_load_weights(b, dir + "/partial.safetensors");
  REQUIRE_FALSE(miss);
  CHECK(miss.error().field == "backbone.body.conv1.weight");
  dc::load_options skip_missing;
  skip_missing.missing = dc::mismatch_policy::skip;
  auto miss_ok = dc::try_load_weights(b, dir + "/partial.safetensors", skip_missing);
  REQUIRE(miss_ok);
  CHECK(miss_ok->missing == std::vector<std::string>{"backbone.body.conv1.weight"});
}

TEST_CASE("checkpoint: weights, momentum and step survive a round trip", "[safetensors][model]") {
  const std::string dir = work_dir("checkpoint");
  dc::retinanet a = tiny_model(5);
  a.init_parameters(5);
  std::vector<float> images(3 * 128 * 128, 0.25f);
  std::vector<dc::image_targets> t(1);
  t[0].boxes = {10, 10, 60, 70};
  t[0].labels = {2};
  (void)a.train_step(images.data(), t, dc::sgd_options{});
  REQUIRE(dc::try_save_checkpoint(a, dir + "/c.safetensors", 1));
  dc::retinanet b = tiny_model(5);
  auto step = dc::try_load_checkpoint(b, dir + "/c.safetensors");
  REQUIRE(step);
  CHECK(*step == 1);
  CHECK(a.get_momentum() == b.get_momentum());
  // Plain weights are not a checkpoint.
  REQUIRE(dc::try_save_weights(a, dir + "/w.safetensors"));
  auto not_ckpt = dc::try_load_checkpoint(b, dir + "/w.safetensors");
  REQUIRE_FALSE(not_ckpt);
  CHECK(not_ckpt.error().message == "not a checkpoint: no optimizer.momentum or step");
}

TEST_CASE("freeze_prefix: frozen layers get no gradient and no SGD update", "[model]") {
  dc::retinanet m = tiny_model(5);
  m.init_parameters(6);
  // torchvision trainable_backbone_layers=3 freezes conv1 (bn1 is frozen anyway) and layer1.
  m.freeze_prefix("backbone.body.conv1.");
  m.freeze_prefix("backbone.body.layer1.");
  const std::vector<float> conv1 = m.get_param("backbone.body.conv1.weight");
  const std::vector<float> l2 = m.get_param("backbone.body.layer2.0.conv1.weight");
  std::vector<float> images(3 * 128 * 128);
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(i % 17) / 8.0f - 1.0f;
  std::vector<dc::image_targets> t(1);
  t[0].boxes = {20, 20, 90, 100};
  t[0].labels = {1};
  (void)m.train_step(images.data(), t, dc::sgd_options{});
  CHECK(m.get_param("backbone.body.conv1.weight") == conv1);
  for (float g : m.get_param_grad("backbone.body.layer1.0.conv2.weight")) CHECK(g == 0.0f);
  CHECK(m.get_param("backbone.body.layer2.0.conv1.weight") != l2);
  // Gradients still flow through frozen layers to what is before them? Nothing is before conv1,
  // but layer1's input gradient must still reach the stem activations.
  bool any = false;
  for (float g : m.get_activation_grad("backbone.body.maxpool#0")) any = any || g != 0.0f;
  CHECK(any);
}

TEST_CASE("frozen_backward::stop: no gradient into frozen layers, the same trainable gradients",
          "[model]") {
  std::vector<float> images(3 * 128 * 128);
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(i % 19) / 9.0f - 1.0f;
  std::vector<dc::image_targets> t(1);
  t[0].boxes = {10, 30, 70, 110};
  t[0].labels = {2};
  std::vector<std::vector<float>> grads[2];
  std::vector<float> stem_grad[2];
  for (int run = 0; run < 2; ++run) {
    dc::retinanet m = tiny_model(5);
    m.init_parameters(7);
    m.freeze_prefix("backbone.body.conv1.");
    m.freeze_prefix("backbone.body.layer1.");
    m.set_frozen_backward(run == 0 ? dc::frozen_backward::through : dc::frozen_backward::stop);
    // Two steps: the second backward must write over the first's gradients, not add to them.
    (void)m.train_step(images.data(), t, dc::sgd_options{});
    m.forward(images.data());
    (void)m.loss_and_backward(t, m.match(t));
    for (const dc::param_info& p : m.params())
      if (p.role == dc::param_role::trainable) grads[run].push_back(m.get_param_grad(p.name));
    stem_grad[run] = m.get_activation_grad("backbone.body.maxpool#0");
  }
  // The trainable layers' gradients do not depend on whether dX reached the frozen ones.
  CHECK(grads[0] == grads[1]);
  bool any = false;
  for (float g : stem_grad[0]) any = any || g != 0.0f;
  CHECK(any);
  for (float g : stem_grad[1]) REQUIRE(g == 0.0f);
}

TEST_CASE("detect: backend top-k path equals postprocess_detections_cpu", "[model]") {
  dc::retinanet m = tiny_model(5);
  m.init_parameters(8);
  // Prior-probability bias scores every anchor 0.0099 < 0.05: clear it so detections exist.
  const std::vector<float> zero(45, 0.0f);
  m.set_param("head.classification_head.cls_logits.bias", zero.data(), zero.size());
  std::vector<float> images(3 * 128 * 128);
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(i % 23) / 11.0f - 1.0f;
  m.forward(images.data());
  const std::vector<dc::detection> d = m.detect(0, 128, 120);
  const std::vector<float> logits = m.get_activation("head_outputs.cls_logits");
  const std::vector<float> deltas = m.get_activation("head_outputs.bbox_regression");
  const std::vector<dc::detection> e = dc::postprocess_detections_cpu(
      m.config(), m.level_rows(), m.anchors().data(), logits.data(), deltas.data(), 128, 120);
  REQUIRE(d.size() == 300);  // keep 300 (detections_per_img)
  REQUIRE(e.size() == d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    CHECK(d[i].label == e[i].label);
    CHECK(d[i].score == e[i].score);
    for (int j = 0; j < 4; ++j) CHECK(d[i].box[j] == e[i].box[j]);
    CHECK(d[i].box[2] <= 120.0f);  // clipped to the image width
  }
}

TEST_CASE("loss: an image without boxes is all background, as torchvision", "[model]") {
  dc::retinanet m = tiny_model(5);
  m.init_parameters(9);
  std::vector<float> images(3 * 128 * 128, 0.1f);
  std::vector<dc::image_targets> none(1);
  m.forward(images.data());
  const auto matched = m.match(none);
  for (int v : matched[0]) REQUIRE(v == -1);
  const dc::loss_values l = m.loss_and_backward(none, matched);
  CHECK(l.box_regression == 0.0f);
  // Every anchor is a negative, normalised by max(1, 0) = 1: the sum of the focal terms.
  const std::vector<float> logits = m.get_activation("head_outputs.cls_logits");
  double expect = 0.0;
  for (float x : logits)
    expect += static_cast<double>(dc::sigmoid_focal_term(x, 0.0f, dc::focal_options{}).loss);
  CHECK(l.classification == Approx(expect).epsilon(1e-5));
  for (float g : m.get_activation_grad("head_outputs.bbox_regression")) REQUIRE(g == 0.0f);
  // Labels outside [0, num_classes) are refused, not written out of bounds.
  std::vector<dc::image_targets> bad(1);
  bad[0].boxes = {0, 0, 50, 50};
  bad[0].labels = {5};
  CHECK_THROWS_AS(m.loss_and_backward(bad, m.match(bad)), std::invalid_argument);
}

TEST_CASE("weights: the recorded bn_eps is read back, saves record the model's, bad values fail",
          "[safetensors][model]") {
  const std::string dir = work_dir("bn_eps");
  dc::retinanet_config c;
  c.block = dc::block_kind::basic;
  c.layers = {1, 1, 1, 1};
  c.fpn_channels = 16;
  c.num_classes = 2;
  c.bn_eps = 0.0f;
  dc::retinanet a(c, dc::batch_shape{1, 64, 64}, dc::make_cpu_backend());
  a.init_parameters(1);
  REQUIRE(dc::try_save_weights(a, dir + "/eps0.safetensors"));
  auto s = dc::try_read_recorded_settings(dir + "/eps0.safetensors");
  REQUIRE(s);
  REQUIRE(s->bn_eps.has_value());
  CHECK(*s->bn_eps == 0.0f);
  CHECK(*dc::read_safetensors(dir + "/eps0.safetensors").find_metadata("bn_eps") == "0");

  // The converter's spelling ("1e-05", "0.0") and a file that records nothing.
  const std::string t = R"("t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  write_text(dir + "/conv.safetensors",
             with_header(R"({"__metadata__":{"bn_eps":"1e-05"},)" + t + "}", floats({1.0f})));
  s = dc::try_read_recorded_settings(dir + "/conv.safetensors");
  REQUIRE(s);
  CHECK(*s->bn_eps == 1e-5f);
  write_text(dir + "/none.safetensors", with_header("{" + t + "}", floats({1.0f})));
  s = dc::try_read_recorded_settings(dir + "/none.safetensors");
  REQUIRE(s);
  CHECK_FALSE(s->bn_eps.has_value());
  for (const char* bad : {"", "abc", "1e-5x", "nan", "-0.001", "1", " 0"}) {
    write_text(dir + "/bad.safetensors",
               with_header(std::string(R"({"__metadata__":{"bn_eps":")") + bad + R"("},)" + t + "}",
                           floats({1.0f})));
    s = dc::try_read_recorded_settings(dir + "/bad.safetensors");
    REQUIRE_FALSE(s);
    CHECK(s.error().to_string() ==
          dir + "/bad.safetensors: byte 8: error: field '__metadata__.bn_eps': " +
              "expected a number in [0, 1), got '" + bad + "' [detkit.json.schema]");
  }
}

TEST_CASE("set_batch_shape: a smaller batch in the planned arena equals a model planned for it",
          "[model]") {
  dc::retinanet_config c;
  c.block = dc::block_kind::basic;
  c.layers = {1, 1, 1, 1};
  c.fpn_channels = 16;
  c.num_classes = 3;
  dc::retinanet big(c, dc::batch_shape{2, 128, 128}, dc::make_cpu_backend());
  big.init_parameters(11);
  const std::vector<float> zero(27, 0.0f);  // scores above 0.05, so detections exist
  big.set_param("head.classification_head.cls_logits.bias", zero.data(), zero.size());
  const std::size_t arena = big.arena().total;
  // A 2 x 128 x 128 forward first, so the smaller run starts from stale activations.
  std::vector<float> images(2 * 3 * 128 * 128);
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(i % 29) / 14.0f - 1.0f;
  big.forward(images.data());

  const dc::batch_shape small{1, 64, 96};
  dc::retinanet exact(c, small, dc::make_cpu_backend());
  for (const dc::param_info& p : big.params()) {
    const std::vector<float> v = big.get_param(p.name);
    exact.set_param(p.name, v.data(), v.size());
  }
  big.set_batch_shape(small);
  CHECK(big.batch().h == 64);
  CHECK(big.planned_batch().h == 128);
  CHECK(big.arena().total == arena);
  CHECK(big.num_anchors() == exact.num_anchors());
  CHECK(big.anchors() == exact.anchors());
  CHECK(big.level_rows() == exact.level_rows());

  std::vector<float> one(3 * 64 * 96);
  for (std::size_t i = 0; i < one.size(); ++i) one[i] = static_cast<float>(i % 31) / 15.0f - 1.0f;
  big.forward(one.data());
  exact.forward(one.data());
  CHECK(big.get_activation("head_outputs.cls_logits") ==
        exact.get_activation("head_outputs.cls_logits"));
  CHECK(big.get_activation("head_outputs.bbox_regression") ==
        exact.get_activation("head_outputs.bbox_regression"));
  const std::vector<dc::detection> d = big.detect(0, 60, 90), e = exact.detect(0, 60, 90);
  REQUIRE(!d.empty());
  REQUIRE(d.size() == e.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    CHECK(d[i].label == e[i].label);
    CHECK(d[i].score == e[i].score);
    for (int j = 0; j < 4; ++j) CHECK(d[i].box[j] == e[i].box[j]);
  }
  // Training in the smaller shape: the same losses and gradients.
  std::vector<dc::image_targets> t(1);
  t[0].boxes = {10, 8, 50, 40};
  t[0].labels = {1};
  const dc::loss_values lb = big.loss_and_backward(t, big.match(t));
  const dc::loss_values le = exact.loss_and_backward(t, exact.match(t));
  CHECK(lb.classification == le.classification);
  CHECK(lb.box_regression == le.box_regression);
  CHECK(big.get_param_grad("backbone.body.conv1.weight") ==
        exact.get_param_grad("backbone.body.conv1.weight"));

  // Larger than planned in any dimension, or not a multiple of 32: refused, shape unchanged.
  CHECK_THROWS_WITH(big.set_batch_shape(dc::batch_shape{1, 160, 64}),
                    "retinanet: batch 1 x 160 x 64 does not fit the arena planned for 2 x 128 x "
                    "128");
  CHECK_THROWS_WITH(
      big.set_batch_shape(dc::batch_shape{3, 64, 64}),
      "retinanet: batch 3 x 64 x 64 does not fit the arena planned for 2 x 128 x 128");
  CHECK_THROWS(big.set_batch_shape(dc::batch_shape{1, 100, 96}));
  CHECK(big.batch().h == 64);
  big.set_batch_shape(dc::batch_shape{2, 128, 128});
  big.forward(images.data());
  CHECK(big.get_activation("head_outputs.cls_logits").size() ==
        2u * 128u / 8 * 128 / 8 * 9 * 3 + 2u * (8 * 8 + 4 * 4 + 2 * 2 + 1) * 9 * 3);
}

// cuda/ops/sgd/sgd_math.hpp — torch.optim.SGD step for one element (dampening 0, no Nesterov):
// d = g + wd * p; buf = momentum * buf + d (buf starts at 0, which equals torch's clone on step 1);
// p -= lr * buf.
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct sgd_options {
  float lr = 0.01f;
  float momentum = 0.9f;
  float weight_decay = 1e-4f;
};

DETKIT_HD void sgd_update(const sgd_options& o, float grad, float* param, float* buf) {
  const float decayed = o.weight_decay * *param;
  const float d = grad + decayed;
  const float kept = o.momentum * *buf;
  *buf = kept + d;
  const float step = o.lr * *buf;
  *param = *param - step;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

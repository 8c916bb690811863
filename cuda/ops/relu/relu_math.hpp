// cuda/ops/relu/relu_math.hpp — ReLU and the residual add (torch.relu, `out += identity`).
#pragma once

#include "detkit/config.hpp"
#include "detkit/detail/host_device.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

DETKIT_HD float relu_value(float x) { return x > 0.0f ? x : 0.0f; }
/// torch's threshold_backward(grad, result, 0): the mask comes from the output.
DETKIT_HD float relu_grad(float y, float dy) { return y > 0.0f ? dy : 0.0f; }

}  // namespace cuda
DETKIT_END_NAMESPACE

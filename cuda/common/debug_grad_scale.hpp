// cuda/common/debug_grad_scale.hpp — a deliberate fault for testing the tests:
// DETKIT_DEBUG_SCALE_GRAD=<parameter name>=<factor> multiplies that parameter's gradient after
// every backward pass, on either backend. The GPU harness (tests/cuda/test_train_gpu.cpp) sets it
// on one side to prove its parity check fails when one gradient is wrong. Unset: no effect.
#pragma once

#include <cstdlib>
#include <string>

#include "detkit/config.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace cuda {

struct grad_scale_fault {
  std::string param;  // empty: no fault
  float factor = 1.0f;
};

/// The variable, read once per process. A malformed value is an error naming the variable.
inline const grad_scale_fault& debug_grad_scale_from_env() {
  static const grad_scale_fault fault = [] {
    grad_scale_fault f;
    const char* v = std::getenv("DETKIT_DEBUG_SCALE_GRAD");
    if (v == nullptr || *v == '\0') return f;
    const std::string s = v;
    const std::size_t eq = s.rfind('=');
    char* end = nullptr;
    const float factor = eq == std::string::npos ? 0.0f : std::strtof(s.c_str() + eq + 1, &end);
    if (eq == 0 || eq == std::string::npos || end == s.c_str() + eq + 1 || *end != '\0')
      ::detkit::detail::throw_error(
          make_error(errc::usage, "expected <parameter name>=<factor>, got '" + s + "'",
                     "DETKIT_DEBUG_SCALE_GRAD"));
    f.param = s.substr(0, eq);
    f.factor = factor;
    return f;
  }();
  return fault;
}

}  // namespace cuda
DETKIT_END_NAMESPACE

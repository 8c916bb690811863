// examples/eval/npy.hpp — numpy's .npy format (version 1.0) for float64 arrays, so pycocotools'
// eval['precision'] / ['recall'] / ['scores'] can be compared with np.load(...) == ... .
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace detkit_eval {

/// The bytes of a C-order little-endian float64 .npy file of the given shape.
inline std::string npy_float64(const std::vector<double>& values,
                               const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  dict += "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += dict;
  static_assert(sizeof(double) == 8, "float64");
  const std::size_t at = out.size();
  out.resize(at + values.size() * sizeof(double));
  if (!values.empty()) std::memcpy(&out[at], values.data(), values.size() * sizeof(double));
  return out;
}

}  // namespace detkit_eval

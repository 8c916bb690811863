// tests/retinanet/reference_file.hpp — reader for the tensors dump_reference.py writes:
// "DKRTREF1", u32 version, u32 count, then per tensor u32 name length, name, u32 dtype (0 f32,
// 1 i32), u32 ndim, u64 dims[ndim], raw little-endian data.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace detkit_test {

struct ref_tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> f;         // dtype f32
  std::vector<std::int32_t> i;  // dtype i32
  bool is_int = false;
  std::size_t count() const { return is_int ? i.size() : f.size(); }
};

struct reference_file {
  std::vector<std::string> order;  // names in file order
  std::map<std::string, ref_tensor> tensors;

  const ref_tensor& at(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("reference has no tensor " + name);
    return it->second;
  }
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
};

inline reference_file read_reference(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "DKRTREF1", 8) != 0)
    throw std::runtime_error(path + ": not a detkit RetinaNet reference file");
  auto u32 = [&in, &path]() {
    std::uint32_t v = 0;
    in.read(reinterpret_cast<char*>(&v), 4);
    if (!in) throw std::runtime_error(path + ": truncated");
    return v;
  };
  const std::uint32_t version = u32();
  if (version != 1)
    throw std::runtime_error(path + ": version " + std::to_string(version) +
                             ", this reader knows 1: regenerate it with dump_reference.py");
  const std::uint32_t count = u32();
  reference_file r;
  for (std::uint32_t t = 0; t < count; ++t) {
    std::string name(u32(), '\0');
    in.read(&name[0], static_cast<std::streamsize>(name.size()));
    ref_tensor rt;
    rt.is_int = u32() == 1;
    const std::uint32_t nd = u32();
    std::size_t n = 1;
    for (std::uint32_t d = 0; d < nd; ++d) {
      std::uint64_t v = 0;
      in.read(reinterpret_cast<char*>(&v), 8);
      rt.shape.push_back(static_cast<std::int64_t>(v));
      n *= static_cast<std::size_t>(v);
    }
    if (rt.is_int) {
      rt.i.resize(n);
      in.read(reinterpret_cast<char*>(rt.i.data()), static_cast<std::streamsize>(4 * n));
    } else {
      rt.f.resize(n);
      in.read(reinterpret_cast<char*>(rt.f.data()), static_cast<std::streamsize>(4 * n));
    }
    if (!in) throw std::runtime_error(path + ": truncated in " + name);
    r.order.push_back(name);
    r.tensors.emplace(name, std::move(rt));
  }
  return r;
}

}  // namespace detkit_test

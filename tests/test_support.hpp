// tests/test_support.hpp — small helpers shared by the tests: fixture paths, temp dirs, file I/O.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace detkit_test {

/// Path of a committed fixture under tests/fixtures/.
inline std::string fixture(const std::string& relative) {
  return std::string(DETKIT_FIXTURES_DIR) + "/" + relative;
}

/// A fresh directory under the build tree's test work dir, unique per process and name.
inline std::string work_dir(const std::string& name) {
  std::string dir =
      std::string(DETKIT_TEST_WORK_DIR) + "/" + name + "." + std::to_string(::getpid());
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot create " + dir);
  return dir;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace detkit_test

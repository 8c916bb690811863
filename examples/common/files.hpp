// examples/common/files.hpp — making output folders (std::filesystem, no shell): the one way the
// programs create DIR/, DIR/drawn/, a run's folder.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "common/cli.hpp"

namespace detkit_cli {

/// Creates `path` and its parents (an existing folder is fine); on failure exits `code` (the
/// program's "cannot write" status) with "<program>: cannot create folder '<path>': <reason>".
inline void make_folder(const char* program, const std::string& path, int code = 1) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) die(program, code, "cannot create folder '" + path + "': " + ec.message());
}

}  // namespace detkit_cli

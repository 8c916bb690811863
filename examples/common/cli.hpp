// examples/common/cli.hpp — the programs' error exit: "<program>: <message>" and an exit code.
// Options are read by each program's option table (common/options.hpp); what an option means
// (target lists, attributes, caps) is parsed by the library (detkit/class_selection.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace detkit_cli {

/// Prints "<program>: <msg>" on stderr and exits with `code` (2 bad input, 1 cannot write).
[[noreturn]] inline void die(const char* program, int code, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", program, msg.c_str());
  std::exit(code);
}

}  // namespace detkit_cli

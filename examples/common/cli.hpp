// examples/common/cli.hpp — the command-line pieces the detkit programs share: the located usage
// error exit and reading an option's value(s) from argv. Each program keeps its own option loop
// and usage text; what an option means (target lists, attributes, caps) is parsed by the library
// (detkit/class_selection.hpp), not here.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace detkit_cli {

/// Prints "<program>: <msg>" on stderr and exits with `code` (2 bad input, 1 cannot write).
[[noreturn]] inline void die(const char* program, int code, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", program, msg.c_str());
  std::exit(code);
}

/// `text` as a finite number for `option`; anything else (empty, trailing characters, nan, inf) is
/// the usage error "not a number: <option> <text>".
inline double finite_number(const char* program, const std::string& option,
                            const std::string& text) {
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(d))
    die(program, 2, "not a number: " + option + " " + text);
  return d;
}

/// Reads option values out of argv for one program; every misuse exits 2 with "(see --help)".
class arg_reader {
 public:
  arg_reader(const char* program, int argc, char** argv)
      : program_(program), argc_(argc), argv_(argv) {}

  [[noreturn]] void usage_error(const std::string& msg) const {
    die(program_, 2, msg + " (see --help)");
  }

  /// The value after the option argv[i] (i moves onto it). A missing value, or a next argument
  /// that is itself an option ("--x"), is a usage error: "--out --quiet" never writes "--quiet".
  std::string value(int& i) const {
    if (!has_value_after(i)) usage_error(std::string(argv_[i]) + " needs a value");
    return argv_[++i];
  }

  /// Every argument after the option argv[i] up to the next option (i moves onto the last one),
  /// e.g. "--boxes a.csv b.csv"; may be empty (the caller decides whether that is an error).
  std::vector<std::string> values(int& i) const {
    std::vector<std::string> out;
    while (has_value_after(i)) out.emplace_back(argv_[++i]);
    return out;
  }

  /// Appends values(i) to `to` (options like --boxes may be given more than once); `to` still
  /// empty afterwards is the usage error "<option> needs at least one <what>".
  void append_values(int& i, std::vector<std::string>& to, const char* what) const {
    const std::string option = argv_[i];
    for (auto& v : values(i)) to.push_back(std::move(v));
    if (to.empty()) usage_error(option + " needs at least one " + what);
  }

 private:
  bool has_value_after(int i) const {
    return i + 1 < argc_ && std::strncmp(argv_[i + 1], "--", 2) != 0;
  }

  const char* program_;
  int argc_;
  char** argv_;
};

}  // namespace detkit_cli

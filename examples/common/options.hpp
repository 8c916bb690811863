// examples/common/options.hpp — one declarative option table per program: each row names an
// option, its value's type and range, its default and its help, and binds it to a field of the
// program's options struct. The table prints --help and checks every value before the program
// runs; a bad value exits 2 with the program, the option and the text that was read:
//
//     detkit-eval: --iou: expected a number in [0,1], got 'abc' (not a number: --iou abc)
//
//     options o;
//     detkit_cli::option_table t("detkit-foo", "usage: detkit-foo --in FILE [options]\n");
//     t.text("--in", "FILE", &o.in, "input file");
//     t.number("--iou", "X", &o.iou, 0, 1, "IoU threshold (default 0.5)");
//     t.integer("--threads", "N", &o.threads, 0, 1024, "worker threads (default: all cores)");
//     t.parse(argc, argv);   // --help prints and exits 0; a bad value exits 2
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/cli.hpp"

namespace detkit_cli {

/// "[lo,hi]" with "inf" for an open end and whole numbers without a fraction.
inline std::string range_text(double lo, double hi) {
  auto one = [](double v) -> std::string {
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    char b[32];
    std::snprintf(b, sizeof b, "%.15g", v);
    return b;
  };
  return "[" + one(lo) + "," + one(hi) + "]";
}

/// `text` as a finite double, or false (empty, trailing characters, nan, inf).
inline bool read_finite(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && std::isfinite(out);
}

/// "a,b,,c" -> {"a", "b", "", "c"} (empty items kept, so a caller can refuse them).
inline std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  for (std::size_t b = 0; b <= v.size();) {
    const std::size_t e = std::min(v.find(',', b), v.size());
    out.push_back(v.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

class option_table {
 public:
  /// `usage` opens --help (the synopsis and what the program does); `epilogue` closes it.
  explicit option_table(std::string program, std::string usage = "", std::string epilogue = "")
      : program_(std::move(program)), usage_(std::move(usage)), epilogue_(std::move(epilogue)) {}

  const std::string& program() const { return program_; }

  /// A heading line in --help before the rows declared after it.
  option_table& section(const std::string& title) {
    rows_.push_back(row{"", "", title, nullptr, row_kind::heading});
    return *this;
  }
  /// Free text in --help (examples, formats) after the rows declared before it.
  option_table& note(const std::string& text) {
    rows_.push_back(row{"", "", text, nullptr, row_kind::note});
    return *this;
  }

  /// An option without a value: sets *to = true.
  option_table& flag(const std::string& name, bool* to, const std::string& help) {
    return add(name, "", help, row_kind::flag, [to](const std::string&) {
      *to = true;
      return std::string();
    });
  }
  /// An option without a value that runs `act`.
  option_table& action(const std::string& name, const std::string& help,
                       std::function<void()> act) {
    return add(name, "", help, row_kind::flag, [act](const std::string&) {
      act();
      return std::string();
    });
  }

  /// Any text (a path, a name, a list the program parses itself).
  option_table& text(const std::string& name, const std::string& metavar, std::string* to,
                     const std::string& help) {
    return add(name, metavar, help, row_kind::one, [to](const std::string& v) {
      *to = v;
      return std::string();
    });
  }

  /// One or more values up to the next option ("--boxes a.csv b.csv"); may be repeated.
  option_table& values(const std::string& name, const std::string& metavar,
                       std::vector<std::string>* to, const std::string& help) {
    return add(name, metavar, help, row_kind::many, [to](const std::string& v) {
      to->push_back(v);
      return std::string();
    });
  }

  /// One of `choices`.
  option_table& choice(const std::string& name, std::string* to, std::vector<std::string> choices,
                       const std::string& help, const std::string& metavar = "") {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
    return add(name, metavar.empty() ? list : metavar, help, row_kind::one,
               [to, choices, list](const std::string& v) {
                 for (const auto& c : choices)
                   if (c == v) {
                     *to = v;
                     return std::string();
                   }
                 return "expected one of " + list + ", got '" + v + "'";
               });
  }

  /// A finite number in [lo, hi], stored in a double or a float.
  template <class Real>
  option_table& number(const std::string& name, const std::string& metavar, Real* to, double lo,
                       double hi, const std::string& help) {
    static_assert(std::is_floating_point<Real>::value, "number() stores a floating-point value");
    return add(name, metavar, help, row_kind::one, [name, to, lo, hi](const std::string& v) {
      double d = 0;
      const std::string err = check_number(name, v, lo, hi, false, d);
      if (err.empty()) *to = static_cast<Real>(d);
      return err;
    });
  }

  /// A whole number in [lo, hi], stored in any integer type (or a double holding one).
  template <class Int>
  option_table& integer(const std::string& name, const std::string& metavar, Int* to, double lo,
                        double hi, const std::string& help) {
    return add(name, metavar, help, row_kind::one, [name, to, lo, hi](const std::string& v) {
      double d = 0;
      const std::string err = check_number(name, v, lo, hi, true, d);
      if (err.empty()) *to = static_cast<Int>(d);
      return err;
    });
  }

  /// A value the program checks itself: `check` returns "" or what was expected ("expected
  /// LABEL:LO:HI, got 'x'"), which the table prefixes with the program and the option.
  option_table& custom(const std::string& name, const std::string& metavar, const std::string& help,
                       std::function<std::string(const std::string&)> check) {
    return add(name, metavar, help, row_kind::one, std::move(check));
  }

  /// Arguments that are not options ("detkit-eval diff A.json B.json"); without this, one is a
  /// usage error.
  option_table& positionals(std::vector<std::string>* to) {
    positionals_ = to;
    return *this;
  }

  /// The --help text: the usage, one line per row (name, metavar, help; longer help lines are
  /// indented under the first), the epilogue.
  std::string help() const {
    std::string out = usage_;
    std::size_t width = 0;
    for (const row& r : rows_)
      if (r.kind != row_kind::heading && r.kind != row_kind::note)
        width = std::max(width, label(r).size());
    width = std::max<std::size_t>(std::min<std::size_t>(width, 22), 6);
    for (const row& r : rows_) {
      if (r.kind == row_kind::heading) {
        out += "\n" + r.help + "\n";
        continue;
      }
      if (r.kind == row_kind::note) {
        out += r.help;
        if (!r.help.empty() && r.help.back() != '\n') out += '\n';
        continue;
      }
      std::string line = "  " + label(r);
      const std::string pad(2 + width + 2, ' ');
      if (line.size() < pad.size()) {
        line.resize(pad.size(), ' ');
      } else {
        line += "\n" + pad;
      }
      // Continuation lines of the help text are indented under its first line.
      for (char c : r.help) {
        line += c;
        if (c == '\n') line += pad;
      }
      out += line + "\n";
    }
    out += "  --help" + std::string(width + 2 - 6, ' ') + "this text\n";
    return out + epilogue_;
  }

  /// Reads argv[first..argc) into the bound fields. --help / -h prints help() and exits 0; an
  /// unknown option, a missing value or a bad value exits 2 with the message on stderr.
  void parse(int argc, char** argv, int first = 1) const {
    for (int i = first; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::fputs(help().c_str(), stdout);
        std::exit(0);
      }
      const row* r = find(a);
      if (!r) {
        if (positionals_ && a.rfind("--", 0) != 0) {
          positionals_->push_back(a);
          continue;
        }
        die(program_.c_str(), 2, "unknown option '" + a + "' (see --help)");
      }
      if (r->kind == row_kind::flag) {
        r->set("");
        continue;
      }
      // A value never starts with "--": "--out --quiet" never writes a file named "--quiet".
      if (!(i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0))
        die(program_.c_str(), 2, a + " needs a value (see --help)");
      if (r->kind == row_kind::many) {
        while (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) apply(*r, argv[++i]);
        continue;
      }
      apply(*r, argv[++i]);
    }
  }

  /// Exits 2 with "<program>: <message> (see --help)": for rules across options.
  [[noreturn]] void usage_error(const std::string& message) const {
    die(program_.c_str(), 2, message + " (see --help)");
  }

 private:
  enum class row_kind { flag, one, many, heading, note };
  struct row {
    std::string name, metavar, help;
    std::function<std::string(const std::string&)> set;  // "" or what was expected
    row_kind kind;
  };

  option_table& add(const std::string& name, const std::string& metavar, const std::string& help,
                    row_kind kind, std::function<std::string(const std::string&)> set) {
    rows_.push_back(row{name, metavar, help, std::move(set), kind});
    return *this;
  }

  static std::string label(const row& r) {
    return r.metavar.empty() ? r.name : r.name + " " + r.metavar;
  }

  const row* find(const std::string& name) const {
    for (const row& r : rows_)
      if (r.name == name && r.set) return &r;
    return nullptr;
  }

  void apply(const row& r, const std::string& value) const {
    const std::string err = r.set(value);
    if (!err.empty()) die(program_.c_str(), 2, r.name + ": " + err);
  }

  static std::string check_number(const std::string& name, const std::string& v, double lo,
                                  double hi, bool whole, double& out) {
    const bool bounded = !(std::isinf(lo) && std::isinf(hi));
    const std::string expected =
        std::string(whole ? "expected a whole number" : "expected a number") +
        (bounded ? " in " + range_text(lo, hi) : std::string()) + ", got '" + v + "'";
    if (!read_finite(v, out)) return expected + " (not a number: " + name + " " + v + ")";
    if (out < lo || out > hi || (whole && out != std::floor(out))) return expected;
    return {};
  }

  std::string program_, usage_, epilogue_;
  std::vector<row> rows_;
  std::vector<std::string>* positionals_ = nullptr;
};

}  // namespace detkit_cli

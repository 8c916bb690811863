// detkit/open_images_classes.hpp — Open Images class descriptions (MID → display name) and target
// class resolution by exact name, with "did you mean" on a miss.
//
// Reads every published layout:
// - V4/V5 `class-descriptions-boxable.csv`: no header, LF, `MID,DisplayName`;
// - V7 `oidv7-class-descriptions-boxable.csv`: header `LabelName,DisplayName`, CRLF;
// - the ~20k-row image-level vocabulary, which quotes names (`"Fiat 500 ""topolino"""`).
// A first row whose first field does not start with '/' is a header. Names are matched exactly
// (case-sensitive, as in the files), with '_' accepted for ' ' as the recipe's notebooks spell
// them; never by substring (`Toilet` is not `Toilet paper`, `Bed` is not `Sofa bed`).
//
// The readers are `template <class = void>` only so that a file including this header
// instantiates their bodies (the CSV scan and the containers they use) when it calls them, not
// before (bench/compile_time.sh measures it).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detkit/csv.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

/// All classes of a class-descriptions file, in file order.
struct class_table {
  std::vector<class_info> classes;
  std::unordered_map<std::string, std::size_t> by_mid;  // MID → index into classes

  /// Index of `mid`, or -1.
  std::ptrdiff_t find_mid(std::string_view mid) const {
    auto it = by_mid.find(std::string(mid));
    return it == by_mid.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
  }
};

/// Parses class descriptions from memory (see try_read_class_descriptions).
template <class = void>
[[nodiscard]] result<class_table> try_parse_class_descriptions(const csv_file& file,
                                                               csv_options opt = {}) {
  opt.header = header_mode::absent;  // decided below from the first row
  auto layout = try_read_layout(file, opt, {"LabelName", "DisplayName"});
  if (!layout) return std::move(layout).error();
  if (layout->field_count == 0) {
    return detail::csv_error_at(file, errc::csv_empty, 0, 0,
                                "no classes: expected lines 'MID,DisplayName'");
  }
  class_table out;
  bool first = true;
  auto rep = try_scan(
      file, *layout, opt, no_prefilter{}, [&](const csv_record& r, row_error& e) -> row_action {
        if (first) {
          first = false;
          if (r[0].empty() || r[0][0] != '/') {
            if (r[0] != "LabelName" || r[1] != "DisplayName") {
              e.code = errc::csv_missing_column;
              e.field = 0;
              e.message =
                  "expected the header 'LabelName,DisplayName' or a first "
                  "row 'MID,DisplayName', got '" +
                  std::string(r[0]) + "," + std::string(r[1]) + "'";
              return row_action::fail;
            }
            return row_action::filter;  // the V7 header
          }
        }
        if (r[0].size() < 2 || r[0][0] != '/') {
          e.code = errc::csv_bad_value;
          e.field = 0;
          e.message = "expected a MID like '/m/03ssj5', got '" + std::string(r[0]) + "'";
          return row_action::fail;
        }
        std::string mid(r[0]);
        auto ins = out.by_mid.emplace(mid, out.classes.size());
        if (!ins.second) {
          e.code = errc::oi_duplicate_key;
          e.field = 0;
          e.message = "MID '" + mid + "' appears twice (first as '" +
                      out.classes[ins.first->second].name + "')";
          return row_action::fail;
        }
        out.classes.push_back(class_info{std::move(mid), std::string(r[1])});
        return row_action::keep;
      });
  if (!rep) return std::move(rep).error();
  if (out.classes.empty()) {
    return detail::csv_error_at(file, errc::csv_empty, 0, 0,
                                "no classes: expected lines 'MID,DisplayName'");
  }
  return out;
}

/// Reads a class-descriptions file (any of the layouts above).
///
///     auto classes = detkit::try_read_class_descriptions("class-descriptions-boxable.csv");
template <class = void>
[[nodiscard]] result<class_table> try_read_class_descriptions(const std::string& path,
                                                              csv_options opt = {}) {
  auto f = csv_file::try_open(path);
  if (!f) return std::move(f).error();
  return try_parse_class_descriptions(*f, opt);
}
template <class = void>
class_table read_class_descriptions(const std::string& path, csv_options opt = {}) {
  return try_read_class_descriptions(path, opt).value();
}

namespace detail {

inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Levenshtein distance on bytes, two rows.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace detail

/// Up to `max` display names close to `name`: case-insensitive equals first, then names within
/// a small edit distance, then names that contain it as a word-insensitive substring.
template <class = void>
std::vector<std::string> suggest_class_names(const class_table& table, std::string_view name,
                                             std::size_t max = 3) {
  const std::string want = detail::lower_ascii(name);
  std::vector<std::pair<std::size_t, std::string>> scored;  // (score, name)
  for (const auto& c : table.classes) {
    const std::string have = detail::lower_ascii(c.name);
    std::size_t score;
    if (have == want) {
      score = 0;
    } else {
      const std::size_t d = detail::edit_distance(want, have);
      const std::size_t allowed = std::max<std::size_t>(2, want.size() / 4);
      if (d <= allowed) {
        score = d;
      } else if (want.size() >= 3 && have.find(want) != std::string::npos) {
        score = 100 + have.size();
      } else {
        continue;
      }
    }
    scored.emplace_back(score, c.name);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == max) break;
    if (std::find(out.begin(), out.end(), s.second) == out.end()) out.push_back(s.second);
  }
  return out;
}

/// Resolves target class names (or MIDs such as "/m/03ssj5") to classes. The result's order is
/// the order of `names`, so category id = position in the user's list. A name matches exactly; if
/// not, the same name with '_' replaced by ' ' is tried. A miss is an oi_unknown_class error with
/// suggestions; a name given twice, or a name that several MIDs share, is an error too.
template <class = void>
[[nodiscard]] result<std::vector<class_info>> try_resolve_classes(
    const class_table& table, const std::vector<std::string>& names) {
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = 0; i < table.classes.size(); ++i)
    by_name[table.classes[i].name].push_back(i);
  std::vector<class_info> out;
  for (const auto& raw : names) {
    std::size_t idx = 0;
    if (!raw.empty() && raw[0] == '/') {
      const auto m = table.find_mid(raw);
      if (m < 0) {
        return make_error(errc::oi_unknown_mid,
                          "MID '" + raw + "' is not in the class descriptions");
      }
      idx = static_cast<std::size_t>(m);
    } else {
      auto it = by_name.find(raw);
      if (it == by_name.end()) {
        std::string spaced = raw;
        std::replace(spaced.begin(), spaced.end(), '_', ' ');
        it = by_name.find(spaced);
      }
      if (it == by_name.end()) {
        std::string msg = "unknown class '" + raw + "'";
        std::string spaced = raw;
        std::replace(spaced.begin(), spaced.end(), '_', ' ');
        const auto sugg = suggest_class_names(table, spaced);
        if (!sugg.empty()) {
          msg += "; did you mean ";
          for (std::size_t i = 0; i < sugg.size(); ++i) {
            if (i) msg += i + 1 == sugg.size() ? " or " : ", ";
            msg += "'" + sugg[i] + "'";
          }
          msg += '?';
        } else {
          msg += " (names are case-sensitive, as in the class descriptions file)";
        }
        return make_error(errc::oi_unknown_class, std::move(msg));
      }
      if (it->second.size() > 1) {
        std::string msg = "class name '" + it->first + "' is ambiguous: MIDs";
        for (std::size_t i : it->second) msg += " " + table.classes[i].mid;
        return make_error(errc::oi_unknown_class, msg + "; give the MID instead");
      }
      idx = it->second.front();
    }
    const class_info& c = table.classes[idx];
    for (const auto& prev : out) {
      if (prev.mid == c.mid) {
        return make_error(errc::oi_duplicate_key,
                          "class '" + c.name + "' (" + c.mid + ") is listed twice");
      }
    }
    out.push_back(c);
  }
  if (out.empty()) return make_error(errc::oi_unknown_class, "no target classes given");
  return out;
}

DETKIT_END_NAMESPACE

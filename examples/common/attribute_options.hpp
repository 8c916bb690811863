// examples/common/attribute_options.hpp — --exclude ATTR,... and --require ATTR=0|1, the box
// attribute filters of detkit-prepare and detkit-download (detkit-subset spells the first --drop:
// its --exclude removes classes). The library parses the attribute names; each option is also
// recorded in `settings`, which goes into the label cache's fingerprint.
#pragma once

#include <string>

#include "common/options.hpp"
#include "detkit/class_selection.hpp"

namespace detkit_cli {

inline void add_attribute_options(option_table& t, detkit::attribute_filter& attrs,
                                  std::string& settings) {
  t.custom("--exclude", "ATTR,...",
           "drop boxes whose flag is 1: occluded, truncated, group-of, depiction,\n"
           "inside (a -1 = unknown flag is kept).",
           [&attrs, &settings](const std::string& v) -> std::string {
             for (const auto& n : detkit::split_list(v)) {
               auto r = detkit::try_set_attribute_rule(attrs, n, detkit::flag_rule::exclude_yes);
               if (!r) return r.error().message;
             }
             settings += ";exclude=" + v;
             return {};
           })
      .custom("--require", "ATTR=0|1",
              "keep only boxes whose flag is exactly 0 (or 1); -1 = unknown is dropped.",
              [&attrs, &settings](const std::string& v) -> std::string {
                if (auto r = detkit::try_set_attribute_requirement(attrs, v); !r)
                  return r.error().message;
                settings += ";require=" + v;
                return {};
              });
}

}  // namespace detkit_cli

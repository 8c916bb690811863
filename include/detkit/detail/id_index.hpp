// detkit/detail/id_index.hpp — COCO ids (any int64) to dense indices. Not API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {
/// id → dense index: a table when the ids are compact, else a sorted vector and binary search.
class id_index {
 public:
  static constexpr std::uint32_t npos = 0xffffffffu;
  // `sorted_ids` ascending and unique.
  explicit id_index(const std::vector<std::int64_t>& sorted_ids) {
    if (sorted_ids.empty()) return;
    min_ = sorted_ids.front();
    const std::int64_t max = sorted_ids.back();
    const std::uint64_t range = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min_);
    if (range < 8 * sorted_ids.size() + 4096) {
      table_.assign(static_cast<std::size_t>(range) + 1, npos);
      for (std::size_t i = 0; i < sorted_ids.size(); ++i) {
        table_[static_cast<std::size_t>(static_cast<std::uint64_t>(sorted_ids[i]) -
                                        static_cast<std::uint64_t>(min_))] =
            static_cast<std::uint32_t>(i);
      }
    } else {
      sorted_ = &sorted_ids;
    }
  }
  std::uint32_t find(std::int64_t id) const {
    if (!table_.empty()) {
      if (id < min_) return npos;
      const std::uint64_t off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
      return off < table_.size() ? table_[static_cast<std::size_t>(off)] : npos;
    }
    if (!sorted_) return npos;
    auto it = std::lower_bound(sorted_->begin(), sorted_->end(), id);
    if (it == sorted_->end() || *it != id) return npos;
    return static_cast<std::uint32_t>(it - sorted_->begin());
  }

 private:
  std::int64_t min_ = 0;
  std::vector<std::uint32_t> table_;
  const std::vector<std::int64_t>* sorted_ = nullptr;
};
}  // namespace detail
DETKIT_END_NAMESPACE

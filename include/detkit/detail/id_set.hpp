// detkit/detail/id_set.hpp — two small open-addressing hash tables for the Open Images joins.
//
// Not API. u64_set: 64-bit ImageIDs (a set of 34k targets fits in L2, csv.md §3). short_key_map:
// MIDs → int32, keyed on the exact bytes (length + up to 16 bytes packed in two words; longer keys
// compared as strings), so "/m/01dws" (Bear) can never match "/m/01dwsz" (Waffle). Both are
// built once and then only read, so lookups from several threads are safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "detkit/config.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

inline std::uint64_t mix64_ids(std::uint64_t x) noexcept {
  // splitmix64 finaliser: good spread for sequential or hex-derived keys.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline std::size_t table_size_for(std::size_t n) noexcept {
  std::size_t cap = 16;
  while (cap < n * 2 + 2) cap <<= 1;
  return cap;
}

/// A set of 64-bit keys (open addressing, linear probing, load <= 1/2).
class u64_set {
 public:
  u64_set() : slots_(16, 0), used_(16, 0) {}

  void insert(std::uint64_t key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = mix64_ids(key) & (slots_.size() - 1);
    while (used_[i]) {
      if (slots_[i] == key) return;
      i = (i + 1) & (slots_.size() - 1);
    }
    used_[i] = 1;
    slots_[i] = key;
    ++size_;
  }
  bool contains(std::uint64_t key) const noexcept {
    std::size_t i = mix64_ids(key) & (slots_.size() - 1);
    while (used_[i]) {
      if (slots_[i] == key) return true;
      i = (i + 1) & (slots_.size() - 1);
    }
    return false;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  void grow() {
    std::vector<std::uint64_t> old_slots = std::move(slots_);
    std::vector<std::uint8_t> old_used = std::move(used_);
    slots_.assign(old_slots.size() * 2, 0);
    used_.assign(old_slots.size() * 2, 0);
    size_ = 0;
    for (std::size_t i = 0; i < old_slots.size(); ++i) {
      if (old_used[i]) insert(old_slots[i]);
    }
  }
  std::vector<std::uint64_t> slots_;
  std::vector<std::uint8_t> used_;
  std::size_t size_ = 0;
};

/// Exact-bytes map from short strings (MIDs) to int32 values.
class short_key_map {
 public:
  static constexpr std::int32_t absent = -1;

  /// Adds a key; a key added twice keeps its first value.
  void insert(std::string_view key, std::int32_t value) {
    entries_.push_back({std::string(key), value});
    rebuild();
  }
  std::int32_t find(std::string_view key) const noexcept {
    if (DETKIT_UNLIKELY(key.size() > 16)) return find_long(key);
    std::uint64_t a, b;
    pack(key, a, b);
    std::size_t i = slot_of(a, b);
    for (;;) {
      const slot& s = slots_[i];
      if (s.value == absent) return absent;
      if (s.a == a && s.b == b && s.len == key.size()) return s.value;
      i = (i + 1) & mask_;
    }
  }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  // Keys over 16 bytes (no real MID is that long): a linear search, kept out of line so that
  // find() stays small enough to inline into the scan loop.
  DETKIT_NOINLINE std::int32_t find_long(std::string_view key) const noexcept {
    for (const auto& e : entries_) {
      if (e.key == key) return e.value;
    }
    return absent;
  }
  struct entry {
    std::string key;
    std::int32_t value;
  };
  struct slot {
    std::uint64_t a = 0, b = 0;
    std::uint32_t len = 0;
    std::int32_t value = absent;
  };
  // Exact packing of a key of <= 16 bytes into two words without reading outside it: two
  // overlapping loads (first and last 8, or 4, bytes). For a fixed length the loads determine
  // every byte, so equal words and equal lengths mean equal keys.
  static void pack(std::string_view key, std::uint64_t& a, std::uint64_t& b) noexcept {
    const std::size_t n = key.size();
    const char* p = key.data();
    a = b = 0;
    if (n >= 8) {
      std::memcpy(&a, p, 8);
      std::memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
      std::uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      a = x;
      b = y;
    } else {
      for (std::size_t i = 0; i < n; ++i)
        a |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
  }
  std::size_t slot_of(std::uint64_t a, std::uint64_t b) const noexcept {
    return static_cast<std::size_t>(((a ^ (b * 0xff51afd7ed558ccdULL)) * 0xc4ceb9fe1a85ec53ULL) >>
                                    shift_);
  }
  void rebuild() {
    std::size_t cap = 16;
    unsigned bits = 4;
    while (cap < entries_.size() * 4) {
      cap <<= 1;
      ++bits;
    }
    slots_.assign(cap, slot{});
    mask_ = cap - 1;
    shift_ = 64 - bits;
    for (const auto& e : entries_) {
      if (e.key.size() > 16) continue;
      std::uint64_t a, b;
      pack(e.key, a, b);
      std::size_t i = slot_of(a, b);
      bool dup = false;
      while (slots_[i].value != absent) {
        if (slots_[i].a == a && slots_[i].b == b && slots_[i].len == e.key.size()) dup = true;
        i = (i + 1) & mask_;
      }
      if (!dup) slots_[i] = slot{a, b, static_cast<std::uint32_t>(e.key.size()), e.value};
    }
  }
  std::vector<entry> entries_;
  std::vector<slot> slots_ = std::vector<slot>(16);
  std::size_t mask_ = 15;
  unsigned shift_ = 60;
};

}  // namespace detail
DETKIT_END_NAMESPACE

// tests/fuzz/fuzz_label_cache.cpp — libFuzzer entry for the label cache reader
// (include/detkit/label_cache.hpp). Any bytes must give a label_cache or an error, never a crash,
// and an accepted file must be fully readable through its views. The bytes go through a memfd
// because try_open maps a path, as it does for real caches. Each input is tried twice: as is, and
// "resealed" (every checksum recomputed), because a mutation almost never survives the checksums
// and the entry checks behind them (string references, box ranges, category ids) are what keeps
// the views in bounds.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "detkit/label_cache.hpp"

namespace {

// Recomputes the section, payload and header checksums in place (as a writer would).
void reseal(std::vector<std::uint8_t>& bytes) {
  using namespace detkit::detail;
  if (bytes.size() < cache_head_bytes) return;
  cache_header h;
  cache_section_entry table[cache_section_count];
  std::memcpy(&h, bytes.data(), sizeof h);
  std::memcpy(table, bytes.data() + sizeof h, sizeof table);
  const std::uint64_t block = h.hash_block_bytes;
  if (block < 4096 || block > (64u << 20)) return;
  for (auto& s : table) {
    if (s.offset > bytes.size() || s.bytes > bytes.size() - s.offset) continue;
    std::vector<std::uint64_t> hashes;
    for (std::uint64_t lo = 0, k = 0; lo < s.bytes; lo += block, ++k) {
      const std::uint64_t n = std::min(block, s.bytes - lo);
      hashes.push_back(
          cache_block_hash(bytes.data() + s.offset + lo, static_cast<std::size_t>(n), k));
    }
    s.checksum = cache_section_checksum(hashes, s.type);
  }
  h.payload_checksum = cache_payload_checksum(table, cache_section_count);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + sizeof h, table, sizeof table);
  const std::uint64_t hc = cache_header_checksum(bytes.data());
  std::memcpy(bytes.data() + offsetof(cache_header, header_checksum), &hc, 8);
}

void try_bytes(int fd, const std::uint8_t* data, std::size_t size) {
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t w = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (w <= 0) std::abort();
    done += static_cast<std::size_t>(w);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (auto verify : {detkit::cache_verify::full, detkit::cache_verify::structure}) {
    detkit::cache_open_options opt;
    opt.verify = verify;
    auto cache = detkit::label_cache::try_open(path, opt);
    if (!cache) {
      // Every failure is located in the file and carries a code.
      if (cache.error().code == detkit::errc::ok) std::abort();
      continue;
    }
    // Touch everything a user can reach; structure mode promises in-bounds views too.
    std::uint64_t sum = 0;
    for (const auto& c : cache->classes())
      sum += cache->class_mid(c).size() + cache->class_name(c).size();
    for (const auto& img : cache->images()) {
      sum += cache->image_id(img).size() + cache->file_name(img).size();
      for (const auto& b : cache->boxes_of(img)) sum += static_cast<std::uint64_t>(b.category_id);
    }
    const detkit::label_set ls = cache->to_label_set();
    if (ls.images.size() != cache->images().size()) std::abort();
    const detkit::cache_fingerprint fp = cache->fingerprint();
    if (verify == detkit::cache_verify::full && !cache->verify_sources(fp)) std::abort();
    if (sum == 0xdeadbeefULL) std::abort();  // keeps the loop from being optimised away
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("detkit_fuzz_label_cache", 0);
  if (fd < 0) std::abort();
  try_bytes(fd, data, size);
  std::vector<std::uint8_t> sealed(data, data + size);
  reseal(sealed);
  try_bytes(fd, sealed.data(), sealed.size());
  return 0;
}

// tests/fuzz/fuzz_label_cache.cpp — libFuzzer entry for the label cache reader
// (include/detkit/label_cache.hpp). Any bytes must give a label_cache or an error, never a crash,
// and an accepted file must be fully readable through its views. The bytes go through a memfd
// because try_open maps a path, as it does for real caches.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "detkit/label_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("detkit_fuzz_label_cache", 0);
  if (fd < 0) std::abort();
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
  return 0;
}

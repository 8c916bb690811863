// detkit/label_cache_fingerprint.hpp — the stale check's inputs: the fingerprint of each source
// file (size + hash of the first and last MiB, or of every byte) and of a whole preparation
// (files, class list, settings). label_cache::verify_sources compares a cache against one.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "detkit/detail/checksum.hpp"
#include "detkit/detail/mmap.hpp"
#include "detkit/error.hpp"
#include "detkit/label_cache_format.hpp"
#include "detkit/label_record.hpp"

DETKIT_BEGIN_NAMESPACE

namespace detail {

// pread exactly n bytes at pos (fewer only at end of file).
inline bool pread_all(int fd, void* out, std::size_t n, std::uint64_t pos) {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    pos += static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace detail

/// Fingerprint of one input file. quick: size + hash of the first and last MiB (two preads);
/// full: size + hash of every byte (mmap).
[[nodiscard]] inline result<source_fingerprint> try_fingerprint_file(
    const std::string& path, fingerprint_mode mode = fingerprint_mode::quick) {
  source_fingerprint fp;
  fp.path = path;
  fp.mode = mode;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return detail::cache_error(errc::io_open, path,
                               std::string("cannot stat source file: ") + std::strerror(errno));
  }
  fp.size = static_cast<std::uint64_t>(st.st_size);
  fp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  if (mode == fingerprint_mode::full) {
    auto m = detail::mapped_file::try_open(path);
    if (!m) return std::move(m).error();
    fp.hash = detail::hash64(m->data(), m->size(), fp.size);
    return fp;
  }
  constexpr std::uint64_t piece = 1u << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return detail::cache_error(errc::io_open, path,
                               std::string("cannot open source file: ") + std::strerror(errno));
  }
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(fp.size, 2 * piece)));
  bool ok = true;
  if (fp.size <= 2 * piece) {
    ok = detail::pread_all(fd, buf.data(), buf.size(), 0);
  } else {
    ok = detail::pread_all(fd, buf.data(), piece, 0) &&
         detail::pread_all(fd, buf.data() + piece, piece, fp.size - piece);
  }
  const int read_errno = errno;
  ::close(fd);
  if (!ok) {
    return detail::cache_error(
        errc::io_read, path,
        std::string("cannot read source file: ") +
            (read_errno ? std::strerror(read_errno) : "it shrank while being read"));
  }
  fp.hash = detail::hash64(buf.data(), buf.size(), fp.size);
  return fp;
}

/// Fingerprint of a whole preparation: every input file, the class list and the settings.
[[nodiscard]] inline result<cache_fingerprint> try_make_fingerprint(
    const std::vector<std::string>& source_paths, const std::vector<class_info>& classes,
    std::string settings = {}, fingerprint_mode mode = fingerprint_mode::quick) {
  cache_fingerprint fp;
  for (const auto& p : source_paths) {
    auto s = try_fingerprint_file(p, mode);
    if (!s) return std::move(s).error();
    fp.sources.push_back(std::move(*s));
  }
  fp.class_list_hash = hash_class_list(classes);
  fp.settings = std::move(settings);
  return fp;
}

DETKIT_END_NAMESPACE

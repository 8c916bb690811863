// detkit/atomic_file.hpp — write an output file so that readers see the old file or the whole new
// one, never half of it: write `<path>.tmp.<pid>`, fsync, rename over `<path>`.
// A failure (disk full, permission) removes the temp file and returns a located io_write error.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// An output file being written. Call commit() to publish it; destroying it uncommitted removes
/// the temp file, so an exception or early return never leaves a partial output behind.
///
///     detkit::atomic_file out;
///     if (auto r = out.try_open("labels.dkc"); !r) return r.error();
///     out.write(bytes);               // buffered by the OS; errors are sticky
///     if (auto r = out.commit(); !r) return r.error();
class atomic_file {
 public:
  atomic_file() = default;
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  ~atomic_file() { discard(); }

  [[nodiscard]] result<void> try_open(std::string path) {
    discard();
    path_ = std::move(path);
    tmp_ = path_ + ".tmp." + std::to_string(::getpid());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return os_error("cannot create temporary file '" + tmp_ + "'");
    failed_ = false;
    return {};
  }

  /// Appends bytes. The first failure is remembered and reported by commit().
  void write(const void* data, std::size_t n) {
    if (fd_ < 0 || failed_) return;
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        failed_ = true;
        errno_ = errno;
        return;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }

  /// Flushes to disk and renames the temp file over the destination.
  [[nodiscard]] result<void> commit() {
    if (fd_ < 0) return make_located(errc::io_write, "commit() without a successful try_open()");
    if (failed_) {
      errno = errno_;
      auto e = os_error("write failed");
      discard();
      return e;
    }
    if (::fsync(fd_) != 0 && errno != EINVAL) {
      auto e = os_error("fsync failed");
      discard();
      return e;
    }
    if (::close(fd_) != 0) {
      fd_ = -1;
      auto e = os_error("close failed");
      discard();
      return e;
    }
    fd_ = -1;
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      auto e = os_error("cannot rename '" + tmp_ + "' to the destination");
      discard();
      return e;
    }
    tmp_.clear();
    return {};
  }

  /// Removes the temp file (no-op after commit()).
  void discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    tmp_.clear();
  }

  const std::string& path() const noexcept { return path_; }

 private:
  error make_located(errc code, std::string msg) const {
    error e = make_error(code, std::move(msg));
    e.file = path_;
    return e;
  }
  error os_error(const std::string& what) const {
    return make_located(errc::io_write, what + ": " + std::strerror(errno));
  }

  std::string path_, tmp_;
  int fd_ = -1;
  bool failed_ = false;
  int errno_ = 0;
};

/// Writes a whole buffer atomically.
[[nodiscard]] inline result<void> try_write_file_atomically(const std::string& path,
                                                            std::string_view bytes) {
  atomic_file f;
  if (auto r = f.try_open(path); !r) return r;
  f.write(bytes);
  return f.commit();
}

DETKIT_END_NAMESPACE

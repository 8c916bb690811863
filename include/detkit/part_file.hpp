// detkit/part_file.hpp — the `.part` + rename protocol of a resumable download.
//
// A file being downloaded lives at `<path>.part` and is renamed to `<path>` only when it is
// complete and checked, so `<path>` is always whole (rename is atomic on POSIX). The `.part` file
// survives a crash or Ctrl-C and its length is the Range offset of the next attempt (what curl
// `-C -` and wget `-c` do, but with the final name reserved for complete files). The file is
// created on the first byte, so a 404 or a refused connection never leaves an empty file behind.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// `<path>.part`.
inline std::string part_path_of(const std::string& path) { return path + ".part"; }

/// Size of a regular file, or -1 when it does not exist or is not a regular file.
inline std::int64_t file_size_or_neg(const std::string& path) noexcept {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  return static_cast<std::int64_t>(st.st_size);
}

/// Writer for one `.part` file. Not thread-safe; one per transfer.
///
///     detkit::part_file part(out_path);
///     part.begin(resume_offset);        // 0, or the .part length when resuming with Range
///     if (server_ignored_range) part.restart();
///     if (!part.write(data, n)) ...     // errno in part.os_errno()
///     if (auto r = part.commit(); !r) ...  // rename .part -> final
class part_file {
 public:
  explicit part_file(std::string final_path)
      : final_(std::move(final_path)), part_(part_path_of(final_)) {}
  part_file(const part_file&) = delete;
  part_file& operator=(const part_file&) = delete;
  ~part_file() { close(); }

  /// Prepares an attempt that continues after `offset` bytes already in the .part file.
  void begin(std::uint64_t offset) noexcept {
    close();
    offset_ = offset;
    size_ = offset;
    errno_ = 0;
  }

  /// The server sent the whole file although we asked for a range: write from byte 0.
  void restart() noexcept {
    close();
    offset_ = 0;
    size_ = 0;
  }

  /// Appends bytes, opening the file on first use. False on failure (errno in os_errno()).
  bool write(const void* data, std::size_t n) noexcept {
    if (fd_ < 0 && !open_for_append()) return false;
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        errno_ = errno;
        return false;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      size_ += static_cast<std::uint64_t>(w);
    }
    return true;
  }

  /// Closes the file, keeping it for a later resume.
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// Removes the .part file (corrupt data, or the object changed on the server).
  void discard() noexcept {
    close();
    ::unlink(part_.c_str());
    size_ = 0;
    offset_ = 0;
  }

  /// Closes and renames the .part file to the final name.
  [[nodiscard]] result<void> commit() {
    if (fd_ >= 0) {
      const int rc = ::close(fd_);
      fd_ = -1;
      if (rc != 0) return os_error("close failed", errno);
    }
    if (std::rename(part_.c_str(), final_.c_str()) != 0)
      return os_error("cannot rename '" + part_ + "' to the final name", errno);
    return {};
  }

  std::uint64_t size() const noexcept { return size_; }      // bytes in the .part file
  std::uint64_t offset() const noexcept { return offset_; }  // where this attempt started
  int os_errno() const noexcept { return errno_; }
  const std::string& final_path() const noexcept { return final_; }
  const std::string& part_path() const noexcept { return part_; }

 private:
  bool open_for_append() noexcept {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (offset_ == 0 ? O_TRUNC : 0);
    fd_ = ::open(part_.c_str(), flags, 0644);
    if (fd_ < 0) {
      errno_ = errno;
      return false;
    }
    // Trust our offset, not the file: cut anything past it (a crashed writer's tail).
    if (offset_ > 0 && ::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) {
      errno_ = errno;
      close();
      return false;
    }
    if (::lseek(fd_, static_cast<off_t>(offset_), SEEK_SET) < 0) {
      errno_ = errno;
      close();
      return false;
    }
    return true;
  }

  error os_error(const std::string& what, int e) {
    errno_ = e;
    error err = make_error(errc::io_write, what + ": " + std::strerror(e));
    err.file = final_;
    return err;
  }

  std::string final_, part_;
  int fd_ = -1;
  std::uint64_t offset_ = 0, size_ = 0;
  int errno_ = 0;
};

DETKIT_END_NAMESPACE

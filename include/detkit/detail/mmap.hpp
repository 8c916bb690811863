// detkit/detail/mmap.hpp — read-only memory mapping of a whole file (POSIX), RAII.
// Not API. Empty files map to an empty view (mmap of length 0 is invalid, so no mapping is made).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE
namespace detail {

/// Access pattern hint given to the kernel (madvise).
enum class map_advice { sequential, random };

class mapped_file {
 public:
  mapped_file() = default;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~mapped_file() { reset(); }

  /// Maps `path` read-only. Errors name the file and the OS reason.
  [[nodiscard]] static result<mapped_file> try_open(const std::string& path,
                                                    map_advice advice = map_advice::sequential) {
    auto fail = [&](const char* what) {
      error e = make_error(errc::io_open, std::string(what) + ": " + std::strerror(errno));
      e.file = path;
      return e;
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("cannot open");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      error e = fail("cannot stat");
      ::close(fd);
      return e;
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      error e = make_error(errc::io_open, "is a directory, expected a file");
      e.file = path;
      return e;
    }
    mapped_file m;
    m.size_ = static_cast<std::size_t>(st.st_size);
    if (m.size_ > 0) {
      void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        error e = fail("cannot map");
        ::close(fd);
        return e;
      }
      m.data_ = static_cast<const char*>(p);
      ::madvise(p, m.size_, advice == map_advice::sequential ? MADV_SEQUENTIAL : MADV_RANDOM);
    }
    ::close(fd);  // the mapping keeps the file alive
    return m;
  }

  /// The byte at `offset` made writable in this process only (the mapping is private: the page is
  /// copied on write, the file never changes). nullptr if the page cannot be made writable.
  char* writable_byte(std::size_t offset) noexcept {
    if (!data_ || offset >= size_) return nullptr;
    const long page = ::sysconf(_SC_PAGESIZE);
    const std::size_t ps = page > 0 ? static_cast<std::size_t>(page) : 4096;
    char* base = const_cast<char*>(data_);
    char* at = base + (offset - offset % ps);
    if (::mprotect(at, ps, PROT_READ | PROT_WRITE) != 0) return nullptr;
    return base + offset;
  }

  /// Drops this process's pages of [begin, end) (whole pages inside it only); reading them again
  /// maps the file's bytes afresh. Keeps the resident size of a large sequential read small.
  void release(std::size_t begin, std::size_t end) noexcept {
    if (!data_ || end > size_ || begin >= end) return;
    const long page = ::sysconf(_SC_PAGESIZE);
    const std::size_t ps = page > 0 ? static_cast<std::size_t>(page) : 4096;
    const std::size_t b = (begin + ps - 1) / ps * ps, e = end / ps * ps;
    if (b < e) ::madvise(const_cast<char*>(data_) + b, e - b, MADV_DONTNEED);
  }

  const char* data() const noexcept { return data_ ? data_ : ""; }
  std::size_t size() const noexcept { return size_; }
  std::string_view view() const noexcept { return {data(), size_}; }

 private:
  void reset() noexcept {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
  }
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail
DETKIT_END_NAMESPACE

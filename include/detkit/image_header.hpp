// detkit/image_header.hpp — width and height of a JPEG or PNG from its header, without decoding.
//
// Mirrors what the recipe got from cv2.imread(...).shape (and what PIL's Image.size reads lazily):
// JPEG: walk the marker segments from SOI to the first SOFn frame header (SOF0–SOF15 except DHT
// C4, JPG C8 and DAC CC) and read its height/width; APPn/COM/DQT/DHT/... segments are skipped by
// their length field, so a 60 KB EXIF or ICC block costs one read, not a scan.
// PNG: the IHDR chunk that must follow the 8-byte signature.
// Files are read with pread in 4 KB windows at the positions the walk needs: a typical Open
// Images JPEG needs one or two reads, never the whole file. No EXIF orientation is applied: Open
// Images boxes refer to the pixels as stored (see reference notes, "Rotation").
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "detkit/box.hpp"
#include "detkit/error.hpp"

DETKIT_BEGIN_NAMESPACE

/// Limits for untrusted headers (stb's STBI_MAX_DIMENSIONS reasoning: refuse absurd sizes before
/// anyone allocates width*height*3 bytes for them).
struct image_header_options {
  std::int32_t max_dimension = 1 << 24;               // px per side (stb's default)
  std::uint64_t max_pixels = std::uint64_t{1} << 30;  // width*height
  std::uint64_t max_scan_bytes = 16u << 20;           // give up if no SOF within this many bytes
};

/// The container formats recognised.
enum class image_format : std::uint8_t { unknown, jpeg, png };

namespace detail {

// Random access to the first bytes of an image, from memory or from a file via pread.
class image_byte_source {
 public:
  explicit image_byte_source(std::string_view bytes) : mem_(bytes), in_memory_(true) {}
  explicit image_byte_source(int fd) : fd_(fd) {}

  // Copies n (≤ 64) bytes at pos into out; false when the data ends before pos+n.
  bool read(std::uint64_t pos, unsigned char* out, std::size_t n, int* os_errno) {
    if (in_memory_) {
      if (pos > mem_.size() || mem_.size() - pos < n) return false;
      std::memcpy(out, mem_.data() + pos, n);
      return true;
    }
    if (pos < win_pos_ || pos + n > win_pos_ + win_len_) {
      if (!fill(pos, os_errno)) return false;
      if (pos + n > win_pos_ + win_len_) return false;
    }
    std::memcpy(out, win_ + (pos - win_pos_), n);
    return true;
  }

 private:
  bool fill(std::uint64_t pos, int* os_errno) {
    win_pos_ = pos;
    win_len_ = 0;
    while (win_len_ < sizeof(win_)) {
      const ssize_t r = ::pread(fd_, win_ + win_len_, sizeof(win_) - win_len_,
                                static_cast<off_t>(pos + win_len_));
      if (r < 0) {
        if (errno == EINTR) continue;
        *os_errno = errno;
        return false;
      }
      if (r == 0) break;
      win_len_ += static_cast<std::size_t>(r);
    }
    return true;
  }

  std::string_view mem_;
  bool in_memory_ = false;
  int fd_ = -1;
  unsigned char win_[4096];
  std::uint64_t win_pos_ = 0;
  std::size_t win_len_ = 0;
};

inline error image_error(errc code, const std::string& name, std::uint64_t offset,
                         std::string message) {
  error e = make_error(code, std::move(message));
  e.file = name;
  e.byte_offset = offset;
  e.has_offset = true;
  return e;
}

inline std::string hex_bytes(const unsigned char* p, std::size_t n) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

inline std::uint32_t be16(const unsigned char* p) { return std::uint32_t{p[0]} << 8 | p[1]; }
inline std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// SOFn markers carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range
// but are not frame headers.
constexpr bool is_sof_marker(unsigned m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

inline result<image_size> check_limits(image_size s, const char* what, const std::string& name,
                                       std::uint64_t offset, const image_header_options& opt) {
  const std::string dims = std::to_string(s.width) + " x " + std::to_string(s.height);
  if (s.width <= 0 || s.height <= 0) {
    return image_error(errc::image_corrupt, name, offset,
                       std::string(what) + " says " + dims +
                           " pixels: a zero size is invalid (the header is damaged)");
  }
  if (s.width > opt.max_dimension || s.height > opt.max_dimension) {
    return image_error(errc::image_too_large, name, offset,
                       "image is " + dims + " pixels, over the limit of " +
                           std::to_string(opt.max_dimension) +
                           " per side (image_header_options::max_dimension)");
  }
  const std::uint64_t pixels =
      static_cast<std::uint64_t>(s.width) * static_cast<std::uint64_t>(s.height);
  if (pixels > opt.max_pixels) {
    return image_error(errc::image_too_large, name, offset,
                       "image is " + dims + " = " + std::to_string(pixels) +
                           " pixels, over the limit of " + std::to_string(opt.max_pixels) +
                           " (image_header_options::max_pixels)");
  }
  return s;
}

inline result<image_size> read_image_size_from(image_byte_source& src, const std::string& name,
                                               const image_header_options& opt) {
  int os_errno = 0;
  auto io_fail = [&](std::uint64_t at) -> error {
    return image_error(errc::io_read, name, at,
                       std::string("read failed: ") + std::strerror(os_errno));
  };
  unsigned char head[8] = {};
  std::size_t have = 0;
  while (have < 8 && src.read(have, head + have, 1, &os_errno)) ++have;
  if (os_errno) return io_fail(have);
  if (have == 0) {
    return image_error(errc::image_corrupt, name, 0, "empty file (0 bytes): not a JPEG or PNG");
  }
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (have >= 2 && head[0] == 0xFF && head[1] == 0xD8) {
    // JPEG: segments after SOI are FF <marker> [len_hi len_lo payload...].
    std::uint64_t pos = 2;
    while (true) {
      if (pos > opt.max_scan_bytes) {
        return image_error(errc::image_corrupt, name, pos,
                           "no JPEG frame header (SOFn) within the first " +
                               std::to_string(opt.max_scan_bytes) + " bytes");
      }
      unsigned char m[2];
      if (!src.read(pos, m, 2, &os_errno)) {
        if (os_errno) return io_fail(pos);
        return image_error(errc::image_corrupt, name, pos,
                           "truncated JPEG: the file ends at a marker before any frame header "
                           "(SOFn)");
      }
      if (m[0] != 0xFF) {
        return image_error(errc::image_corrupt, name, pos,
                           "corrupt JPEG: expected a marker (FF xx), got " + hex_bytes(m, 2));
      }
      if (m[1] == 0xFF) {  // fill byte before a marker
        ++pos;
        continue;
      }
      const unsigned marker = m[1];
      const std::uint64_t marker_pos = pos;
      pos += 2;
      if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0x00) continue;
      if (marker == 0xD9 || marker == 0xDA) {
        return image_error(errc::image_corrupt, name, marker_pos,
                           std::string("corrupt JPEG: ") +
                               (marker == 0xD9 ? "end of image (EOI)" : "scan data (SOS)") +
                               " before any frame header (SOFn)");
      }
      if (marker == 0xD8) {
        return image_error(errc::image_corrupt, name, marker_pos,
                           "corrupt JPEG: a second start-of-image marker (FF D8)");
      }
      unsigned char len_bytes[2];
      if (!src.read(pos, len_bytes, 2, &os_errno)) {
        if (os_errno) return io_fail(pos);
        return image_error(
            errc::image_corrupt, name, marker_pos,
            "truncated JPEG: the file ends inside the length of segment FF " + hex_bytes(&m[1], 1));
      }
      const std::uint32_t len = be16(len_bytes);
      if (len < 2) {
        return image_error(errc::image_corrupt, name, pos,
                           "corrupt JPEG: segment FF " + hex_bytes(&m[1], 1) + " has length " +
                               std::to_string(len) + " (at least 2)");
      }
      if (is_sof_marker(marker)) {
        // precision(1) height(2) width(2) components(1)
        unsigned char sof[6];
        if (len < 8 || !src.read(pos + 2, sof, 6, &os_errno)) {
          if (os_errno) return io_fail(pos + 2);
          return image_error(errc::image_corrupt, name, marker_pos,
                             "truncated JPEG: the SOF" + std::to_string(marker - 0xC0) +
                                 " frame header needs 8 bytes after its marker, the " +
                                 (len < 8 ? "segment length is " + std::to_string(len)
                                          : std::string("file ends first")));
        }
        const image_size s{static_cast<std::int32_t>(be16(sof + 3)),
                           static_cast<std::int32_t>(be16(sof + 1))};
        const std::string what = "JPEG SOF" + std::to_string(marker - 0xC0) + " frame header";
        return check_limits(s, what.c_str(), name, marker_pos, opt);
      }
      pos += len;
    }
  }
  if (have == 8 && std::memcmp(head, png_sig, 8) == 0) {
    unsigned char ihdr[16];
    if (!src.read(8, ihdr, 16, &os_errno)) {
      if (os_errno) return io_fail(8);
      return image_error(errc::image_corrupt, name, 8,
                         "truncated PNG: the file ends inside the IHDR chunk");
    }
    if (be32(ihdr) != 13 || std::memcmp(ihdr + 4, "IHDR", 4) != 0) {
      return image_error(errc::image_corrupt, name, 8,
                         "corrupt PNG: the first chunk is not a 13-byte IHDR");
    }
    const std::uint32_t w = be32(ihdr + 8), h = be32(ihdr + 12);
    if (w > 0x7fffffffu || h > 0x7fffffffu) {
      return image_error(errc::image_too_large, name, 16,
                         "image is " + std::to_string(w) + " x " + std::to_string(h) +
                             " pixels, over the limit of " + std::to_string(opt.max_dimension) +
                             " per side (image_header_options::max_dimension)");
    }
    return check_limits({static_cast<std::int32_t>(w), static_cast<std::int32_t>(h)},
                        "PNG IHDR chunk", name, 16, opt);
  }
  return image_error(errc::image_corrupt, name, 0,
                     "not a JPEG or PNG: starts with " + hex_bytes(head, have < 4 ? have : 4) +
                         " (a JPEG starts with FF D8, a PNG with 89 50 4E 47)");
}

}  // namespace detail

/// Width and height of an image held in memory. `name_for_errors` is what errors show as the file.
///
///     auto s = detkit::try_read_image_size(bytes, "000026e7ee790996.jpg");
///     if (!s) return s.error();   // image_corrupt / image_too_large, with the byte offset
[[nodiscard]] inline result<image_size> try_read_image_size(
    std::string_view bytes, const std::string& name_for_errors,
    const image_header_options& options = {}) {
  detail::image_byte_source src(bytes);
  return detail::read_image_size_from(src, name_for_errors, options);
}

/// Width and height of the JPEG or PNG at `path`, reading only the header bytes (pread).
/// Missing file → errc::image_missing; not a JPEG/PNG or damaged → errc::image_corrupt;
/// over the limits → errc::image_too_large; other OS errors → errc::io_open / io_read.
[[nodiscard]] inline result<image_size> try_read_image_size(
    const std::string& path, const image_header_options& options = {}) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    error e = make_error(err == ENOENT ? errc::image_missing : errc::io_open,
                         err == ENOENT ? std::string("image file not found")
                                       : std::string("cannot open image: ") + std::strerror(err));
    e.file = path;
    return e;
  }
  detail::image_byte_source src(fd);
  auto r = detail::read_image_size_from(src, path, options);
  ::close(fd);
  return r;
}

/// Throwing spelling of try_read_image_size (throws detkit::parse_error).
inline image_size read_image_size(const std::string& path,
                                  const image_header_options& options = {}) {
  return try_read_image_size(path, options).value();
}

/// Which format the first bytes announce (JPEG SOI or the PNG signature).
inline image_format sniff_image_format(std::string_view bytes) noexcept {
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xD8)
    return image_format::jpeg;
  if (bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8))
    return image_format::png;
  return image_format::unknown;
}

/// True when `bytes` start with the JPEG SOI marker (FF D8) and end with EOI (FF D9): a cheap
/// check that a download was not cut short. It does not validate the entropy-coded data, and a
/// file with bytes after EOI counts as incomplete (Open Images files end exactly at EOI).
inline bool is_complete_jpeg(std::string_view bytes) noexcept {
  const std::size_t n = bytes.size();
  return n >= 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[n - 2]) == 0xFF &&
         static_cast<unsigned char>(bytes[n - 1]) == 0xD9;
}

DETKIT_END_NAMESPACE

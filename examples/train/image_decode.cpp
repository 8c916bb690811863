// examples/train/image_decode.cpp — see image_decode.hpp.
#include "train/image_decode.hpp"

#include <stb_image.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#if defined(DETKIT_HAVE_LIBJPEG)
#include <jpeglib.h>
#endif

namespace detkit_train {
namespace {

void read_file(const std::string& path, std::vector<unsigned char>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  bytes.clear();
  unsigned char chunk[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw std::runtime_error(path + ": read error");
}

bool is_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

void decode_stb(const std::string& path, const std::vector<unsigned char>& bytes, rgb_image& out) {
  int w = 0, h = 0, ch = 0;
  unsigned char* px =
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &ch, 3);
  if (px == nullptr)
    throw std::runtime_error(path + ": cannot decode (stb_image: " + stbi_failure_reason() + ")");
  out.width = w;
  out.height = h;
  out.pixels.assign(px, px + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  stbi_image_free(px);
}

#if defined(DETKIT_HAVE_LIBJPEG)
// libjpeg reports errors through error_exit (which must not return) and corrupt data through
// emit_message(-1) warnings; both jump back here with the formatted message.
struct jump_error {
  jpeg_error_mgr mgr;
  std::jmp_buf back;
  char message[JMSG_LENGTH_MAX];
};
extern "C" void on_jpeg_error(j_common_ptr c) {
  jump_error* e = reinterpret_cast<jump_error*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->back, 1);
}
extern "C" void on_jpeg_message(j_common_ptr c, int level) {
  if (level < 0) on_jpeg_error(c);  // a corrupt-data warning: refuse, do not fill with grey
}

// Returns nullptr on success, "fallback" for colour spaces libjpeg cannot turn into RGB (CMYK,
// YCCK: stb_image handles Adobe CMYK), else the error text. No C++ objects with destructors live
// in this frame, so longjmp skips nothing.
const char* decode_libjpeg(const std::vector<unsigned char>& bytes, rgb_image& out,
                           jump_error& err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.emit_message = on_jpeg_message;
  if (setjmp(err.back) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return err.message;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  (void)jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return "fallback";
  }
  cinfo.out_color_space = JCS_RGB;
  (void)jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  const std::size_t stride = static_cast<std::size_t>(out.width) * 3;
  out.pixels.resize(stride * static_cast<std::size_t>(out.height));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + stride * cinfo.output_scanline;
    (void)jpeg_read_scanlines(&cinfo, &row, 1);
  }
  (void)jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return nullptr;
}
#endif

}  // namespace

bool have_libjpeg_turbo() {
#if defined(DETKIT_HAVE_LIBJPEG)
  return true;
#else
  return false;
#endif
}

void decode_rgb(const std::string& path, rgb_image& out, jpeg_decoder which) {
  thread_local std::vector<unsigned char> bytes;
  read_file(path, bytes);
  const bool jpeg = is_jpeg(bytes);
  if (which == jpeg_decoder::libjpeg_turbo && !have_libjpeg_turbo())
    throw std::runtime_error(path + ": this build has no libjpeg-turbo (libjpeg62-turbo-dev)");
#if defined(DETKIT_HAVE_LIBJPEG)
  if (jpeg && which != jpeg_decoder::stb) {
    jump_error err;
    const char* failure = decode_libjpeg(bytes, out, err);
    if (failure == nullptr) return;
    if (std::strcmp(failure, "fallback") != 0)
      throw std::runtime_error(path + ": cannot decode (libjpeg-turbo: " + failure + ")");
  }
#else
  (void)jpeg;
#endif
  decode_stb(path, bytes, out);
}

}  // namespace detkit_train

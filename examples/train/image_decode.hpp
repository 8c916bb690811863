// examples/train/image_decode.hpp — one image file → 8-bit RGB for the loader and detkit-detect.
// JPEGs go through libjpeg-turbo when detkit was built with it (Debian libjpeg62-turbo-dev; about
// 2.3x stb_image's speed on the bundled photos, bench/bench_decode), everything else and every build
// without it through stb_image. Both decoders are behind this one call so the loader never knows.
#pragma once

#include <string>
#include <vector>

namespace detkit_train {

struct rgb_image {
  int width = 0, height = 0;
  std::vector<unsigned char> pixels;  // width * height * 3, row-major RGB
};

enum class jpeg_decoder { automatic, libjpeg_turbo, stb };

/// Whether this build has the libjpeg-turbo path.
bool have_libjpeg_turbo();

/// Decodes `path` into `out` (its buffer is reused). libjpeg-turbo is strict: a truncated or
/// corrupt JPEG, which libjpeg only warns about and fills with grey, is an error here. Throws
/// std::runtime_error naming the file and the decoder's reason. jpeg_decoder::libjpeg_turbo in a
/// build without it throws too.
void decode_rgb(const std::string& path, rgb_image& out,
                jpeg_decoder which = jpeg_decoder::automatic);

}  // namespace detkit_train

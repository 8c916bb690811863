# bench_decode (issue 5): the loader's JPEG decode, libjpeg-turbo vs stb_image (the peer) on the 8
# bundled real photos, interleaved in the same run:  build/bench/bench_decode [--runs R]
if(TARGET detkit_train_loader)
  detkit_add_bench(bench_decode SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_decode.cpp
                   LIBS detkit_train_loader)
  target_compile_definitions(bench_decode PRIVATE
                             DETKIT_PHOTOS_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures/openimages/images")
endif()

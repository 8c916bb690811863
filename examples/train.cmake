# detkit-synth (synthetic scenes), detkit-train (RetinaNet training) and detkit-detect (inference)
# need stb (libstb-dev) for JPEG decode/encode; train/detect also need the CPU twin (cuda/, CBLAS),
# which cuda/ defines after this file is read (CMake allows link names before the target exists).
if(NOT TARGET detkit::stb)
  message(STATUS "detkit: stb missing, detkit-synth / detkit-train / detkit-detect skipped")
  return()
endif()
detkit_add_example(detkit-synth SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-synth.cpp LIBS detkit::stb)
include(${PROJECT_SOURCE_DIR}/cuda/cmake/find_cblas.cmake)
if(NOT DETKIT_CBLAS_FOUND)
  message(STATUS "detkit: no CBLAS, detkit-train / detkit-detect skipped")
  return()
endif()
# The CUDA backend when cuda/ builds it (same program, --device cuda), else the CPU twin alone.
# cuda/ is read after this file, so the choice is made at generate time.
set(_detkit_train_model detkit_retinanet_cpu $<TARGET_NAME_IF_EXISTS:detkit_retinanet_cuda>)
add_library(detkit_train_loader STATIC ${CMAKE_CURRENT_SOURCE_DIR}/train/data_loader.cpp
            ${CMAKE_CURRENT_SOURCE_DIR}/train/image_decode.cpp)
target_include_directories(detkit_train_loader PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(detkit_train_loader PUBLIC detkit::detkit detkit_retinanet_cpu detkit::stb
                      Threads::Threads PRIVATE detkit_warnings)
# libjpeg-turbo (Debian libjpeg62-turbo-dev) decodes JPEGs when present; stb_image otherwise.
find_package(JPEG QUIET)
if(JPEG_FOUND)
  target_link_libraries(detkit_train_loader PRIVATE JPEG::JPEG)
  target_compile_definitions(detkit_train_loader PRIVATE DETKIT_HAVE_LIBJPEG=1)
else()
  message(STATUS "detkit: libjpeg(-turbo) not found, the loader decodes JPEGs with stb_image")
endif()
detkit_add_example(detkit-train SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-train.cpp
                   LIBS detkit_train_loader ${_detkit_train_model})
detkit_add_example(detkit-detect SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-detect.cpp
                   LIBS detkit_train_loader ${_detkit_train_model})

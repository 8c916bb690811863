# cuda/cmake/find_cblas.cmake — locate CBLAS from Debian's libopenblas-dev (the CPU twin's GEMM).
# Sets DETKIT_CBLAS_FOUND and, when found, the imported target detkit::cblas. Safe to include twice.
if(TARGET detkit::cblas)
  set(DETKIT_CBLAS_FOUND ON)
  return()
endif()
# OpenBLAS's own cblas.h first: Debian's plain /usr/include/.../cblas.h is an alternatives link that
# may point at netlib's header.
find_path(DETKIT_CBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread
        /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp
        /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-serial /usr/include/openblas
  NO_DEFAULT_PATH)
find_path(DETKIT_CBLAS_INCLUDE_DIR cblas.h)
find_library(DETKIT_OPENBLAS_LIBRARY NAMES openblas
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread)
if(DETKIT_CBLAS_INCLUDE_DIR AND DETKIT_OPENBLAS_LIBRARY)
  set(DETKIT_CBLAS_FOUND ON)
  add_library(detkit::cblas INTERFACE IMPORTED GLOBAL)
  set_target_properties(detkit::cblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${DETKIT_CBLAS_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES ${DETKIT_OPENBLAS_LIBRARY})
else()
  set(DETKIT_CBLAS_FOUND OFF)
endif()

# cuda/cmake/find_dnnl.cmake — locate oneDNN (Debian libdnnl-dev) for the CPU twin's GEMM. Optional:
# without it gemm_cpu uses OpenBLAS only. Sets DETKIT_DNNL_FOUND and, when found, the imported
# target detkit::dnnl. -DDETKIT_DNNL=OFF skips the search. Safe to include twice.
option(DETKIT_DNNL "Use oneDNN's sgemm for the CPU twin when libdnnl-dev is installed" ON)
if(TARGET detkit::dnnl)
  set(DETKIT_DNNL_FOUND ON)
  return()
endif()
set(DETKIT_DNNL_FOUND OFF)
if(NOT DETKIT_DNNL)
  return()
endif()
find_path(DETKIT_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(DETKIT_DNNL_LIBRARY NAMES dnnl)
if(DETKIT_DNNL_INCLUDE_DIR AND DETKIT_DNNL_LIBRARY)
  set(DETKIT_DNNL_FOUND ON)
  add_library(detkit::dnnl INTERFACE IMPORTED GLOBAL)
  set_target_properties(detkit::dnnl PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${DETKIT_DNNL_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES ${DETKIT_DNNL_LIBRARY})
  message(STATUS "detkit: CPU twin GEMMs through oneDNN (${DETKIT_DNNL_LIBRARY}), OpenBLAS fallback")
else()
  message(STATUS "detkit: oneDNN (Debian libdnnl-dev) not found, CPU twin GEMMs through OpenBLAS "
                 "only (slow where OpenBLAS does not know the CPU model)")
endif()

# Tests of detkit-train's pieces (examples/train/) and of the programs end to end on synthetic
# scenes generated at test time (detkit-synth -> detkit-prepare -> loader -> CPU twin).
if(NOT TARGET detkit::stb)
  return()
endif()
include(${PROJECT_SOURCE_DIR}/cuda/cmake/find_cblas.cmake)
if(NOT DETKIT_CBLAS_FOUND)
  return()
endif()
detkit_add_test(test_train_loader SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/train/test_data_loader.cpp
                LIBS detkit_train_loader TIMEOUT 120)
target_include_directories(test_train_loader PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_dependencies(test_train_loader detkit-synth detkit-prepare)

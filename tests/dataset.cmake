# Tests of the Open Images dataset part: csv.hpp, the open_images_*.hpp readers and joins,
# detkit-prepare end to end, and the CSV fuzz target's seed corpus (replayed as a test).
detkit_add_test(test_csv SOURCES test_csv.cpp LABELS dataset TIMEOUT 120)
detkit_add_test(test_open_images SOURCES test_open_images.cpp LABELS dataset TIMEOUT 120)
if(TARGET detkit-prepare)
  detkit_add_test(test_prepare SOURCES test_prepare.cpp LABELS dataset TIMEOUT 120)
  add_dependencies(test_prepare detkit-prepare)
  if(TARGET detkit-subset)  # the missing-image case checks detkit-subset's exports too
    add_dependencies(test_prepare detkit-subset)
  endif()
endif()
detkit_add_fuzz(fuzz_csv SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_csv.cpp
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/csv)
# The join vs an independent Python csv-module reference on a generated 300k-row train file.
if(DETKIT_BUILD_BENCH)
  find_program(DETKIT_PYTHON3 python3)
  if(DETKIT_PYTHON3)
    detkit_add_script_test(oi_join_differential
      COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/oi_join_differential.py
              $<TARGET_FILE:bench_join> ${PROJECT_SOURCE_DIR} ${DETKIT_TEST_WORK_DIR}
      LABELS dataset TIMEOUT 120)
  endif()
endif()

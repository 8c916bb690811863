# Tests of issue 8 (subsets): class_selection.hpp, subset_sampling.hpp, the exporters (read back
# by Python's json and xml.etree), manifest.hpp, detkit-subset end to end (manifest rebuild is
# byte-identical) and the anchor coverage report.
detkit_add_test(test_class_selection SOURCES test_class_selection.cpp LABELS subset)
detkit_add_test(test_subset_sampling SOURCES test_subset_sampling.cpp LABELS subset)
detkit_add_test(test_subset_exports SOURCES test_subset_exports.cpp LABELS subset)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  detkit_add_script_test(subset_exports_python
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_subset_exports.py
            ${DETKIT_TEST_WORK_DIR}/subset_exports_for_python
    LABELS subset TIMEOUT 60)
  set_tests_properties(test_subset_exports PROPERTIES FIXTURES_SETUP subset_exports_files)
  set_tests_properties(subset_exports_python PROPERTIES FIXTURES_REQUIRED subset_exports_files)
endif()
# The anchor coverage report: its own code plus the RetinaNet anchor source of cuda/ops/anchors.
detkit_add_test(test_anchor_coverage SOURCES test_anchor_coverage.cpp
                ${PROJECT_SOURCE_DIR}/examples/subset/anchor_coverage.cpp
                ${PROJECT_SOURCE_DIR}/cuda/ops/anchors/anchors_cpu.cpp
                ${PROJECT_SOURCE_DIR}/cuda/model/transform.cpp LABELS subset)
target_include_directories(test_anchor_coverage PRIVATE ${PROJECT_SOURCE_DIR}/examples
                           ${PROJECT_SOURCE_DIR}/cuda/ops/anchors
                           ${PROJECT_SOURCE_DIR}/cuda/model)
# torchvision recomputes every case (Debian's python3-torchvision; skipped with 77 without it).
find_program(DETKIT_SUBSET_TORCH_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(DETKIT_SUBSET_TORCH_PYTHON)
  detkit_add_script_test(anchor_coverage_torchvision
    COMMAND ${DETKIT_SUBSET_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/check_anchor_coverage.py
            ${DETKIT_TEST_WORK_DIR}/anchor_coverage_for_torchvision/cases.tsv
    LABELS subset reference TIMEOUT 120)
  set_tests_properties(test_anchor_coverage PROPERTIES FIXTURES_SETUP anchor_coverage_cases)
  set_tests_properties(anchor_coverage_torchvision PROPERTIES FIXTURES_REQUIRED anchor_coverage_cases)
endif()
detkit_add_test(test_manifest SOURCES test_manifest.cpp LABELS subset)
foreach(program detkit-subset detkit-prepare)
  if(TARGET ${program})
    add_dependencies(test_manifest ${program})
  endif()
endforeach()

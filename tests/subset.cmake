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

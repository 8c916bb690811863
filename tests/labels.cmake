# Tests of the labels half of the dataset library: image_header.hpp, label_cache.hpp, split.hpp,
# detectron2_json.hpp, and the label-cache fuzz target's corpus replay.
detkit_add_test(test_image_header SOURCES test_image_header.cpp LABELS labels)
detkit_add_test(test_label_cache SOURCES test_label_cache.cpp LABELS labels)
detkit_add_fuzz(fuzz_label_cache SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_label_cache.cpp
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/label_cache)
detkit_add_test(test_split SOURCES test_split.cpp LABELS labels)
if(TARGET simdjson::simdjson)
  detkit_add_test(test_detectron2_json SOURCES test_detectron2_json.cpp LIBS simdjson::simdjson
                  LABELS labels)
  target_compile_definitions(test_detectron2_json PRIVATE DETKIT_TEST_HAVE_SIMDJSON=1)
else()
  detkit_add_test(test_detectron2_json SOURCES test_detectron2_json.cpp LABELS labels)
endif()
# Python's json module reads what test_detectron2_json wrote (ctest fixture: runs after it).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  detkit_add_script_test(detectron2_json_python
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_detectron2_json.py
            ${DETKIT_TEST_WORK_DIR}/detectron2_json_for_python
    LABELS labels)
  set_tests_properties(test_detectron2_json PROPERTIES FIXTURES_SETUP detectron2_json_file)
  set_tests_properties(detectron2_json_python PROPERTIES FIXTURES_REQUIRED detectron2_json_file)
endif()
detkit_add_fuzz(fuzz_image_header SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_image_header.cpp
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/image_header)

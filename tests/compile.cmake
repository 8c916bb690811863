# Compile tests (STYLE §2.5): every public header alone in its own TU; two TUs that include
# everything linked together (catches a missing `inline`); must-not-compile cases; and the three
# ways a user consumes detkit (find_package on an installed tree, add_subdirectory, plain -I).
file(GLOB_RECURSE _detkit_public_headers CONFIGURE_DEPENDS
     RELATIVE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/include/detkit/*.hpp)
set(_alone_sources)
foreach(h IN LISTS _detkit_public_headers)
  string(MAKE_C_IDENTIFIER ${h} id)
  set(src ${CMAKE_CURRENT_BINARY_DIR}/header_alone/${id}.cpp)
  file(CONFIGURE OUTPUT ${src} CONTENT "#include \"${h}\"\n#include \"${h}\"  // include guard\n")
  list(APPEND _alone_sources ${src})
endforeach()
add_library(detkit_header_alone OBJECT ${_alone_sources})
target_link_libraries(detkit_header_alone PRIVATE detkit::detkit detkit_warnings)

# Two TUs with everything, one program.
set(_all_includes "")
foreach(h IN LISTS _detkit_public_headers)
  string(APPEND _all_includes "#include \"${h}\"\n")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/two_tu/a.cpp
     CONTENT "${_all_includes}int detkit_two_tu_b();\nint main() { return detkit_two_tu_b(); }\n")
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/two_tu/b.cpp
     CONTENT "${_all_includes}int detkit_two_tu_b() { return 0; }\n")
detkit_add_test(compile_two_tu NO_CATCH
  SOURCES ${CMAKE_CURRENT_BINARY_DIR}/two_tu/a.cpp ${CMAKE_CURRENT_BINARY_DIR}/two_tu/b.cpp
  LABELS compile)
# coco_json.hpp includes simdjson.h, whose inline code needs the simdjson library at link time.
if(TARGET simdjson::simdjson)
  target_link_libraries(compile_two_tu PRIVATE simdjson::simdjson)
endif()

# Must-not-compile: each file in tests/compile/fail_*.cpp must be rejected by the compiler, and the
# control file ok_*.cpp with the same name must compile (so a typo can't make the test pass).
file(GLOB _detkit_fail_cases CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/compile/fail_*.cpp)
foreach(f IN LISTS _detkit_fail_cases)
  get_filename_component(n ${f} NAME_WE)
  add_test(NAME compile_${n}
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -fsyntax-only -I${PROJECT_SOURCE_DIR}/include ${f})
  set_tests_properties(compile_${n} PROPERTIES WILL_FAIL TRUE LABELS compile)
  string(REPLACE "fail_" "ok_" ok ${f})
  get_filename_component(okn ${ok} NAME_WE)
  add_test(NAME compile_${okn}
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -fsyntax-only -I${PROJECT_SOURCE_DIR}/include ${ok})
  set_tests_properties(compile_${okn} PROPERTIES LABELS compile)
endforeach()

# The three ways of use, each configured and built from scratch by the test.
detkit_add_script_test(consume_three_ways
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/consumer/check.sh ${PROJECT_SOURCE_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/consumer ${CMAKE_CXX_COMPILER}
  LABELS compile TIMEOUT 600)

# The README's C++ examples, kept as programs under bench/compile_time/ (bench/compile_time.sh
# times them): each must compile, and each must still be the README's code block.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  detkit_add_script_test(compile_readme_examples_in_sync
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/compile/check_readme_examples.py
            ${PROJECT_SOURCE_DIR}
    LABELS compile TIMEOUT 60)
endif()
file(GLOB _detkit_readme_examples CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/bench/compile_time/readme_*.cpp)
foreach(f IN LISTS _detkit_readme_examples)
  get_filename_component(n ${f} NAME_WE)
  add_test(NAME compile_${n}
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -fsyntax-only -Wall -Wextra -Werror
            -I${PROJECT_SOURCE_DIR}/include ${f})
  set_tests_properties(compile_${n} PROPERTIES LABELS compile)
endforeach()

# callback.hpp stands in for std::function in csv_options (no <functional> in csv.hpp).
detkit_add_test(test_callback SOURCES compile/test_callback.cpp LABELS compile)

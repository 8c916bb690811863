# The programs' option tables (examples/common/options.hpp): every numeric option of every program
# refuses a non-number and an out-of-range value with exit 2 and a message naming both.
find_program(DETKIT_PYTHON3 python3)
if(DETKIT_PYTHON3 AND DETKIT_BUILD_EXAMPLES)
  detkit_add_script_test(cli_option_tables
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cli_option_tables.py
            ${PROJECT_BINARY_DIR}/bin
    LABELS cli TIMEOUT 120)
endif()

# Tests of the small core headers: error.hpp, box.hpp, atomic_file.hpp.
detkit_add_test(test_error SOURCES test_error.cpp)
detkit_add_test(test_box SOURCES test_box.cpp)
detkit_add_test(test_atomic_file SOURCES test_atomic_file.cpp)

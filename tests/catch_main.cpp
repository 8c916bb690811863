// The one TU that compiles Catch2's runner (v2 single header from Debian's catch2).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

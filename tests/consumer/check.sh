#!/usr/bin/env bash
# Builds tests/consumer/main.cpp three ways: find_package(detkit) on an installed tree,
# add_subdirectory(detkit), and plain `-I include`. Each program must run and print the right box.
set -euo pipefail
src=$1 work=$2 cxx=$3
rm -rf "$work" && mkdir -p "$work"
here=$(cd "$(dirname "$0")" && pwd)
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
common=(-DDETKIT_BUILD_TESTS=OFF -DDETKIT_BUILD_EXAMPLES=OFF -DDETKIT_BUILD_BENCH=OFF -DDETKIT_CUDA=OFF)

echo "== 1. find_package(detkit) on an installed tree"
cmake -S "$src" -B "$work/lib" "${gen[@]}" "${common[@]}" -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/lib" >/dev/null && cmake --install "$work/lib" >/dev/null
mkdir -p "$work/fp"
cat >"$work/fp/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(detkit 0.1 REQUIRED)
add_executable(consumer $here/main.cpp)
target_link_libraries(consumer PRIVATE detkit::detkit)
CM
cmake -S "$work/fp" -B "$work/fp/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/fp/build" >/dev/null
"$work/fp/build/consumer"

echo "== 2. add_subdirectory(detkit)"
mkdir -p "$work/sub"
cat >"$work/sub/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
add_subdirectory($src detkit)
add_executable(consumer $here/main.cpp)
target_link_libraries(consumer PRIVATE detkit::detkit)
CM
cmake -S "$work/sub" -B "$work/sub/build" "${gen[@]}" -DDETKIT_CUDA=OFF >/dev/null
cmake --build "$work/sub/build" --target consumer >/dev/null
"$work/sub/build/consumer"

echo "== 3. plain -I include"
"$cxx" -std=c++17 -O1 -I"$src/include" "$here/main.cpp" -o "$work/plain" -pthread
"$work/plain"
echo "all three ways work"

# The GPU benchmark (ctest label `gpu-bench`): detkit's CUDA RetinaNet vs torchvision on the same
# device. Included by cuda/CMakeLists.txt only when the CUDA library is built; bench/CMakeLists.txt
# globs bench/*.cmake only, so this file is not picked up twice.
add_executable(bench_retinanet_gpu ${PROJECT_SOURCE_DIR}/bench/cuda/bench_retinanet_gpu.cpp)
target_link_libraries(bench_retinanet_gpu PRIVATE detkit_retinanet_cuda detkit_warnings)
if(DETKIT_BUILD_TESTS)
  add_test(NAME bench_retinanet_gpu
           COMMAND bench_retinanet_gpu --script
                   ${PROJECT_SOURCE_DIR}/bench/cuda/torchvision_retinanet_bench.py)
  set_tests_properties(bench_retinanet_gpu PROPERTIES LABELS gpu-bench SKIP_RETURN_CODE 77
                       TIMEOUT 600)
endif()

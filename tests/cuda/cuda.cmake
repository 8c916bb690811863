# GPU tests (ctest label `gpu`): CUDA ops and the CUDA RetinaNet against the CPU twin. Included by
# cuda/CMakeLists.txt only when the CUDA library is built. Without a device the binaries print why
# and return 77, which ctest reports as skipped.
find_package(Catch2 REQUIRED)  # imported targets are directory-scoped; cuda/ needs its own
detkit_add_test(test_retinanet_gpu NO_CATCH
                SOURCES ${PROJECT_SOURCE_DIR}/tests/cuda/test_ops_gpu.cpp
                LIBS detkit_retinanet_cuda Catch2::Catch2 LABELS gpu TIMEOUT 300)
set_tests_properties(test_retinanet_gpu PROPERTIES SKIP_RETURN_CODE 77)

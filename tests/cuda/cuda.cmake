# GPU tests (ctest label `gpu`): CUDA ops and the CUDA RetinaNet against the CPU twin. Included by
# cuda/CMakeLists.txt only when the CUDA library is built. Without a device the binaries print why
# and return 77, which ctest reports as skipped.
find_package(Catch2 REQUIRED)  # imported targets are directory-scoped; cuda/ needs its own
detkit_add_test(test_retinanet_gpu NO_CATCH
                SOURCES ${PROJECT_SOURCE_DIR}/tests/cuda/test_ops_gpu.cpp
                LIBS detkit_retinanet_cuda Catch2::Catch2 LABELS gpu TIMEOUT 300)
set_tests_properties(test_retinanet_gpu PROPERTIES SKIP_RETURN_CODE 77)

# detkit-train / detkit-detect --device cuda end to end (tests/cuda/test_train_gpu.cpp). Linked with
# the loader so the GPU machine's copy gets the programs' shared libraries (libjpeg, OpenBLAS).
# Its dry run on the CPU (test_train_gpu_harness) is defined in tests/retinanet.cmake, for every build.
if(TARGET detkit-train AND TARGET detkit-detect AND TARGET detkit-synth)
  detkit_add_test(test_train_gpu NO_CATCH SOURCES ${PROJECT_SOURCE_DIR}/tests/cuda/test_train_gpu.cpp
                  LIBS detkit_train_loader detkit_retinanet_cuda LABELS gpu TIMEOUT 420
                  ARGS ${PROJECT_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR}/tests/fixtures
                       ${PROJECT_BINARY_DIR}/tests/work/train_gpu
                       ${PROJECT_SOURCE_DIR}/bench/cuda/torchvision_retinanet_bench.py)
  set_tests_properties(test_train_gpu PROPERTIES SKIP_RETURN_CODE 77)
  add_dependencies(test_train_gpu detkit-train detkit-detect detkit-synth detkit-prepare)
endif()

# The numerics policy as nvcc applies it (no device needed): the bit-equal kernels' PTX has no FMA.
foreach(check IN ITEMS "sgd:sgd_forward_kernel"
                       "frozen_bn:frozen_bn_fold_kernel,frozen_bn_forward_kernel,frozen_bn_backward_kernel"
                       "anchors:anchors_forward_kernel" "matcher:matcher_iou_kernel"
                       "nms:nms_mask_kernel")
  string(REPLACE ":" ";" parts "${check}")
  list(GET parts 0 op)
  list(GET parts 1 kernels)
  add_test(NAME test_cuda_no_fma_${op}
           COMMAND ${CMAKE_COMMAND} -DNVCC=${CMAKE_CUDA_COMPILER}
                   -DSOURCE=${PROJECT_SOURCE_DIR}/cuda/ops/${op}/${op}.cu
                   -DINCLUDES=${PROJECT_SOURCE_DIR}/include,${PROJECT_SOURCE_DIR}/cuda
                   -DKERNELS=${kernels} -DOUT=${CMAKE_CURRENT_BINARY_DIR}/no_fma_${op}.ptx
                   -P ${PROJECT_SOURCE_DIR}/tests/cuda/check_no_fma.cmake)
  set_tests_properties(test_cuda_no_fma_${op} PROPERTIES LABELS cuda TIMEOUT 300)
endforeach()

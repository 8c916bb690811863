# Tests of the hand-written RetinaNet (cuda/): ops against hand-computed values and central finite
# differences, weights I/O, the input transform, and (label `reference`) the whole CPU twin against
# torchvision tensor by tensor. The CPU twin needs CBLAS (libopenblas-dev); cuda/ defines the target
# after this file is read, which CMake allows for link names.
include(${PROJECT_SOURCE_DIR}/cuda/cmake/find_cblas.cmake)
if(NOT DETKIT_CBLAS_FOUND)
  message(STATUS "detkit: no CBLAS, RetinaNet tests skipped")
  return()
endif()

set(_retina ${CMAKE_CURRENT_SOURCE_DIR}/retinanet)
detkit_add_test(test_retinanet_ops SOURCES ${_retina}/test_ops.cpp ${_retina}/test_blocked_sum.cpp
                ${_retina}/test_detection_compare.cpp
                LIBS detkit_retinanet_cpu
                TIMEOUT 120)
detkit_add_test(test_retinanet_weights SOURCES ${_retina}/test_weights.cpp
                LIBS detkit_retinanet_cpu TIMEOUT 120)

# torchvision comes from Debian (python3-torchvision) and lives only in Debian's own Python.
find_program(DETKIT_TORCH_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DETKIT_TORCH_PYTHON)
  set(DETKIT_TORCH_PYTHON python3)
endif()
detkit_add_test(test_retinanet_reference NO_CATCH SOURCES ${_retina}/test_reference.cpp
                LIBS detkit_retinanet_cpu LABELS reference TIMEOUT 300
                ARGS ${DETKIT_TORCH_PYTHON} ${_retina}/dump_reference.py
                     ${PROJECT_SOURCE_DIR}/cuda/tools/convert_torchvision_weights.py tiny
                     ${DETKIT_TEST_WORK_DIR})
set_tests_properties(test_retinanet_reference PROPERTIES SKIP_RETURN_CODE 77)
# The same with torchvision's Bottleneck (ResNet-50's block) in every stage.
detkit_add_test(test_retinanet_reference_bottleneck NO_CATCH SOURCES ${_retina}/test_reference.cpp
                LIBS detkit_retinanet_cpu LABELS reference TIMEOUT 300
                ARGS ${DETKIT_TORCH_PYTHON} ${_retina}/dump_reference.py
                     ${PROJECT_SOURCE_DIR}/cuda/tools/convert_torchvision_weights.py tiny50
                     ${DETKIT_TEST_WORK_DIR})
set_tests_properties(test_retinanet_reference_bottleneck PROPERTIES SKIP_RETURN_CODE 77)

# The safetensors reader as a fuzz target: its corpus replays under ASan/UBSan in CI.
detkit_add_fuzz(fuzz_safetensors SOURCES ${_retina}/fuzz_safetensors.cpp
                CORPUS ${_retina}/corpus/safetensors LIBS detkit_retinanet_cpu)

# The same checks on ResNet-18 [2,2,2,2], FPN 64, 31 classes, 2 x 256 x 256 (label `slow`).
detkit_add_test(test_retinanet_reference_r18 NO_CATCH SOURCES ${_retina}/test_reference.cpp
                LIBS detkit_retinanet_cpu LABELS slow TIMEOUT 900
                ARGS ${DETKIT_TORCH_PYTHON} ${_retina}/dump_reference.py
                     ${PROJECT_SOURCE_DIR}/cuda/tools/convert_torchvision_weights.py r18
                     ${DETKIT_TEST_WORK_DIR})
set_tests_properties(test_retinanet_reference_r18 PROPERTIES SKIP_RETURN_CODE 77)

# The numerics policy (cuda/ops/README.md): the bit-equal bodies built as nvcc builds device code —
# FMA contraction on, device rounding intrinsics emulated — against the CPU twin. Not linked to
# detkit_warnings, whose -ffp-contract=off would undo the point.
add_library(test_rounding_probe OBJECT ${_retina}/rounding_probe.cpp)
target_link_libraries(test_rounding_probe PRIVATE detkit::detkit)
target_include_directories(test_rounding_probe PRIVATE ${PROJECT_SOURCE_DIR}/cuda)
target_compile_definitions(test_rounding_probe PRIVATE DETKIT_EMULATE_DEVICE_ROUNDING=1)
# -O2 in every build type: GCC contracts only when it optimises (a Debug/ASan build is -O0).
target_compile_options(test_rounding_probe PRIVATE -O2 -Wall -Wextra -ffp-contract=fast
                       $<$<BOOL:${DETKIT_WERROR}>:-Werror>)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_compile_options(test_rounding_probe PRIVATE -mfma)
endif()
detkit_add_test(test_retinanet_rounding SOURCES ${_retina}/test_rounding.cpp
                $<TARGET_OBJECTS:test_rounding_probe> LIBS detkit_retinanet_cpu TIMEOUT 120)
target_include_directories(test_retinanet_rounding PRIVATE ${_retina})

# The GPU harness (tests/cuda/test_train_gpu.cpp) run on the CPU twin, in every build, so it does not
# rot between GPU sessions (label `train`); and proof that its parity step can fail: one gradient
# scaled on the device side (DETKIT_DEBUG_SCALE_GRAD through DETKIT_TRAIN_GPU_PERTURB) must give
# the FAIL line of the later iterations while the first iteration still agrees.
if(TARGET detkit-train AND TARGET detkit-detect AND TARGET detkit-synth AND TARGET detkit-prepare)
  add_executable(test_train_gpu_dry ${CMAKE_CURRENT_SOURCE_DIR}/cuda/test_train_gpu.cpp)
  target_link_libraries(test_train_gpu_dry PRIVATE detkit::detkit detkit_warnings)
  add_dependencies(test_train_gpu_dry detkit-train detkit-detect detkit-synth detkit-prepare)
  add_test(NAME test_train_gpu_harness
           COMMAND test_train_gpu_dry ${PROJECT_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR}/tests/fixtures
                   ${PROJECT_BINARY_DIR}/tests/work/train_gpu_harness)
  set_tests_properties(test_train_gpu_harness PROPERTIES ENVIRONMENT DETKIT_TRAIN_GPU_DRY_RUN=1
                       TIMEOUT 300 LABELS train)
  foreach(case IN ITEMS catches_perturbation tolerates_noise)
    add_test(NAME test_train_gpu_harness_${case}
             COMMAND test_train_gpu_dry ${PROJECT_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR}/tests/fixtures
                     ${PROJECT_BINARY_DIR}/tests/work/train_gpu_harness_${case})
    set_tests_properties(test_train_gpu_harness_${case} PROPERTIES TIMEOUT 300 LABELS train)
  endforeach()
  # A doubled gradient (a += applied twice, a missing 0.5) fails the parity step, after the first
  # iteration agreed; a change of one part in a million (float noise on one tensor) passes it.
  set_tests_properties(test_train_gpu_harness_catches_perturbation PROPERTIES
    ENVIRONMENT "DETKIT_TRAIN_GPU_DRY_RUN=1;DETKIT_TRAIN_GPU_PARITY_ONLY=1;DETKIT_TRAIN_GPU_PERTURB=head.classification_head.cls_logits.weight=2"
    PASS_REGULAR_EXPRESSION "ok   first-iteration losses equal[^\n]*\nFAIL iterations 1-3 within")
  set_tests_properties(test_train_gpu_harness_tolerates_noise PROPERTIES
    ENVIRONMENT "DETKIT_TRAIN_GPU_DRY_RUN=1;DETKIT_TRAIN_GPU_PARITY_ONLY=1;DETKIT_TRAIN_GPU_PERTURB=head.classification_head.cls_logits.weight=1.000001")
endif()

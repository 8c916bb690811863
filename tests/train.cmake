# Tests of detkit-train's pieces (examples/train/) and of the programs end to end on synthetic
# scenes generated at test time (detkit-synth -> detkit-prepare -> loader -> CPU twin).
if(NOT TARGET detkit::stb)
  return()
endif()
include(${PROJECT_SOURCE_DIR}/cuda/cmake/find_cblas.cmake)
if(NOT DETKIT_CBLAS_FOUND)
  return()
endif()
detkit_add_test(test_train_loader SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/train/test_data_loader.cpp
                LIBS detkit_train_loader TIMEOUT 120)
target_include_directories(test_train_loader PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_dependencies(test_train_loader detkit-synth detkit-prepare)
detkit_add_test(test_image_decode SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/train/test_image_decode.cpp
                LIBS detkit_train_loader detkit::stb)
target_include_directories(test_image_decode PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

# End to end through the programs (tests/train/train_cli.py): SIGINT + resume gives bit-equal
# losses (seconds); a short training run learns held-out scenes (minutes: label slow), and
# detkit-detect's COCO JSON read back by detkit-eval gives the training evaluation's mAP.
find_program(DETKIT_PYTHON3 python3)
if(DETKIT_PYTHON3 AND TARGET simdjson::simdjson)
  set(_train_bin ${PROJECT_BINARY_DIR}/bin)
  detkit_add_script_test(train_resume_bit_equal
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/train/train_cli.py ${_train_bin}
            ${DETKIT_TEST_WORK_DIR}/train_resume resume
    TIMEOUT 300)
  detkit_add_script_test(train_learns_heldout
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/train/train_cli.py ${_train_bin}
            ${DETKIT_TEST_WORK_DIR}/train_learn learn
    LABELS slow TIMEOUT 900)
endif()
if(DETKIT_PYTHON3 AND TARGET simdjson::simdjson)
  detkit_add_script_test(train_new_classes
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/train/train_cli.py ${_train_bin}
            ${DETKIT_TEST_WORK_DIR}/train_new_classes newclasses
    TIMEOUT 300)
endif()

# detkit-detect against torchvision's RetinaNet (R50-FPN, spread-out random head) on the 8 bundled
# real photos, converted with the project's converter (tests/retinanet/detect_parity.py): one image
# at a time and in batches of mixed sizes at 320/512 plus the bn_eps = 0 round trip through both
# programs (label `reference`, ~2 min on 2 cores); one image at a time at the defaults 800/1333
# (labels `reference` and `slow`, ~3 min). Both need Debian's python3-torchvision: skipped (77)
# without it, failed when DETKIT_REQUIRE_REFERENCES=1.
find_program(DETKIT_TORCH_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DETKIT_TORCH_PYTHON)
  set(DETKIT_TORCH_PYTHON python3)
endif()
set(_parity ${DETKIT_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/retinanet/detect_parity.py
    ${PROJECT_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR}/cuda/tools/convert_torchvision_weights.py
    ${DETKIT_FIXTURES_DIR}/openimages/images)
detkit_add_script_test(detect_parity_320
  COMMAND ${_parity} ${DETKIT_TEST_WORK_DIR}/detect_parity_320 --size 320,512 --batch 4 --eps0
  LABELS reference TIMEOUT 900)
detkit_add_script_test(detect_parity_800
  COMMAND ${_parity} ${DETKIT_TEST_WORK_DIR}/detect_parity_800 --size 800,1333
  LABELS reference slow TIMEOUT 1500)

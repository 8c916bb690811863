# Tests of the evaluation headers: coco_eval.hpp, coco_json.hpp, open_images_eval.hpp and the
# detkit-eval program (issue 3). The JSON readers need simdjson (libsimdjson-dev).
if(TARGET simdjson::simdjson)
  detkit_add_test(test_coco_eval SOURCES test_coco_eval.cpp LIBS simdjson::simdjson LABELS eval)
else()
  message(STATUS "detkit: simdjson missing, COCO evaluation tests skipped")
endif()
detkit_add_test(test_open_images_eval SOURCES test_open_images_eval.cpp LABELS eval)

# Differential test against the live pycocotools (.ci/requirements.txt pins it and numpy): stats,
# per-class values and the precision/recall/scores arrays with `==`. Without pycocotools: exit 77
# (skipped), or a failure under DETKIT_REQUIRE_REFERENCES=1 (CI).
find_program(DETKIT_PYTHON3 python3)
if(TARGET detkit-eval AND DETKIT_PYTHON3)
  detkit_add_script_test(coco_differential
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/coco_differential.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_TEST_WORK_DIR} --cases 60 --big 2
            --fixtures ${DETKIT_FIXTURES_DIR}/coco
    LABELS eval TIMEOUT 600)
endif()

# Fuzz entries (replayed over their seed corpora as ctests, label fuzz).
if(TARGET simdjson::simdjson)
  detkit_add_fuzz(fuzz_coco_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_coco_json.cpp
    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/coco_json LIBS simdjson::simdjson)
endif()
detkit_add_fuzz(fuzz_eval_state SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_eval_state.cpp
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/eval_state)
detkit_add_fuzz(fuzz_detection_files SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_detection_files.cpp
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/detection_files)

# detkit-eval as a user runs it: help, exit codes, JSON vs the fixtures, text input, Open Images.
if(TARGET detkit-eval AND DETKIT_PYTHON3)
  detkit_add_script_test(detkit_eval_cli
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/detkit_eval_cli.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_FIXTURES_DIR} ${DETKIT_TEST_WORK_DIR}
    LABELS eval TIMEOUT 120)
  # --worst pictures: every box labelled (class, score, TP/FP/missed) and a legend.
  detkit_add_script_test(detkit_eval_worst_pictures
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/detkit_eval_worst_pictures.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_FIXTURES_DIR} ${DETKIT_TEST_WORK_DIR}
    LABELS eval TIMEOUT 120)
endif()

# The large synthetic case end to end against the live pycocotools (generates ~50 MB into the
# build tree; ~2-3 min, most of it pycocotools): label slow.
if(TARGET detkit-eval AND DETKIT_PYTHON3)
  detkit_add_script_test(coco_large_case
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/coco_large_case.py
            $<TARGET_FILE:detkit-eval> ${PROJECT_SOURCE_DIR} ${DETKIT_TEST_WORK_DIR}
    LABELS eval slow TIMEOUT 900)
endif()

# Differential test of the Open Images metric against the TF Object Detection API's own code
# (object-detection 0.0.3, installed --no-deps by .ci/setup); exit 77 = skipped when missing.
if(TARGET detkit-eval AND DETKIT_PYTHON3)
  detkit_add_script_test(oi_differential
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/oi_differential.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_TEST_WORK_DIR} --cases 300 --tie-cases 300
            --real-cases 200 --fixtures ${DETKIT_FIXTURES_DIR}/openimages
    LABELS eval TIMEOUT 300)
endif()

# Issue 7: shard-and-merge, the fixed mode, match log and reports (coco_eval_state.hpp,
# coco_eval_reports.hpp).
if(TARGET simdjson::simdjson)
  detkit_add_test(test_coco_eval_reports SOURCES test_coco_eval_reports.cpp
                  LIBS simdjson::simdjson LABELS eval)
endif()

# Per-detection matches of --match-log against the real pycocotools' evalImgs on every fixture
# case (exit 77 = skipped when pycocotools cannot be imported), and the issue-7 options end to end
# (--shard-state/--merge bit-identical, --mode fixed, --reports, diff).
if(TARGET detkit-eval AND DETKIT_PYTHON3)
  detkit_add_script_test(coco_match_log_differential
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/coco_match_log_differential.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_FIXTURES_DIR} ${DETKIT_TEST_WORK_DIR}/match_log
    LABELS eval TIMEOUT 120)
  detkit_add_script_test(detkit_eval_reports_cli
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/detkit_eval_reports_cli.py
            $<TARGET_FILE:detkit-eval> ${DETKIT_FIXTURES_DIR} ${DETKIT_TEST_WORK_DIR}/eval_reports
    LABELS eval TIMEOUT 120)
endif()

# Every reference test's import guard: skipped (77) locally, a failure under
# DETKIT_REQUIRE_REFERENCES=1 (CI), with the missing reference named.
if(DETKIT_PYTHON3)
  # retinanet.cmake defines test_retinanet_reference later (when CBLAS is found): a generate-time test.
  set(_ref_guard_args
      $<$<TARGET_EXISTS:test_retinanet_reference>:$<TARGET_FILE:test_retinanet_reference>>)
  detkit_add_script_test(reference_guards
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/reference_required_check.py
            ${PROJECT_SOURCE_DIR} ${DETKIT_TEST_WORK_DIR}/reference_guards ${_ref_guard_args}
    LABELS eval TIMEOUT 120)
endif()

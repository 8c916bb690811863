# detkit-eval: COCO mAP (pycocotools-exact) and the Open Images metric for any detector's output.
# Needs simdjson (libsimdjson-dev) for COCO JSON; stb (libstb-dev) only to draw the worst images.
if(TARGET simdjson::simdjson)
  set(_detkit_eval_libs simdjson::simdjson)
  if(TARGET detkit::stb)
    list(APPEND _detkit_eval_libs detkit::stb)
  endif()
  detkit_add_example(detkit-eval SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-eval.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/cache_ground_truth.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/coco_reports.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/coco_run_report.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/diff.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/open_images_run.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/options.cpp
                     ${CMAKE_CURRENT_SOURCE_DIR}/eval/worst_images.cpp
                     LIBS ${_detkit_eval_libs})
  target_compile_definitions(detkit-eval PRIVATE
                             DETKIT_EVAL_HAS_STB=$<BOOL:$<TARGET_EXISTS:detkit::stb>>)
else()
  message(STATUS "detkit: simdjson missing, detkit-eval skipped")
endif()

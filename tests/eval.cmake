# Tests of the evaluation headers: coco_eval.hpp, coco_json.hpp, open_images_eval.hpp and the
# detkit-eval program (issue 3). The JSON readers need simdjson (libsimdjson-dev).
if(TARGET simdjson::simdjson)
  detkit_add_test(test_coco_eval SOURCES test_coco_eval.cpp LIBS simdjson::simdjson LABELS eval)
else()
  message(STATUS "detkit: simdjson missing, COCO evaluation tests skipped")
endif()
detkit_add_test(test_open_images_eval SOURCES test_open_images_eval.cpp LABELS eval)

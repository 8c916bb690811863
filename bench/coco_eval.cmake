# COCO evaluation benchmark (issue 3): detkit vs pycocotools / faster-coco-eval on the large
# synthetic case. Run bench/coco_eval_driver.sh (it generates the input and times the peers).
if(TARGET simdjson::simdjson)
  detkit_add_bench(bench_coco_eval SOURCES bench_coco_eval.cpp LIBS simdjson::simdjson)
endif()

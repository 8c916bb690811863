# detkit-subset: select (names, MIDs, hierarchy) -> sample (caps, balance, stratified fraction) ->
# export (cache, COCO, YOLO, VOC, Detectron2) + per-class summary + manifest (--from-manifest).
# The anchor coverage report reuses the RetinaNet anchor math of cuda/ops/anchors (the CPU source
# is compiled in directly, so this program needs neither CBLAS nor the RetinaNet library).
detkit_add_example(detkit-subset SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-subset.cpp
                   ${CMAKE_CURRENT_SOURCE_DIR}/subset/anchor_coverage.cpp
                   ${PROJECT_SOURCE_DIR}/cuda/ops/anchors/anchors_cpu.cpp)
target_include_directories(detkit-subset PRIVATE ${PROJECT_SOURCE_DIR}/cuda/ops/anchors)

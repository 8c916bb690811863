# detkit-subset: select (names, MIDs, hierarchy) -> sample (caps, balance, stratified fraction) ->
# export (cache, COCO, YOLO, VOC, Detectron2) + per-class summary + manifest (--from-manifest).
# The anchor coverage report reuses cuda/ops/anchors (anchors) and cuda/model/transform (resize); their CPU sources
# are compiled in directly, so this program needs neither CBLAS nor the RetinaNet library.
detkit_add_example(detkit-subset SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-subset.cpp
                   ${CMAKE_CURRENT_SOURCE_DIR}/subset/anchor_coverage.cpp
                   ${CMAKE_CURRENT_SOURCE_DIR}/subset/summary.cpp
                   ${PROJECT_SOURCE_DIR}/cuda/ops/anchors/anchors_cpu.cpp
                   ${PROJECT_SOURCE_DIR}/cuda/model/transform.cpp)
target_include_directories(detkit-subset PRIVATE ${PROJECT_SOURCE_DIR}/cuda/ops/anchors
                           ${PROJECT_SOURCE_DIR}/cuda/model)

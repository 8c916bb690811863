# detkit-prepare: Open Images CSVs (+ image folder) -> binary label cache (+ Detectron2 JSON).
detkit_add_example(detkit-prepare SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-prepare.cpp)

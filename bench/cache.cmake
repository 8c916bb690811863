# Label cache reload benchmark (issue 2): detkit's binary cache vs the same records as
# Detectron2-style JSON read with simdjson ondemand, 14.6M boxes, same run, checksums compared.
#   build/bench/bench_cache            (full size; --images N --boxes N --runs R --dir DIR)
if(TARGET simdjson::simdjson)
  detkit_add_bench(bench_cache SOURCES bench_cache.cpp LIBS simdjson::simdjson)
endif()

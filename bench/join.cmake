# bench_join: the Open Images amenity join vs pandas/polars/DuckDB (bench/run_join_bench.sh).
detkit_add_bench(bench_join SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_join.cpp)

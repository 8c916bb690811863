# Download benchmark (issue 6): detkit-download --jobs 16 vs a downloader.py-style thread pool
# (Python urllib + ThreadPoolExecutor, 5 workers) against the same loopback server with 20 ms
# added per request, outputs checked by MD5. Not run by ctest (timings vary with machine load):
#   cmake --build build --target bench_download
# or directly: python3 bench/download/run_bench.py build/bin/detkit-download [--images N]
find_program(DETKIT_PYTHON3 python3)
if(TARGET detkit-download AND DETKIT_PYTHON3)
  add_custom_target(bench_download
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/download/run_bench.py
            $<TARGET_FILE:detkit-download> --work ${CMAKE_CURRENT_BINARY_DIR}/download-work
    DEPENDS detkit-download USES_TERMINAL)
endif()

# detkit-download: the pure queue/retry logic (always), and the fault-injecting loopback server
# tests of the libcurl program (only when libcurl was found, see examples/download.cmake).
detkit_add_test(test_download_queue SOURCES test_download_queue.cpp LABELS download)

# Fault tests against a loopback HTTP server the test starts itself (tests/download/): 404/403,
# 500/503 then 200, resets, stalls, truncated bodies, a slow server, Range on and off, SIGKILL +
# rerun (zero bytes fetched twice), Ctrl-C, disk full and an unwritable --out.
find_program(DETKIT_PYTHON3 python3)
if(TARGET detkit-download AND DETKIT_PYTHON3)
  add_executable(download_cache_dump download/cache_dump.cpp)  # reads labels.dkc for the test
  target_link_libraries(download_cache_dump PRIVATE detkit::detkit detkit_warnings)
  detkit_add_script_test(download_faults
    COMMAND ${DETKIT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/download/run_fault_tests.py
            $<TARGET_FILE:detkit-download> ${DETKIT_FIXTURES_DIR} ${DETKIT_TEST_WORK_DIR}/download
            --cache-dump $<TARGET_FILE:download_cache_dump>
    LABELS download TIMEOUT 180)
endif()

# http_headers.hpp: unit tests and the fuzz corpus replay (runs under ASan/UBSan in CI).
detkit_add_test(test_http_headers SOURCES test_http_headers.cpp LABELS download)
detkit_add_fuzz(fuzz_http_headers SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_http_headers.cpp
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/http_headers)

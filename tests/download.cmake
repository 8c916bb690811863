# detkit-download: the pure queue/retry logic (always), and the fault-injecting loopback server
# tests of the libcurl program (only when libcurl was found, see examples/download.cmake).
detkit_add_test(test_download_queue SOURCES test_download_queue.cpp LABELS download)

# detkit-download: parallel, resumable Open Images downloads on libcurl's multi interface.
# Built only when libcurl is found (Debian libcurl4-openssl-dev); libcurl stays in its own target
# so the library headers (download_queue.hpp, retry_policy.hpp, part_file.hpp) never need it.
find_package(CURL QUIET)  # third_party found it too, but its targets are directory-scoped
if(CURL_FOUND)
  add_library(detkit_curl_fetcher STATIC ${CMAKE_CURRENT_SOURCE_DIR}/download/curl_fetcher.cpp)
  target_include_directories(detkit_curl_fetcher PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(detkit_curl_fetcher PUBLIC detkit::detkit CURL::libcurl
                        PRIVATE detkit_warnings)
endif()
if(CURL_FOUND)
  detkit_add_example(detkit-download
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/detkit-download.cpp
            ${CMAKE_CURRENT_SOURCE_DIR}/download/selection.cpp
    LIBS detkit_curl_fetcher)
endif()

# Tests of the labels half of the dataset library: image_header.hpp, label_cache.hpp, split.hpp,
# detectron2_json.hpp, and the label-cache fuzz target's corpus replay.
detkit_add_test(test_image_header SOURCES test_image_header.cpp LABELS labels)
detkit_add_test(test_label_cache SOURCES test_label_cache.cpp LABELS labels)
detkit_add_fuzz(fuzz_label_cache SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_label_cache.cpp
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/label_cache)
detkit_add_test(test_split SOURCES test_split.cpp LABELS labels)

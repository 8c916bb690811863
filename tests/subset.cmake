# Tests of issue 8 (subsets): class_selection.hpp, subset_sampling.hpp, the exporters (read back
# by Python's json and xml.etree), manifest.hpp, detkit-subset end to end (manifest rebuild is
# byte-identical) and the anchor coverage report.
detkit_add_test(test_class_selection SOURCES test_class_selection.cpp LABELS subset)
detkit_add_test(test_subset_sampling SOURCES test_subset_sampling.cpp LABELS subset)

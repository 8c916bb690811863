# The Python package (python/, `import detkit`): built into the build tree as `pip install
# ./python` builds it, then its pytest suite (parity with live pycocotools, API, errors, README).
detkit_add_script_test(python_package
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/python_package.sh ${PROJECT_SOURCE_DIR}
          ${DETKIT_TEST_WORK_DIR}/python
  LABELS python TIMEOUT 900)

# The Python package (python/, `import detkit`): built into the build tree as `pip install
# ./python` builds it, then its pytest suite (parity with live pycocotools, API, errors, reports,
# README). detkit-prepare, when built, makes the label cache the LabelCache test reads.
set(_detkit_py_env "")
if(TARGET detkit-prepare)
  set(_detkit_py_env "DETKIT_PREPARE=$<TARGET_FILE:detkit-prepare>")
endif()
detkit_add_script_test(python_package
  COMMAND ${CMAKE_COMMAND} -E env ${_detkit_py_env}
          bash ${CMAKE_CURRENT_SOURCE_DIR}/python_package.sh ${PROJECT_SOURCE_DIR}
          ${DETKIT_TEST_WORK_DIR}/python
  LABELS python TIMEOUT 900)

#!/usr/bin/env bash
# Builds the Python package (python/) the way `pip install ./python` does, into a folder of the
# build tree (never the system site-packages), and runs its pytest suite against it: the parity
# tests against live pycocotools, the API, error and README tests.
# usage: python_package.sh SOURCE_DIR WORK_DIR
# Exit 77 (skip) when the build tools are missing, unless DETKIT_REQUIRE_REFERENCES=1.
set -euo pipefail
src=$1
work=$2
py=${PYTHON:-python3}
if ! "$py" -c "import nanobind, scikit_build_core, pytest, numpy" 2>/dev/null; then
  msg="nanobind, scikit-build-core, pytest and numpy are needed (pip install -r .ci/requirements.txt)"
  if [[ -n "${DETKIT_REQUIRE_REFERENCES:-}" && "${DETKIT_REQUIRE_REFERENCES}" != 0 ]]; then
    echo "FAIL: $msg" >&2
    exit 1
  fi
  echo "SKIP: $msg"
  exit 77
fi
mkdir -p "$work"
rm -rf "$work/site"
# --no-build-isolation: use the installed nanobind / scikit-build-core (no download); the CMake
# build folder stays in the build tree, so a rebuild only recompiles what changed.
"$py" -m pip install --quiet --no-build-isolation --no-deps --target "$work/site" \
  --config-settings=build-dir="$work/cmake-build" "$src/python"
cd "$work"
PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}" DETKIT_FIXTURES_DIR="$src/tests/fixtures" DETKIT_SOURCE_DIR="$src" \
  "$py" -m pytest -q -rs -p no:cacheprovider "$src/python/tests"
# The parity tests skip themselves without pycocotools (and fail under DETKIT_REQUIRE_REFERENCES):
# then the run as a whole is reported as skipped, not as a pass.
if ! "$py" -c "import pycocotools.cocoeval" 2>/dev/null; then
  echo "SKIP: the parity tests did not run: reference pycocotools cannot be imported;" \
       "install it: pip install pycocotools==2.0.11"
  exit 77
fi

#!/usr/bin/env python3
"""A reference that cannot be imported fails the test under DETKIT_REQUIRE_REFERENCES=1 (as .ci/run
sets it) and skips it (exit 77) otherwise. pycocotools, object_detection and torchvision are hidden
by shadow packages that raise ImportError; each reference test's import guard is run both ways.

usage: reference_required_check.py SOURCE_DIR WORK_DIR [TEST_RETINANET_REFERENCE]
"""
import os
import subprocess
import sys

src, work = sys.argv[1:3]
retinanet_reference = sys.argv[3] if len(sys.argv) > 3 else None
shadow = os.path.join(work, "hidden_references")
for pkg in ("pycocotools", "object_detection", "torchvision"):
    os.makedirs(os.path.join(shadow, pkg), exist_ok=True)
    with open(os.path.join(shadow, pkg, "__init__.py"), "w") as f:
        f.write(f"raise ImportError('{pkg} hidden by reference_required_check.py')\n")
tests = os.path.join(src, "tests")
scripts = [("coco_differential.py", "pycocotools", ["detkit-eval", work]),
           ("coco_match_log_differential.py", "pycocotools", ["detkit-eval", work, work]),
           ("coco_large_case.py", "pycocotools", ["detkit-eval", src, work]),
           ("oi_differential.py", "object_detection", ["detkit-eval", work]),
           ("check_anchor_coverage.py", "torchvision", [os.devnull])]
failures = []
for script, ref, args in scripts:
    for required, want_rc in (("1", 1), ("", 77)):
        env = dict(os.environ, PYTHONPATH=shadow, DETKIT_REQUIRE_REFERENCES=required)
        p = subprocess.run([sys.executable, os.path.join(tests, script), *args], env=env,
                           capture_output=True, text=True)
        named = ref in p.stdout or ref in p.stderr
        if p.returncode != want_rc or not named:
            failures.append(f"{script} with DETKIT_REQUIRE_REFERENCES={required!r}: exit {p.returncode} "
                            f"(want {want_rc}), names {ref}: {named}; {p.stdout.strip()[-200:]}")
if retinanet_reference:  # the C++ torchvision test probes `python -c 'import torchvision'`
    for required, want_rc in (("1", 1), ("", 77)):
        env = dict(os.environ, PYTHONPATH=shadow, DETKIT_REQUIRE_REFERENCES=required)
        p = subprocess.run([retinanet_reference, sys.executable, "unused.py", "unused.py", "tiny", work],
                           env=env, capture_output=True, text=True)
        if p.returncode != want_rc or "torchvision" not in p.stdout:
            failures.append(f"test_retinanet_reference with DETKIT_REQUIRE_REFERENCES={required!r}: exit "
                            f"{p.returncode} (want {want_rc}): {p.stdout.strip()[-200:]}")
    scripts.append(("test_retinanet_reference", "torchvision", []))
print(f"reference guards: {len(scripts)} tests x 2 settings, {len(failures)} failures")
for f in failures:
    print("  FAIL", f)
sys.exit(1 if failures else 0)

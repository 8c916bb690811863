#!/usr/bin/env python3
"""The large COCO case (5000 images, 36,244 GT, 500,000 detections) through detkit-eval, compared
with `==` to the live pycocotools (pinned in .ci/requirements.txt) and to the stored expected file
(made by tests/fixtures/coco/make_expected.py with the same versions): the 12 stats, all 80
categories' AP/AP50/AP75/AR100 and the whole precision/recall/scores arrays, with no detections
cut and at score >= 0.5. Inputs are generated with bench/tools/gen_coco_synth.py --large into the
build tree (never committed) and SHA-256 checked.

usage: coco_large_case.py DETKIT_EVAL SOURCE_DIR WORK_DIR
"""
import hashlib
import json
import os
import subprocess
import sys
import time

from coco_reference import VERSIONS, bits, compare, detkit_eval, pycocotools_eval

exe, src, work = sys.argv[1:4]
data = os.path.join(work, "coco_large")
os.makedirs(data, exist_ok=True)
exp = json.load(open(os.path.join(src, "tests", "fixtures", "coco", "large_synthetic.expected.json")))
gt = os.path.join(data, "large_synthetic.gt.json")
dt = os.path.join(data, "large_synthetic.dt.json")


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


if not (os.path.exists(gt) and os.path.exists(dt) and sha(gt) == exp["gt_sha256"] and sha(dt) == exp["dt_sha256"]):
    subprocess.run([sys.executable, os.path.join(src, "bench", "tools", "gen_coco_synth.py"), "--large", data],
                   check=True, stdout=subprocess.DEVNULL)
if sha(gt) != exp["gt_sha256"] or sha(dt) != exp["dt_sha256"]:
    print("FAIL: regenerated inputs do not match the expected SHA-256")
    sys.exit(1)

dets = json.load(open(dt))
failures = []
total = exact = stored_total = stored_exact = 0
for label, cutoff, stored in (("all", None, exp), ("score >= 0.5", 0.5, exp["score_cutoff"])):
    t0 = time.time()
    try:
        got, arrays = detkit_eval(exe, gt, dt, data, [] if cutoff is None else ["--score-thr", "0.5"])
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    took = time.time() - t0
    t0 = time.time()
    want = pycocotools_eval(gt, dets if cutoff is None else [d for d in dets if d["score"] >= cutoff])
    ref_took = time.time() - t0
    t, e, f = compare(f"large case, {label}", got, arrays, want)
    total, exact, failures = total + t, exact + e, failures + f
    # The stored file must be what these versions produce (else make_expected.py was not rerun).
    pairs = list(zip(got["stats"], stored["stats"]))
    pairs += [(g[k], w[k]) for g, w in zip(got["per_category"], stored["per_category"])
              for k in ("ap", "ap50", "ap75", "ar100")]
    stored_total += len(pairs)
    stored_exact += sum(bits(g) == bits(w) for g, w in pairs)
    if len(got["stats"]) != 12 or len(got["per_category"]) != 80 or len(stored["per_category"]) != 80:
        failures.append(f"{label}: expected 12 stats and 80 categories")
    print(f"large case, {label}: AP {got['stats'][0]!r} (pycocotools {want['stats'][0]!r}); "
          f"detkit-eval {took:.2f} s, pycocotools {ref_took:.1f} s")
# --numpy 1: pycocotools on numpy 1.24's numbers for the same case (stored before regeneration).
old = json.load(open(os.path.join(src, "tests", "fixtures", "coco", "numpy1.expected.json")))["cases"]["large_synthetic"]
got1, _ = detkit_eval(exe, gt, dt, data, ["--numpy", "1"])
same1 = sum(bits(g) == bits(w) for g, w in zip(got1["stats"], old["stats"]))
if same1 != 12 or old["stats"] == exp["stats"]:
    failures.append(f"--numpy 1: {same1}/12 stats equal pycocotools on numpy 1.24")
print(f"large case --numpy 1: {same1}/12 stats bit-identical to pycocotools on numpy 1.24")
if stored_exact != stored_total or stored_total != 2 * (12 + 80 * 4):
    failures.append(f"stored expected file: {stored_exact}/{stored_total} values bit-identical (want 664/664): "
                    "rerun tests/fixtures/coco/make_expected.py with the pinned versions")
print(f"large case vs live {VERSIONS}: {exact}/{total} values bit-identical (stats, per-class, "
      f"precision/recall/scores arrays); stored file {stored_exact}/{stored_total}")
for f in failures[:20]:
    print("  FAIL", f)
sys.exit(1 if failures or exact != total else 0)

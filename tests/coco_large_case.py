#!/usr/bin/env python3
"""The large COCO case (5000 images, 36,244 GT, 500,000 detections) through detkit-eval: generated
with bench/tools/gen_coco_synth.py --large into the build tree (never committed), SHA-256 checked
against tests/fixtures/coco/large_synthetic.expected.json, then stats and per-category values (all
detections, and score >= 0.5) compared with pycocotools' numbers stored there: within 1e-12, and
the bit-identical count printed. Stdlib only.

usage: coco_large_case.py DETKIT_EVAL SOURCE_DIR WORK_DIR
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import time

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

failures = []
total = exact = 0
for label, extra, want in (("all", [], exp), ("score >= 0.5", ["--score-thr", "0.5"], exp["score_cutoff"])):
    out = os.path.join(data, "out.json")
    t0 = time.time()
    p = subprocess.run([exe, "--gt", gt, "--dt", dt, "--json", out, *extra], capture_output=True, text=True)
    took = time.time() - t0
    if p.returncode != 0:
        print(f"FAIL: detkit-eval exit {p.returncode}: {p.stderr}")
        sys.exit(1)
    got = json.load(open(out))
    pairs = [(f"stats[{i}]", g, w) for i, (g, w) in enumerate(zip(got["stats"], want["stats"]))]
    for g, w in zip(got["per_category"], want["per_category"]):
        for k in ("ap", "ap50", "ap75", "ar100"):
            pairs.append((f"category {w['category_id']} {k}", g[k], w[k]))
    for name, g, w in pairs:
        total += 1
        exact += struct.pack("<d", g) == struct.pack("<d", w)
        if abs(g - w) > 1e-12:
            failures.append(f"{label} {name}: {g!r} vs pycocotools {w!r}")
    print(f"large case, {label}: AP {got['stats'][0]!r} (pycocotools {want['stats'][0]!r}), detkit-eval {took:.2f} s")
print(f"large case: {total} values within 1e-12: {total - len(failures)}, bit-identical: {exact}")
for f in failures[:20]:
    print("  FAIL", f)
sys.exit(1 if failures else 0)

"""Live pycocotools as the reference of detkit-eval: one evaluation's stats, per-class values and
eval['precision'|'recall'|'scores'] arrays, and the `==` comparison with detkit-eval's --json and
--arrays output. Used by coco_differential.py and coco_large_case.py.
"""
import contextlib
import io
import json
import os
import struct
import subprocess

from reference_support import missing_reference

try:
    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except Exception as exc:  # noqa: BLE001 - any import failure means "no reference available"
    missing_reference("pycocotools", exc, "pip install -r .ci/requirements.txt")

VERSIONS = f"pycocotools {__import__('importlib.metadata').metadata.version('pycocotools')}, numpy {np.__version__}"


def pycocotools_eval(gt_path, dets, max_dets=None, area_ranges=None):
    """COCOeval(gt, loadRes(dets), 'bbox') with optional maxDets / areaRng; None for empty dets
    (loadRes([]) raises in pycocotools)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_path)
        if not dets:
            return None
        coco_dt = coco_gt.loadRes(dets)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        if max_dets:
            ev.params.maxDets = list(max_dets)
        if area_ranges:
            ev.params.areaRng = [[lo, hi] for _, lo, hi in area_ranges]
            ev.params.areaRngLbl = [label for label, _, _ in area_ranges]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec, rec = ev.eval["precision"], ev.eval["recall"]
    per = []
    for k, cid in enumerate(ev.params.catIds):
        def mean(a):
            a = a[a > -1]
            return float(np.mean(a)) if a.size else -1.0
        t50 = int(np.where(ev.params.iouThrs == 0.5)[0][0])
        t75 = int(np.where(ev.params.iouThrs == 0.75)[0][0])
        per.append({"category_id": cid, "ap": mean(prec[:, :, k, 0, -1]),
                    "ap50": mean(prec[t50, :, k, 0, -1]), "ap75": mean(prec[t75, :, k, 0, -1]),
                    "ar100": mean(rec[:, k, 0, -1])})
    return {"stats": [float(s) for s in ev.stats], "per_category": per,
            "precision": prec, "recall": rec, "scores": ev.eval["scores"]}


def detkit_eval(exe, gt_path, dt_path, work, extra=()):
    """detkit-eval --json + --arrays; returns (json dict, {name: ndarray}) or raises RuntimeError."""
    out = os.path.join(work, "out.json")
    arrays = os.path.join(work, "arrays")
    p = subprocess.run([exe, "--gt", gt_path, "--dt", dt_path, "--json", out, "--arrays", arrays,
                        *extra], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"detkit-eval exit {p.returncode}: {p.stderr.strip()}")
    with open(out) as f:
        got = json.load(f)
    return got, {n: np.load(os.path.join(arrays, n + ".npy")) for n in ("precision", "recall", "scores")}


def bits(x):
    return struct.pack("<d", x)


def compare(label, got, got_arrays, want):
    """`==` on the 12 stats, every per-class AP/AP50/AP75/AR100 and the three arrays (shape, dtype,
    every element). Returns (values compared, values bit-identical, failure lines)."""
    failures = []
    pairs = [(f"stats[{j}]", g, w) for j, (g, w) in enumerate(zip(got["stats"], want["stats"]))]
    if len(got["stats"]) != 12 or len(want["stats"]) != 12:
        failures.append(f"{label}: {len(got['stats'])} stats vs {len(want['stats'])}")
    if len(got["per_category"]) != len(want["per_category"]):
        failures.append(f"{label}: per_category length {len(got['per_category'])} vs "
                        f"{len(want['per_category'])}")
    for g, w in zip(got["per_category"], want["per_category"]):
        if g["category_id"] != w["category_id"]:
            failures.append(f"{label}: category order {g['category_id']} vs {w['category_id']}")
        for key in ("ap", "ap50", "ap75", "ar100"):
            pairs.append((f"category {w['category_id']} {key}", g[key], w[key]))
    total = len(pairs)
    exact = sum(bits(g) == bits(w) for _, g, w in pairs)
    failures += [f"{label} {n}: detkit {g!r} pycocotools {w!r}" for n, g, w in pairs if bits(g) != bits(w)]
    for name in ("precision", "recall", "scores"):
        g, w = got_arrays[name], want[name]
        if g.shape != w.shape or g.dtype != w.dtype:
            failures.append(f"{label} {name}: shape/dtype {g.shape} {g.dtype} vs {w.shape} {w.dtype}")
            continue
        total += w.size
        same = g.view(np.uint64) == w.view(np.uint64)
        exact += int(same.sum())
        if not same.all():
            i = tuple(int(v) for v in np.argwhere(~same)[0])
            failures.append(f"{label} {name}: {int((~same).sum())} of {w.size} elements differ, first "
                            f"at {i}: detkit {g[i]!r} pycocotools {w[i]!r}")
    return total, exact, failures

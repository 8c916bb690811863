#!/usr/bin/env python3
"""Times one Python COCO evaluator on one GT/results pair in this (fresh) process: load /
evaluate / accumulate / summarize, wall and CPU seconds, peak RSS; prints one JSON line with the 12
stats, and with --arrays DIR saves eval['precision'|'recall'|'scores'] as .npy for a bit-for-bit
comparison with the other evaluators of the same run.

  pycocotools       pycocotools.COCO + COCOeval
  faster_coco_eval  faster_coco_eval.COCO + COCOeval_faster (separate_eval=True)
  hotcoco           hotcoco.COCO + COCOeval (Rust)
  vernier           pycocotools.COCO loader + vernier.COCOeval (Rust)

usage: coco_peers.py TOOL GT.json DT.json [--arrays DIR]
"""
import argparse
import contextlib
import io
import json
import os
import resource
import time
from importlib.metadata import version


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["pycocotools", "faster_coco_eval", "hotcoco", "vernier"])
    ap.add_argument("gt")
    ap.add_argument("dt")
    ap.add_argument("--arrays")
    a = ap.parse_args()
    if a.tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        make, dist = (lambda g, d: COCOeval(g, d, "bbox")), "pycocotools"  # noqa: E731
    elif a.tool == "faster_coco_eval":
        from faster_coco_eval import COCO, COCOeval_faster
        make, dist = (lambda g, d: COCOeval_faster(g, d, "bbox", separate_eval=True)), "faster-coco-eval"  # noqa: E731
    elif a.tool == "hotcoco":
        from hotcoco import COCO, COCOeval
        make, dist = (lambda g, d: COCOeval(g, d, "bbox")), "hotcoco"  # noqa: E731
    else:
        from pycocotools.coco import COCO
        from vernier import COCOeval
        make, dist = (lambda g, d: COCOeval(g, d, "bbox")), "vernier"  # noqa: E731
    w0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(a.gt)
        dt = gt.loadRes(a.dt)
        w1 = time.perf_counter()
        ev = make(gt, dt)
        ev.evaluate()
        w2 = time.perf_counter()
        ev.accumulate()
        w3 = time.perf_counter()
        ev.summarize()
        w4, c4 = time.perf_counter(), time.process_time()
    out = {"tool": a.tool, "version": version(dist), "load": w1 - w0, "evaluate": w2 - w1,
           "accumulate": w3 - w2, "summarize": w4 - w3, "total": w4 - w0, "cpu_total": c4 - c0,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "stats": [float(s) for s in list(ev.stats)[:12]]}
    if a.arrays:
        import numpy as np
        os.makedirs(a.arrays, exist_ok=True)
        for name in ("precision", "recall", "scores"):
            try:
                np.save(os.path.join(a.arrays, name + ".npy"), np.asarray(ev.eval[name], dtype=np.float64))
            except (KeyError, TypeError, AttributeError):
                pass  # this evaluator does not expose it
    print(json.dumps(out))


if __name__ == "__main__":
    main()

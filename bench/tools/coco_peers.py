#!/usr/bin/env python3
"""Times the Python COCO evaluators on one GT/results pair, in a fresh process per run:
pycocotools (COCOeval) and faster-coco-eval (COCOeval_faster), phases load / evaluate / accumulate
/ summarize, wall and CPU seconds, peak RSS; prints one JSON line per run with the 12 stats.

usage: coco_peers.py {pycocotools|faster_coco_eval} GT.json DT.json
"""
import contextlib
import io
import json
import resource
import sys
import time


def main():
    which, gt_path, dt_path = sys.argv[1:4]
    if which == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        make = lambda g, d: COCOeval(g, d, "bbox")  # noqa: E731
    else:
        from faster_coco_eval import COCO, COCOeval_faster
        make = lambda g, d: COCOeval_faster(g, d, "bbox", separate_eval=True)  # noqa: E731
    t = {}
    w0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        w1, c1 = time.perf_counter(), time.process_time()
        ev = make(gt, dt)
        ev.evaluate()
        w2, c2 = time.perf_counter(), time.process_time()
        ev.accumulate()
        w3, c3 = time.perf_counter(), time.process_time()
        ev.summarize()
        w4, c4 = time.perf_counter(), time.process_time()
    t = {"tool": which, "load": w1 - w0, "evaluate": w2 - w1, "accumulate": w3 - w2,
         "summarize": w4 - w3, "total": w4 - w0, "cpu_total": c4 - c0,
         "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
         "stats": [float(s) for s in ev.stats[:12]]}
    print(json.dumps(t))


if __name__ == "__main__":
    main()

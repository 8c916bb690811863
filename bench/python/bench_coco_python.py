#!/usr/bin/env python3
"""In-process benchmark of the Python COCO bbox evaluators, same run, same input:
detkit (this repository's package), pycocotools, faster-coco-eval, hotcoco and vernier.

Each (tool, input way, repetition) runs in a fresh worker process; the worker imports its tool and,
for the list way, reads the JSON into Python objects *before* the clock starts, so interpreter start
and imports are excluded. Timed: COCO(GT) -> loadRes(results) -> evaluate -> accumulate ->
summarize, as user code writes it.
  files: COCO(gt_path); gt.loadRes(dt_path)
  lists: COCO() + dataset + createIndex() (torchvision's get_coco_api_from_dataset); loadRes(list)
Peak memory is the worker's peak RSS (ru_maxrss) and its growth over the RSS before the clock.
Every tool's 12 stats are checked against detkit's (fast-but-wrong fails): bit-equal for
pycocotools, within 1e-12 for the others (faster-coco-eval drops pycocotools' eps).

usage: bench_coco_python.py GT.json DT.json [--runs N] [--tools a,b,...] [--markdown]
Make the large case with: python3 bench/tools/gen_coco_synth.py --large DIR
"""
import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time

TOOLS = ["detkit", "pycocotools", "faster-coco-eval", "hotcoco", "vernier"]
WAYS = ["files", "lists"]


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(tool, way, gt_path, dt_path):
    if tool == "detkit":
        from detkit import COCO, COCOeval
        make = lambda g, d: COCOeval(g, d, "bbox")  # noqa: E731
    elif tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        make = lambda g, d: COCOeval(g, d, "bbox")  # noqa: E731
    elif tool == "faster-coco-eval":
        from faster_coco_eval import COCO, COCOeval_faster
        make = lambda g, d: COCOeval_faster(g, d, "bbox")  # noqa: E731
    elif tool == "hotcoco":
        from hotcoco import COCO, COCOeval
        make = lambda g, d: COCOeval(g, d, "bbox")  # noqa: E731
    elif tool == "vernier":
        # vernier evaluates; loading is pycocotools' COCO (vernier has no loader of its own).
        from pycocotools.coco import COCO
        from vernier import COCOeval
        make = lambda g, d: COCOeval(g, d, "bbox")  # noqa: E731
    else:
        raise SystemExit(f"unknown tool {tool}")
    gt_data = dt_data = None
    if way == "lists":
        with open(gt_path) as f:
            gt_data = json.load(f)
        with open(dt_path) as f:
            dt_data = json.load(f)
    base = rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        if way == "files":
            gt = COCO(gt_path)
            dt = gt.loadRes(dt_path)
        else:
            gt = COCO()
            gt.dataset = gt_data
            gt.createIndex()
            dt = gt.loadRes(dt_data)
        t1 = time.perf_counter()
        ev = make(gt, dt)
        ev.evaluate()
        t2 = time.perf_counter()
        ev.accumulate()
        t3 = time.perf_counter()
        ev.summarize()
        t4, c4 = time.perf_counter(), time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"tool": tool, "way": way, "load": t1 - t0, "evaluate": t2 - t1,
                      "accumulate": t3 - t2, "summarize": t4 - t3, "total": t4 - t0,
                      "cpu": c4 - c0, "peak_rss_mb": peak, "growth_mb": peak - base,
                      "stats": [float(s) for s in list(ev.stats)[:12]]}))


def version(tool):
    from importlib import metadata
    try:
        return metadata.version(tool)
    except metadata.PackageNotFoundError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gt")
    ap.add_argument("dt")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--markdown", action="store_true", help="print the README table")
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "WAY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.gt, args.dt)
        return 0
    tools, ways = args.tools.split(","), args.ways.split(",")
    results = {}
    failed = False
    for way in ways:
        for run in range(args.runs):
            for tool in tools:  # interleaved, so load drifts hit every tool alike
                p = subprocess.run([sys.executable, __file__, args.gt, args.dt, "--worker", tool,
                                    way], capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"{tool} {way}: FAILED\n{p.stderr[-2000:]}", file=sys.stderr)
                    failed = True
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                results.setdefault((tool, way), []).append(r)
                print(f"{way:5} run {run + 1} {tool:16} total {r['total']:7.3f} s  cpu "
                      f"{r['cpu']:7.3f} s  peak {r['peak_rss_mb']:6.0f} MB", flush=True)
    # Checksum: every tool's stats against detkit's.
    for (tool, way), rs in results.items():
        ref = results.get(("detkit", way))
        if not ref or tool == "detkit":
            continue
        a, b = ref[0]["stats"], rs[0]["stats"]
        exact = tool == "pycocotools"
        ok = a == b if exact else all(abs(x - y) <= 1e-12 for x, y in zip(a, b))
        if not ok:
            print(f"STATS DIFFER: {tool} {way}: {b} vs detkit {a}", file=sys.stderr)
            failed = True
    load = os.getloadavg()[0]
    print(f"\nmedian of {args.runs} runs; 1-minute load average at the end: {load:.2f}")
    for way in ways:
        best_peer = min((statistics.median(r["total"] for r in rs)
                         for (t, w), rs in results.items() if w == way and t != "detkit"),
                        default=None)
        rows = []
        for tool in tools:
            rs = results.get((tool, way))
            if not rs:
                continue
            med = {k: statistics.median(r[k] for r in rs)
                   for k in ("load", "evaluate", "accumulate", "summarize", "total", "cpu",
                             "peak_rss_mb", "growth_mb")}
            rows.append((tool, med))
        dk = dict(rows).get("detkit")
        if args.markdown:
            print(f"\n{way}:\n")
            print("| tool | version | load | evaluate | accumulate | summarize | total (wall) "
                  "| CPU | vs detkit | peak RSS |")
            print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for tool, m in rows:
            ratio = m["total"] / dk["total"] if dk else float("nan")
            if args.markdown:
                name = f"**{tool}**" if tool == "detkit" else tool
                print(f"| {name} | {version(tool if tool != 'detkit' else 'detkit')} | "
                      f"{m['load']:.3f} | {m['evaluate']:.3f} | {m['accumulate']:.3f} | "
                      f"{m['summarize']:.3f} | {m['total']:.3f} s | {m['cpu']:.3f} s | "
                      f"{ratio:.1f}× | {m['peak_rss_mb']:.0f} MB (+{m['growth_mb']:.0f}) |")
            else:
                print(f"{way:5} {tool:16} total {m['total']:7.3f} s (load {m['load']:.3f}, "
                      f"evaluate {m['evaluate']:.3f}, accumulate {m['accumulate']:.3f}) "
                      f"cpu {m['cpu']:.3f} s  {ratio:5.1f}× detkit  peak {m['peak_rss_mb']:.0f} MB "
                      f"(+{m['growth_mb']:.0f})")
        if dk and best_peer:
            print(f"{way}: best peer / detkit = {best_peer / dk['total']:.2f}×")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

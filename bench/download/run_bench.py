#!/usr/bin/env python3
"""Benchmark: detkit-download (--jobs 16, libcurl multi) vs a downloader.py-style thread pool
(Python urllib + ThreadPoolExecutor, 5 workers) against the same loopback HTTP server
(tests/download/fault_server.py on 127.0.0.1, ephemeral port) with 20 ms added per request.
Payloads: the 8 real Open Images JPEGs of tests/fixtures, cycled over N synthetic ImageIDs. Both
fetchers' outputs are checked byte for byte (MD5) against the payloads, so fast-but-wrong fails.

usage: run_bench.py <detkit-download> [--images N] [--latency-ms MS] [--rounds R] [--work DIR]
Prints images/s and MB/s for each (median of R rounds, alternating order) and the ratio.
"""
import argparse
import glob
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detkit_download")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()

    images = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "openimages", "images", "*.jpg")))
    work = a.work or tempfile.mkdtemp(prefix="detkit-bench-download-")
    os.makedirs(work, exist_ok=True)
    ids = ["b%015x" % n for n in range(a.images)]
    payload = {i: images[n % len(images)] for n, i in enumerate(ids)}
    want = {p: md5(p) for p in images}
    total_bytes = sum(os.path.getsize(payload[i]) for i in ids)
    cfg = {"payloads": {"validation/%s.jpg" % i: p for i, p in payload.items()},
           "latency_ms": a.latency_ms, "range": True}
    cfg_path = os.path.join(work, "server.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    list_path = os.path.join(work, "images.list")
    with open(list_path, "w") as f:
        f.writelines("validation/%s\n" % i for i in ids)
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "download", "fault_server.py"),
                               cfg_path], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[1])
        template = "http://127.0.0.1:%d/{split}/{image_id}.jpg" % port

        def verify(folder, who):
            bad = [i for i in ids if not os.path.exists(os.path.join(folder, i + ".jpg"))
                   or md5(os.path.join(folder, i + ".jpg")) != want[payload[i]]]
            if bad:
                sys.exit("%s: %d files missing or wrong, e.g. %s" % (who, len(bad), bad[:3]))

        def child_cpu():
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime

        cpu = {"detkit": 0.0, "peer": 0.0}

        def run_detkit():
            out = os.path.join(work, "detkit")
            shutil.rmtree(out, ignore_errors=True)
            c = child_cpu()
            t = time.perf_counter()
            subprocess.run([a.detkit_download, "--image-list", list_path, "--out", out,
                            "--base-url", template, "--jobs", str(a.jobs), "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t
            cpu["detkit"] += child_cpu() - c
            verify(os.path.join(out, "validation"), "detkit-download")
            return dt

        def run_peer():
            out = os.path.join(work, "peer")
            shutil.rmtree(out, ignore_errors=True)
            c = child_cpu()
            t = time.perf_counter()
            subprocess.run([sys.executable, os.path.join(HERE, "peer_threadpool.py"), template, list_path,
                            out, str(a.workers)], check=True, stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t
            cpu["peer"] += child_cpu() - c
            verify(out, "thread-pool peer")
            return dt

        times = {"detkit": [], "peer": []}
        for r in range(a.rounds):
            order = [("detkit", run_detkit), ("peer", run_peer)]
            if r % 2:
                order.reverse()
            for name, fn in order:
                times[name].append(fn())
    finally:
        server.terminate()
        server.wait()
    mb = total_bytes / 1e6
    d, p = statistics.median(times["detkit"]), statistics.median(times["peer"])
    print("download bench: %d images (%.1f MB, 8 real Open Images JPEGs cycled), loopback server "
          "with %.0f ms added per request, median of %d rounds" % (a.images, mb, a.latency_ms, a.rounds))
    n = a.rounds
    print("  detkit-download --jobs %-3d %7.1f images/s %7.2f MB/s  (%.2f s wall, %.2f s CPU per run)" %
          (a.jobs, a.images / d, mb / d, d, cpu["detkit"] / n))
    print("  urllib ThreadPool(%d)     %7.1f images/s %7.2f MB/s  (%.2f s wall, %.2f s CPU per run)" %
          (a.workers, a.images / p, mb / p, p, cpu["peer"] / n))
    print("  ratio %.2fx images/s (target >= 3x: %s); all %d files of both byte-identical (MD5)" %
          (p / d, "met" if p / d >= 3 else "NOT met", a.images))


if __name__ == "__main__":
    main()

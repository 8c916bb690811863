#!/usr/bin/env python3
"""Fault tests of detkit-download against a real HTTP server on loopback that this script starts
(tests/download/fault_server.py, 127.0.0.1 on an ephemeral port; no other address is contacted).

usage: run_fault_tests.py <detkit-download> <fixtures dir> <work dir> [--cache-dump BIN] [scenario ...]

Payloads are the 8 real Open Images JPEGs in tests/fixtures/openimages/images (synthetic ImageIDs
reuse them). Each scenario asserts: every good file arrives byte-identical, no .part or empty file
remains, missing.csv lists exactly the 403/404s, and the server's request log shows the expected
requests (how many, which Range offsets, how many bytes), so "zero bytes downloaded twice" is a
count, not a hope.
"""
import atexit
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN, FIXTURES, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
REST = sys.argv[4:]
CACHE_DUMP = None
if REST[:1] == ["--cache-dump"]:
    CACHE_DUMP, REST = REST[1], REST[2:]
ONLY = set(REST)
IMAGES = sorted(glob.glob(os.path.join(FIXTURES, "openimages", "images", "*.jpg")))
REAL_IDS = [os.path.basename(p)[:-4] for p in IMAGES]
SPLIT = "validation"
FAILURES = []
SERVERS = []


@atexit.register
def _stop_servers():  # an exception in a scenario must not leave a server running
    for s in SERVERS:
        if s.proc.poll() is None:
            s.proc.kill()


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("  FAIL:", what, flush=True)
    return cond


def fake_id(n):
    return "f%015x" % n


class Server:
    def __init__(self, name, payloads, faults=None, range_ok=True, latency_ms=0, stall_s=5,
                 raw_payloads=None, raw_faults=None):
        self.dir = os.path.join(WORK, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "requests.jsonl")
        cfg = {
            "payloads": {"%s/%s.jpg" % (SPLIT, i): p for i, p in payloads.items()} | (raw_payloads or {}),
            "faults": {"%s/%s.jpg" % (SPLIT, i): f for i, f in (faults or {}).items()} | (raw_faults or {}),
            "range": range_ok, "latency_ms": latency_ms, "stall_s": stall_s, "log": self.log,
            "slow_chunk": 8192, "slow_delay_s": 0.03,
        }
        cfg_path = os.path.join(self.dir, "server.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_server.py"), cfg_path],
                                     stdout=subprocess.PIPE, text=True)
        SERVERS.append(self)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), "server did not start: %r" % line
        self.port = int(line.split()[1])
        self.base_url = "http://127.0.0.1:%d/{split}/{image_id}.jpg" % self.port

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def settled_requests(self):
        """The log once no request has been logged for 0.3 s (a handler logs after its last write)."""
        last, since = -1, time.time()
        while time.time() - since < 0.3:
            n = len(self.requests())
            if n != last:
                last, since = n, time.time()
            time.sleep(0.05)
        return self.requests()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(server, out, ids, extra=(), wait=True, **popen):
    lst = os.path.join(server.dir, "images.list")
    with open(lst, "w") as f:
        for i in ids:
            f.write("%s/%s\n" % (SPLIT, i))
    cmd = [BIN, "--image-list", lst, "--out", out, "--base-url", server.base_url,
           "--retry-delay", "0.05", "--stall-timeout", "1", "--progress-every", "0.5"] + list(extra)
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                **popen)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def assert_clean_and_identical(out, expected):
    """expected: {ImageID: payload path}. Checks the split folder file by file."""
    d = os.path.join(out, SPLIT)
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    check(not [n for n in names if n.endswith(".part")], "no .part files remain: %s" %
          [n for n in names if n.endswith(".part")])
    check(not [n for n in names if ".tmp." in n], "no temp files remain")
    empty = [n for n in names if os.path.getsize(os.path.join(d, n)) == 0]
    check(not empty, "no empty files: %s" % empty)
    for i, payload in expected.items():
        p = os.path.join(d, i + ".jpg")
        if check(os.path.exists(p), "%s downloaded" % i):
            check(md5(p) == md5(payload), "%s byte-identical to its payload" % i)
    jpgs = {n[:-4] for n in names if n.endswith(".jpg")}
    check(jpgs == set(expected), "only the good files exist: extra %s" % sorted(jpgs - set(expected)))


def read_missing(out):
    p = os.path.join(out, SPLIT, "missing.csv")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        lines = f.read().splitlines()
    check(lines[0] == "ImageID,Split,HTTPStatus,URL", "missing.csv header")
    return {l.split(",")[0]: int(l.split(",")[2]) for l in lines[1:]}


def by_path(reqs):
    out = {}
    for r in reqs:
        out.setdefault(r["path"].split("/")[-1][:-4], []).append(r)
    return out


# ---------------------------------------------------------------------------------------------
def scenario_faults(range_ok):
    name = "faults_range_%s" % ("on" if range_ok else "off")
    print("== %s" % name, flush=True)
    payloads = {i: p for i, p in zip(REAL_IDS, IMAGES)}
    for n in range(24):  # more good files, so 16 transfers really run at once
        payloads[fake_id(n)] = IMAGES[n % len(IMAGES)]
    r = REAL_IDS
    faults = {r[0]: ["500", "ok"], r[1]: ["503", "ok"], r[2]: ["reset", "ok"],
              r[3]: ["stall", "ok"], r[4]: ["truncate", "ok"], r[5]: ["slow"],
              fake_id(100): ["403"], fake_id(1): ["500", "500", "ok"]}
    missing = {fake_id(101): 404, fake_id(102): 404, fake_id(103): 404, fake_id(100): 403}
    payloads[fake_id(100)] = IMAGES[0]  # exists, but the server says 403
    srv = Server(name, payloads, faults, range_ok=range_ok, stall_s=4)
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    os.makedirs(d)
    # Leftovers of an earlier run: a complete file (skipped), a .part (resumed), a cut-short final
    # file (another tool's partial download: fetched again and replaced).
    shutil.copy(payloads[fake_id(2)], os.path.join(d, fake_id(2) + ".jpg"))
    with open(payloads[fake_id(3)], "rb") as f:
        data3 = f.read()
    with open(os.path.join(d, fake_id(3) + ".jpg.part"), "wb") as f:
        f.write(data3[:10000])
    with open(os.path.join(d, fake_id(4) + ".jpg"), "wb") as f:
        f.write(open(payloads[fake_id(4)], "rb").read()[:5000])
    # A whole file still named .part (a run killed between its last byte and the rename).
    shutil.copy(payloads[fake_id(5)], os.path.join(d, fake_id(5) + ".jpg.part"))
    ids = list(payloads) + [fake_id(101), fake_id(102), fake_id(103)]
    t0 = time.time()
    p = run(srv, out, ids, ["--jobs", "16"])
    dt = time.time() - t0
    print(p.stdout.strip())
    check(p.returncode == 0, "exit 0 (got %d): %s" % (p.returncode, p.stderr[-2000:]))
    good = {i: pl for i, pl in payloads.items() if i not in missing}
    assert_clean_and_identical(out, good)
    check(read_missing(out) == missing, "missing.csv lists exactly the 403/404s: %s" % read_missing(out))
    reqs = by_path(srv.requests())
    check(fake_id(2) not in reqs, "a complete file is not requested again")
    n = {i: len(v) for i, v in reqs.items()}
    check(n.get(r[0]) == 2 and n.get(r[1]) == 2 and n.get(r[2]) == 2, "500/503/reset: one retry each: %s" %
          [n.get(x) for x in r[:3]])
    check(n.get(fake_id(1)) == 3, "500, 500, then 200: three requests")
    check(n.get(r[3]) == 2, "stall: cut by the low-speed limit, one retry")
    check(n.get(r[4]) == 2, "truncated body: one retry")
    check(n.get(r[5]) == 1, "a slow but moving server is not cut")
    for m in missing:
        check(n.get(m) == 1, "missing %s asked once, never retried" % m)
    if range_ok:
        for i in (r[3], r[4]):
            second = reqs[i][1]
            check(second["range_start"] == reqs[i][0]["sent"] and second["status"] == 206,
                  "%s: the retry resumes at the bytes already received (%s)" % (i, second))
            check(sum(x["sent"] for x in reqs[i]) == os.path.getsize(payloads[i]),
                  "%s: no byte sent twice" % i)
        first3 = reqs[fake_id(3)][0]
        check(first3["range_start"] == 10000 and first3["status"] == 206 and
              first3["sent"] == len(data3) - 10000, "a leftover .part is resumed with Range")
        check("resumed" in p.stdout, "summary mentions resumes")
        r5 = reqs[fake_id(5)]
        check(len(r5) == 1 and r5[0]["status"] == 416 and r5[0]["sent"] == 0,
              "a whole .part is published after one 416, no byte fetched again (%s)" % r5)
    else:
        for i in (r[3], r[4], fake_id(3)):
            last = reqs[i][-1]
            check(last["status"] == 200 and last["sent"] == os.path.getsize(payloads[i]),
                  "%s: server ignores Range, the file restarts from byte 0 (%s)" % (i, last))
        check(reqs[fake_id(3)][0]["range_start"] == 10000, "it did ask for the range")
    check(reqs[fake_id(4)][0]["range_start"] is None, "a cut-short final file is fetched whole")
    check(dt < 30, "scenario took %.1f s" % dt)

    # A rerun fetches nothing: all good files are complete, the missing ones are in missing.csv.
    before = len(srv.requests())
    p2 = run(srv, out, ids)
    check(p2.returncode == 0, "rerun exit 0")
    check(len(srv.requests()) == before, "rerun sends no request (%d new)" % (len(srv.requests()) - before))
    check("%d skipped" % len(good) in p2.stdout, "rerun reports all good files skipped: " + p2.stdout)
    check(read_missing(out) == missing, "missing.csv unchanged by the rerun")
    p_sub = run(srv, out, ids[:3])
    check(p_sub.returncode == 0 and read_missing(out) == missing,
          "a run over a subset keeps the other rows of missing.csv: %s" % read_missing(out))
    # --retry-missing asks the server again, exactly for the missing ones.
    p3 = run(srv, out, ids, ["--retry-missing"])
    new = by_path(srv.requests()[before:])
    check(set(new) == set(missing), "--retry-missing asks only for the missing ones: %s" % sorted(new))
    check(p3.returncode == 0, "--retry-missing exit 0")
    srv.stop()


def scenario_kill_and_resume():
    print("== kill_and_resume", flush=True)
    payloads = {}
    for n in range(16):
        payloads[fake_id(200 + n)] = IMAGES[n % len(IMAGES)]
    stalled = [fake_id(200 + n) for n in range(0, 16, 3)]  # 6 transfers hang mid-body
    faults = {i: ["stall", "ok"] for i in stalled}
    srv = Server("kill_and_resume", payloads, faults, stall_s=60)
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    proc = run(srv, out, list(payloads), ["--jobs", "16", "--stall-timeout", "120"], wait=False)
    half = {i: os.path.getsize(payloads[i]) // 2 for i in stalled}
    done = [i for i in payloads if i not in stalled]
    deadline = time.time() + 30
    ready = False
    while time.time() < deadline and not ready:
        time.sleep(0.05)
        ready = all(os.path.exists(os.path.join(d, i + ".jpg")) for i in done) and all(
            os.path.exists(os.path.join(d, i + ".jpg.part")) and
            os.path.getsize(os.path.join(d, i + ".jpg.part")) == half[i] for i in stalled)
    check(ready, "first run reached the kill point (complete files + half-written .part files)")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = srv.settled_requests()
    check(len(first) == 16, "first run: 16 requests (%d)" % len(first))
    p = run(srv, out, list(payloads), ["--jobs", "16"])
    check(p.returncode == 0, "rerun exit 0: " + p.stderr[-1500:])
    second = by_path(srv.requests()[len(first):])
    check(set(second) == set(stalled), "rerun asks only for the unfinished files: %s" % sorted(second))
    for i in stalled:
        reqs = second.get(i, [])
        check(len(reqs) == 1 and reqs[0]["range_start"] == half[i] and reqs[0]["status"] == 206,
              "%s resumed at byte %d with one Range request (%s)" % (i, half[i], reqs))
    sent = {}
    for rq in srv.requests():
        key = rq["path"].split("/")[-1][:-4]
        sent[key] = sent.get(key, 0) + rq["sent"]
    twice = {i: sent.get(i, 0) - os.path.getsize(pl) for i, pl in payloads.items()
             if sent.get(i, 0) != os.path.getsize(pl)}
    check(not twice, "zero bytes downloaded twice over kill + rerun (extra bytes per file: %s)" % twice)
    total = sum(sent.values())
    print("  bytes served over both runs: %d = sum of file sizes %d" %
          (total, sum(os.path.getsize(p) for p in payloads.values())))
    assert_clean_and_identical(out, payloads)
    srv.stop()


def scenario_ctrl_c():
    print("== ctrl_c", flush=True)
    payloads = {fake_id(300 + n): IMAGES[n % len(IMAGES)] for n in range(40)}
    faults = {i: ["slow"] for i in payloads}
    srv = Server("ctrl_c", payloads, faults)
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    proc = run(srv, out, list(payloads), ["--jobs", "4"], wait=False)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.isdir(d) and any(n.endswith(".jpg") for n in os.listdir(d)):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    so, se = proc.communicate(timeout=30)
    check(proc.returncode == 130, "Ctrl-C exits 130 (got %d)" % proc.returncode)
    check("stopping" in se, "Ctrl-C is acknowledged on stderr")
    names = os.listdir(d)
    got = [n[:-4] for n in names if n.endswith(".jpg")]
    check(0 < len(got) < len(payloads), "stopped part-way (%d of %d)" % (len(got), len(payloads)))
    check(not [n for n in names if n.endswith(".part")], "running transfers finished: no .part left")
    for i in got:
        check(md5(os.path.join(d, i + ".jpg")) == md5(payloads[i]), "%s whole after Ctrl-C" % i)
    first = len(srv.settled_requests())
    check(first == len(got), "no transfer was abandoned half-way (%d requests, %d files)" % (first, len(got)))
    p = run(srv, out, list(payloads), ["--jobs", "16"])
    check(p.returncode == 0, "rerun after Ctrl-C exit 0")
    again = len(srv.settled_requests()) - first
    check(again == len(payloads) - len(got), "rerun fetches only the rest (%d requests for %d files)" %
          (again, len(payloads) - len(got)))
    assert_clean_and_identical(out, payloads)
    srv.stop()


def scenario_ctrl_c_twice():
    """Second Ctrl-C: running transfers stop at once; their .part files are resumed next run."""
    print("== ctrl_c_twice", flush=True)
    payloads = {fake_id(600 + n): IMAGES[n % len(IMAGES)] for n in range(24)}
    srv = Server("ctrl_c_twice", payloads, {i: ["slow", "ok"] for i in payloads})
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    proc = run(srv, out, list(payloads), ["--jobs", "8"], wait=False)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.isdir(d) and sum(n.endswith(".part") for n in os.listdir(d)) >= 4:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t = time.time()
    so, se = proc.communicate(timeout=30)
    check(proc.returncode == 130, "two Ctrl-C exit 130 (got %d)" % proc.returncode)
    check(time.time() - t < 2, "the second Ctrl-C stops at once")
    parts = {n[:-9]: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".jpg.part")}
    check(len(parts) > 0, "in-flight transfers left .part files to resume (%d)" % len(parts))
    srv.settled_requests()
    first = len(srv.requests())
    p = run(srv, out, list(payloads), ["--jobs", "16"])
    check(p.returncode == 0, "rerun after two Ctrl-C exit 0")
    again = by_path(srv.requests()[first:])
    for i, size in parts.items():
        rq = again.get(i, [])
        check(len(rq) == 1 and rq[0]["range_start"] == size and rq[0]["status"] == 206,
              "%s resumed at its .part size %d (%s)" % (i, size, rq))
    assert_clean_and_identical(out, payloads)
    srv.stop()


def scenario_give_up():
    """A file that keeps failing is given up after --retries attempts, named in failed.csv."""
    print("== give_up", flush=True)
    payloads = {fake_id(700 + n): IMAGES[n % len(IMAGES)] for n in range(6)}
    bad5, bad4 = fake_id(700), fake_id(701)
    srv = Server("give_up", payloads, {bad5: ["500"], bad4: ["400"]})
    out = os.path.join(srv.dir, "out")
    p = run(srv, out, list(payloads), ["--retries", "3"])
    check(p.returncode == 1, "failures exit 1 (got %d)" % p.returncode)
    n = {k: len(v) for k, v in by_path(srv.requests()).items()}
    check(n.get(bad5) == 3, "a 500 is tried --retries times (%s)" % n.get(bad5))
    check(n.get(bad4) == 1, "a 400 is not retried (%s)" % n.get(bad4))
    with open(os.path.join(out, SPLIT, "failed.csv")) as f:
        rows = [l.split(",") for l in f.read().splitlines()]
    check(rows[0] == ["ImageID", "Attempts", "Reason", "HTTPStatus", "Detail"], "failed.csv header")
    check(sorted((r[0], r[1], r[2], r[3]) for r in rows[1:]) ==
          sorted([(bad5, "3", "http", "500"), (bad4, "1", "http", "400")]), "failed.csv rows: %s" % rows)
    check("2 failed" in p.stdout, "summary counts the failures: " + p.stdout)
    good = {i: pl for i, pl in payloads.items() if i not in (bad5, bad4)}
    assert_clean_and_identical(out, good)
    srv.stop()


def scenario_disk_errors():
    print("== disk_errors", flush=True)
    payloads = {fake_id(400 + n): IMAGES[n % len(IMAGES)] for n in range(6)}
    srv = Server("disk_errors", payloads)
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    os.makedirs(d)
    # A .part that is really /dev/full: the first write fails with ENOSPC, as on a full disk.
    os.symlink("/dev/full", os.path.join(d, fake_id(400) + ".jpg.part"))
    p = run(srv, out, list(payloads), ["--jobs", "1"])
    check(p.returncode == 3, "disk full exits 3 (got %d)" % p.returncode)
    check("No space left on device" in p.stderr and "disk is full" in p.stderr,
          "disk full has a clear message: " + p.stderr[-600:])
    os.unlink(os.path.join(d, fake_id(400) + ".jpg.part"))
    for name in os.listdir(d):
        check(os.path.getsize(os.path.join(d, name)) > 0, "no empty file after the fatal error")
    p = run(srv, os.path.join("/dev/null", "out"), list(payloads))
    check(p.returncode == 3 and "cannot create folder" in p.stderr,
          "an unwritable --out exits 3 with a message: " + p.stderr)
    p = run(srv, out, list(payloads))
    check(p.returncode == 0, "after the disk is fixed, the rerun completes")
    assert_clean_and_identical(out, payloads)
    srv.stop()


# Real sizes of the fixture JPEGs (tests/fixtures/openimages/SOURCES.md, read from the SOF marker).
FIXTURE_SIZES = {"105433f9d808d18e": (1024, 1024), "41e2356b97f775c4": (1024, 1024),
                 "53912158f0b7dfce": (683, 1024), "a6fa6e875d6ae7fd": (1024, 680),
                 "52c33abf081b58ce": (731, 1024), "3b3a23644d0ba4b1": (1024, 640),
                 "69974d01b659acfe": (688, 1024), "c9ebd63bc789073a": (1024, 768)}


def scenario_csv_join_and_labels():
    """--boxes/--classes/--target: the join picks the images, the label cache holds their boxes."""
    print("== csv_join_and_labels", flush=True)
    mids = {"Apple": "/m/014j1m", "Orange": "/m/0cyhj_"}
    rows, boxes = [], {}
    for cls in ("Apple", "Orange"):
        with open(os.path.join(FIXTURES, "openimages", "images", cls + ".csv")) as f:
            for line in f.read().splitlines()[1:]:
                i, x0, x1, y0, y1 = line.split(",")
                v = ["%.6f" % float(x) for x in (x0, x1, y0, y1)]
                rows.append([i, "freeform", mids[cls], "1"] + v + ["0", "0", "0", "0", "0"])
                boxes.setdefault(i, []).append((cls, [float(x) for x in v]))
    gone = fake_id(500)  # in the CSV, not on the server: 404, no labels
    rows.append([gone, "xclick", mids["Apple"], "1", "0.1", "0.5", "0.1", "0.5", "0", "0", "0", "0", "0"])
    other = fake_id(501)  # a Bed image: not a target, never requested
    rows.append([other, "xclick", "/m/03ssj5", "1", "0.1", "0.5", "0.1", "0.5", "0", "0", "0", "0", "0"])
    rows.sort()
    srv_dir = os.path.join(WORK, "csv_join_input")
    shutil.rmtree(srv_dir, ignore_errors=True)
    os.makedirs(srv_dir)
    csv_path = os.path.join(srv_dir, "validation-annotations-bbox.csv")
    with open(csv_path, "w") as f:
        f.write("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
                "IsGroupOf,IsDepiction,IsInside\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    classes = os.path.join(FIXTURES, "openimages", "class-descriptions-boxable.v4.csv")
    srv = Server("csv_join", {i: p for i, p in zip(REAL_IDS, IMAGES)} | {other: IMAGES[0]},
                 raw_payloads={"csv/validation-annotations-bbox.csv": csv_path, "csv/classes.csv": classes},
                 raw_faults={"csv/validation-annotations-bbox.csv": ["truncate", "ok"]})
    out = os.path.join(srv.dir, "out")
    base = [BIN, "--classes", classes, "--target", "Orange,Apple", "--out", out]
    for flags, want in ((["--max-per-class", "2"], ["4 images selected", "Orange                                2        5",
                                                     "Apple                                 2        3"]),
                        (["--limit", "3"], ["3 images selected"]),
                        (["--require", "occluded=1"], ["0 images selected"]),
                        (["--exclude", "truncated"], ["9 images selected"])):
        dr = subprocess.run(base + ["--boxes", csv_path, "--dry-run"] + flags, capture_output=True, text=True)
        check(dr.returncode == 0 and all(w in dr.stdout for w in want),
              "dry run %s: %s in %s" % (flags, want, dr.stdout))
    cmd = [BIN, "--boxes", "http://127.0.0.1:%d/csv/validation-annotations-bbox.csv" % srv.port,
           "--classes", "http://127.0.0.1:%d/csv/classes.csv" % srv.port, "--target", "Orange,Apple",
           "--split", SPLIT, "--out", out, "--base-url", srv.base_url, "--retry-delay", "0.05"]
    two = subprocess.run(base + ["--boxes", csv_path, csv_path, "--split", "validation,test", "--dry-run",
                                 "--limit", "2"], capture_output=True, text=True, timeout=60)
    check(two.returncode == 0 and "validation: 2 images selected" in two.stdout and
          "test: 2 images selected" in two.stdout and "total: would fetch 4 images" in two.stdout,
          "one --boxes file per --split: " + two.stdout)
    dry = subprocess.run(base + ["--boxes", csv_path, "--dry-run"], capture_output=True, text=True, timeout=60)
    check(dry.returncode == 0 and "9 images selected" in dry.stdout, "dry run selects 9 images: " + dry.stdout)
    dry_url = subprocess.run(cmd + ["--dry-run"], capture_output=True, text=True, timeout=60)
    check(dry_url.returncode == 2 and "no network" in dry_url.stderr, "--dry-run refuses URLs")
    check(len(srv.requests()) == 0, "--dry-run sends no request")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "CSV run exit 0: " + p.stderr[-1500:])
    csv_reqs = [r for r in srv.requests() if r["path"] == "csv/validation-annotations-bbox.csv"]
    check(len(csv_reqs) == 2 and csv_reqs[1]["range_start"] == csv_reqs[0]["sent"] and
          sum(r["sent"] for r in csv_reqs) == os.path.getsize(csv_path),
          "a CSV URL is fetched first and resumed after a cut (%s)" % csv_reqs)
    local_csv = os.path.join(out, "csv", "validation-annotations-bbox.csv")
    check(os.path.exists(local_csv) and md5(local_csv) == md5(csv_path), "the CSV arrives whole")
    asked = {r["path"].split("/")[-1][:-4] for r in srv.requests() if r["path"].startswith(SPLIT)}
    check(asked == set(REAL_IDS) | {gone}, "only the joined images are requested: %s" % sorted(asked))
    assert_clean_and_identical(out, {i: p for i, p in zip(REAL_IDS, IMAGES)})
    check(read_missing(out) == {gone: 404}, "missing.csv has the 404")
    cache = os.path.join(out, SPLIT, "labels.dkc")
    if not check(os.path.exists(cache), "label cache written"):
        return
    if CACHE_DUMP:
        d = subprocess.run([CACHE_DUMP, cache], capture_output=True, text=True)
        check(d.returncode == 0, "cache opens: " + d.stderr)
        lines = d.stdout.splitlines()
        check(lines[:2] == ["class /m/0cyhj_ Orange", "class /m/014j1m Apple"],
              "classes in --target order: %s" % lines[:2])
        images, cur = {}, None
        for l in lines[2:]:
            f = l.split()
            if f[0] == "image":
                cur = f[1]
                images[cur] = {"file": f[2], "size": (int(f[3]), int(f[4])), "boxes": []}
            elif f[0] == "box":
                images[cur]["boxes"].append((int(f[1]), [float(x) for x in f[2:]]))
        check(set(images) == set(REAL_IDS), "labels for exactly the images on disk: %s" % sorted(images))
        names = ["Orange", "Apple"]
        for i, rec in images.items():
            check(rec["file"] == i + ".jpg", "%s file_name" % i)
            check(rec["size"] == FIXTURE_SIZES[i], "%s size from the JPEG header %s" % (i, rec["size"]))
            # CSV order XMin,XMax,YMin,YMax -> XYXY
            want = sorted((names.index(c), [v[0], v[2], v[1], v[3]]) for c, v in boxes[i])
            got = sorted(rec["boxes"])
            check(len(got) == len(want), "%s: %d boxes" % (i, len(want)))
            w, h = rec["size"]
            for (gc, gv), (wc, wv) in zip(got, want):
                x0, y0, x1, y1 = rel = wv
                check(gc == wc and all(abs(a - b) < 1e-6 for a, b in zip(gv[:4], rel)) and
                      all(abs(a - b) < 1e-3 for a, b in zip(gv[4:], [x0 * w, y0 * h, x1 * w, y1 * h])),
                      "%s box %s matches the CSV row %s" % (i, gv, wv))
    srv.stop()


def write_fruit_csv(path, extra_rows=()):
    """A 13-column bbox CSV with the real V4 Apple/Orange boxes of the 8 fixture images."""
    mids = {"Apple": "/m/014j1m", "Orange": "/m/0cyhj_"}
    rows = []
    for cls in ("Apple", "Orange"):
        with open(os.path.join(FIXTURES, "openimages", "images", cls + ".csv")) as f:
            for line in f.read().splitlines()[1:]:
                i, x0, x1, y0, y1 = line.split(",")
                rows.append([i, "freeform", mids[cls], "1"] + ["%.6f" % float(x) for x in (x0, x1, y0, y1)] +
                            ["0"] * 5)
    rows = sorted(rows + list(extra_rows))
    with open(path, "w") as f:
        f.write("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
                "IsGroupOf,IsDepiction,IsInside\n")
        f.writelines(",".join(r) + "\n" for r in rows)


def cache_images(cache):
    d = subprocess.run([CACHE_DUMP, cache], capture_output=True, text=True)
    return {l.split()[1] for l in d.stdout.splitlines() if l.startswith("image ")} if d.returncode == 0 else None


def scenario_labels_while_downloading():
    """The label cache is rewritten during the run for the images already on disk."""
    if not CACHE_DUMP:
        return
    print("== labels_while_downloading", flush=True)
    in_dir = os.path.join(WORK, "labels_live_input")
    shutil.rmtree(in_dir, ignore_errors=True)
    os.makedirs(in_dir)
    csv_path = os.path.join(in_dir, "boxes.csv")
    write_fruit_csv(csv_path)
    held = REAL_IDS[7]  # hangs mid-body until the run is stopped
    srv = Server("labels_live", {i: p for i, p in zip(REAL_IDS, IMAGES)}, {held: ["stall", "ok"]}, stall_s=60)
    out = os.path.join(srv.dir, "out")
    d = os.path.join(out, SPLIT)
    cache = os.path.join(d, "labels.dkc")
    cmd = [BIN, "--boxes", csv_path, "--classes",
           os.path.join(FIXTURES, "openimages", "class-descriptions-boxable.v4.csv"),
           "--target", "Apple,Orange", "--out", out, "--base-url", srv.base_url,
           "--labels-every", "0.2", "--stall-timeout", "120", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    others = set(REAL_IDS) - {held}
    seen, deadline = None, time.time() + 20
    while time.time() < deadline:
        if os.path.exists(cache):
            seen = cache_images(cache)
            if seen == others:
                break
        time.sleep(0.1)
    check(proc.poll() is None, "the run is still going (one transfer is held)")
    check(seen == others, "during the run, labels.dkc holds exactly the 7 images on disk: %s" % seen)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    check(proc.returncode == 130, "stopped with two Ctrl-C (exit %d)" % proc.returncode)
    check(cache_images(cache) == others, "after Ctrl-C the labels match the images on disk")
    p = subprocess.run(cmd[:-5] + ["--quiet"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "rerun completes")
    check(cache_images(cache) == set(REAL_IDS), "the rerun's labels cover all 8 images")
    srv.stop()


SCENARIOS = {
    "faults_range_on": lambda: scenario_faults(True),
    "faults_range_off": lambda: scenario_faults(False),
    "kill_and_resume": scenario_kill_and_resume,
    "ctrl_c": scenario_ctrl_c,
    "ctrl_c_twice": scenario_ctrl_c_twice,
    "give_up": scenario_give_up,
    "disk_errors": scenario_disk_errors,
    "csv_join_and_labels": scenario_csv_join_and_labels,
    "labels_while_downloading": scenario_labels_while_downloading,
}

if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    t0 = time.time()
    for name, fn in SCENARIOS.items():
        if ONLY and name not in ONLY:
            continue
        fn()
    print("fault tests: %d failure(s) in %.1f s" % (len(FAILURES), time.time() - t0))
    sys.exit(1 if FAILURES else 0)

#!/usr/bin/env python3
"""Per-detection matches of `detkit-eval --match-log` against the real pycocotools' evalImgs.

For every fixture case in tests/fixtures/coco (cases.json) and IoU thresholds 0.50, 0.75 and 0.95,
runs pycocotools 2.0.11 COCOeval.evaluate() and detkit-eval --match-log (JSON) at the same
threshold and maxDets 100, then checks, for every evalImgs entry of area range "all":
  * each detection in dtIds: pycocotools' dtMatches (matched GT id, 0 = none) and dtIgnore give
    the same status (tp / fp / ignored) and the same matched GT id as detkit's log (detkit also
    names a match to GT id 0, which pycocotools cannot tell from "none": reason gt_id_zero);
  * each GT in gtIds: gtMatches / gtIgnore give the same matched / missed / ignored and the same
    detection id (pycocotools' dt id = detkit index + 1);
  * detections outside every dtIds (beyond maxDets, undeclared category) are not counted by detkit;
  * the log's TP / FP / missed totals equal the counts derived from evalImgs.
Also reads the CSV form once per case and checks it carries the same matches.
Usage: coco_match_log_differential.py DETKIT_EVAL FIXTURES_DIR WORK_DIR
Exit 0 pass, 1 mismatch, 77 pycocotools missing (skipped).
"""
import contextlib
import csv
import io
import json
import os
import subprocess
import sys

try:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except ImportError as exc:
    from reference_support import missing_reference
    missing_reference("pycocotools", exc, "pip install -r .ci/requirements.txt")


def quiet(fn, *a):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*a)


def main():
    exe, fixtures, work = sys.argv[1:4]
    coco_dir = os.path.join(fixtures, "coco")
    os.makedirs(work, exist_ok=True)
    cases = json.load(open(os.path.join(coco_dir, "cases.json")))
    failures = []
    checked_cases = checked_dt = checked_gt = 0
    skipped = []
    for case in cases:
        name = case["name"]
        gt_path = os.path.join(coco_dir, name + ".gt.json")
        dt_path = os.path.join(coco_dir, name + ".dt.json")
        dts = json.load(open(dt_path))
        try:
            gt = quiet(COCO, gt_path)
            if not dts:
                raise IndexError("loadRes([]) raises IndexError")
            dt = quiet(gt.loadRes, dt_path)
            ev = COCOeval(gt, dt, "bbox")
            quiet(ev.evaluate)
        except Exception as e:  # the cases pycocotools itself cannot evaluate
            skipped.append(f"{name} ({type(e).__name__})")
            continue
        checked_cases += 1
        p = ev.params
        all_rng = list(p.areaRng[0])
        for t in (0, 5, 9):
            thr = float(p.iouThrs[t])
            out = os.path.join(work, f"{name}.{t}.json")
            r = subprocess.run([exe, "--gt", gt_path, "--dt", dt_path, "--match-log", out,
                                "--report-iou", repr(thr), "--report-max-dets", "100"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"{name}: detkit-eval failed: {r.stderr.strip()}")
                continue
            log = json.load(open(out))
            dets = log["detections"]
            gt_by_id = {g["id"]: g for g in log["gt"]}
            seen = set()
            tp = fp = missed = 0
            for e in ev.evalImgs:
                if e is None or list(e["aRng"]) != all_rng:
                    continue
                for j, dt_id in enumerate(e["dtIds"]):
                    seen.add(dt_id)
                    m = int(e["dtMatches"][t][j])
                    ig = bool(e["dtIgnore"][t][j])
                    d = dets[dt_id - 1]
                    checked_dt += 1
                    want = "ignored" if ig else ("tp" if m != 0 else "fp")
                    tp += want == "tp"
                    fp += want == "fp"
                    ok = d["status"] == want
                    if m != 0:
                        ok = ok and d["gt"] is not None and d["gt"]["id"] == m
                    elif d["status"] == "fp" and d["reason"] == "gt_id_zero":
                        ok = ok and d["gt"]["id"] == 0
                    elif d["status"] == "ignored":
                        ok = ok and (d["gt"] is None or d["gt"]["id"] == 0
                                     or d["reason"] == "dt_outside_area")
                    if not ok:
                        failures.append(f"{name} IoU {thr}: dt id {dt_id}: pycocotools {want} "
                                        f"(dtMatches {m}), detkit {d['status']} {d['reason']} "
                                        f"{d['gt']}")
                for j, g_id in enumerate(e["gtIds"]):
                    gm = int(e["gtMatches"][t][j])
                    gig = bool(e["gtIgnore"][j])
                    g = gt_by_id[g_id]
                    checked_gt += 1
                    if gig:
                        ok = g["status"] == "ignored"
                    else:
                        counted = gm != 0 and g_id != 0
                        missed += not counted
                        ok = g["status"] == ("matched" if counted else "missed")
                        if gm != 0:
                            ok = ok and g["detection"] is not None and g["detection"]["dt_id"] == gm
                        else:
                            ok = ok and g["detection"] is None
                    if not ok:
                        failures.append(f"{name} IoU {thr}: gt id {g_id}: pycocotools gtMatches "
                                        f"{gm} ignore {gig}, detkit {g}")
            for d in dets:
                if d["dt_id"] not in seen and d["status"] != "not_counted":
                    failures.append(f"{name} IoU {thr}: dt id {d['dt_id']} is in no evalImgs "
                                    f"entry but detkit says {d['status']}")
            c = log["counts"]
            if (c["tp"], c["fp"], c["gt_missed"]) != (tp, fp, missed):
                failures.append(f"{name} IoU {thr}: counts tp/fp/missed detkit "
                                f"{c['tp']}/{c['fp']}/{c['gt_missed']}, pycocotools {tp}/{fp}/{missed}")
        # The CSV form: same matches, and "no match" is an empty cell, never 0.
        out_csv = os.path.join(work, f"{name}.csv")
        subprocess.run([exe, "--gt", gt_path, "--dt", dt_path, "--match-log", out_csv],
                       check=True, capture_output=True)
        rows = list(csv.DictReader(open(out_csv)))
        log = json.load(open(os.path.join(work, f"{name}.0.json")))
        dt_rows = [r for r in rows if r["record"] == "dt"]
        if len(dt_rows) != len(log["detections"]):
            failures.append(f"{name}: CSV has {len(dt_rows)} detection rows")
        for r, d in zip(dt_rows, log["detections"]):
            want = str(d["gt"]["id"]) if d["gt"] else ""
            if r["match_id"] != want or r["status"] != d["status"] or (r["match"] == "") != (
                    d["gt"] is None):
                failures.append(f"{name}: CSV row {r} differs from JSON {d}")
                break
    print(f"{checked_cases} fixture cases x 3 IoU thresholds: {checked_dt} detection and "
          f"{checked_gt} GT matches compared with pycocotools' evalImgs; skipped (pycocotools "
          f"cannot evaluate them): {', '.join(skipped) or 'none'}")
    for f in failures[:30]:
        print("MISMATCH", f)
    if failures:
        print(f"{len(failures)} mismatches")
        return 1
    if checked_cases < 15:
        print("too few cases compared")
        return 1
    print("all matches agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

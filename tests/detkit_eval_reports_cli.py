#!/usr/bin/env python3
"""detkit-eval's issue-7 options as a user runs them.

  * --shard-state / --merge: the fixture random_c split into 2, 3 and 7 shards of images (separate
    GT and detection files per shard, as separate machines would have them) merges to a --json
    output whose stats, per-category values and sweep are identical to the single run's, and equal
    to pycocotools' expected values; a corrupt or truncated state file is refused with exit 2 and a
    located message.
  * --mode fixed vs pycocotools with --max-dets 1,10,1000 and custom --area-ranges: both numbers.
  * --reports: the JSON's counts agree with the match log and with the summary's recall.
  * diff: identical outputs exit 0 (also detkit vs pycocotools' expected.json), changed result
    sets exit 1 and name the changed detection and class.
Usage: detkit_eval_reports_cli.py DETKIT_EVAL FIXTURES_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

exe, fixtures, work = sys.argv[1:4]
coco = os.path.join(fixtures, "coco")
os.makedirs(work, exist_ok=True)
failures = []


def run(*args, expect=0):
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    if r.returncode != expect:
        failures.append(f"{' '.join(args)}: exit {r.returncode}, expected {expect}: {r.stderr}")
    return r


def check(cond, what):
    if not cond:
        failures.append(what)


gt_path = os.path.join(coco, "random_c.gt.json")
dt_path = os.path.join(coco, "random_c.dt.json")
gt = json.load(open(gt_path))
dts = json.load(open(dt_path))
expected = json.load(open(os.path.join(coco, "random_c.expected.json")))

single = os.path.join(work, "single.json")
run("--gt", gt_path, "--dt", dt_path, "--sweep", "--json", single)
one = json.load(open(single))
check(one["stats"] == expected["stats"], "single run differs from pycocotools")

# ---- shard and merge ---------------------------------------------------------------------------
for n in (2, 3, 7):
    states = []
    images = sorted(im["id"] for im in gt["images"])
    for s in range(n):
        keep = set(images[s::n])
        g = dict(gt)
        g["images"] = [im for im in gt["images"] if im["id"] in keep]
        g["annotations"] = [a for a in gt["annotations"] if a["image_id"] in keep]
        d = [x for x in dts if x["image_id"] in keep]
        gp, dp = os.path.join(work, f"s{n}_{s}.gt.json"), os.path.join(work, f"s{n}_{s}.dt.json")
        json.dump(g, open(gp, "w"))
        json.dump(d, open(dp, "w"))
        sp = os.path.join(work, f"s{n}_{s}.state")
        run("--gt", gp, "--dt", dp, "--shard-state", sp)
        states.append(sp)
    merged = os.path.join(work, f"merged{n}.json")
    run("--merge", *states, "--sweep", "--json", merged)
    m = json.load(open(merged))
    check(m["stats"] == one["stats"], f"{n} shards: stats differ from the single run")
    check([(c["category_id"], c["ap"], c["ap50"], c["ap75"], c["ar100"]) for c in m["per_category"]]
          == [(c["category_id"], c["ap"], c["ap50"], c["ap75"], c["ar100"])
              for c in one["per_category"]], f"{n} shards: per-category values differ")
    check(m["sweep"] == one["sweep"], f"{n} shards: sweep differs")
    print(f"{n} shards merged: AP {m['stats'][0]!r} (single run {one['stats'][0]!r})")

state = open(os.path.join(work, "s2_0.state"), "rb").read()
bad = bytearray(state)
bad[len(bad) // 2] ^= 1
open(os.path.join(work, "bad.state"), "wb").write(bad)
r = run("--merge", os.path.join(work, "bad.state"), os.path.join(work, "s2_1.state"), expect=2)
check("bad.state: byte" in r.stderr and "checksum" in r.stderr, f"corrupt state: {r.stderr}")
open(os.path.join(work, "short.state"), "wb").write(state[:100])
r = run("--merge", os.path.join(work, "short.state"), expect=2)
check("short.state: byte" in r.stderr, f"truncated state: {r.stderr}")
r = run("--merge", os.path.join(work, "s2_0.state"), os.path.join(work, "s2_0.state"), expect=2)
check("disjoint" in r.stderr, f"overlapping shards: {r.stderr}")

# ---- fixed mode --------------------------------------------------------------------------------
ranges = "all:0:1e10,tiny:0:256,mid:256:4096,big:4096:1e10"
modes = {}
for mode in ("pycocotools", "fixed"):
    out = os.path.join(work, f"mode_{mode}.json")
    r = run("--gt", gt_path, "--dt", dt_path, "--mode", mode, "--max-dets", "1,10,1000",
            "--area-ranges", ranges, "--json", out)
    modes[mode] = json.load(open(out))["stats"]
    print(f"--mode {mode} --max-dets 1,10,1000 --area-ranges {ranges}:\n{r.stdout}")
check(modes["pycocotools"][0] == -1 and modes["fixed"][0] > 0, "F1: AP line with maxDets 1000")
check(all(modes["pycocotools"][i] == -1 and modes["fixed"][i] >= 0 for i in (3, 4, 5, 9, 10, 11)),
      "F2: custom area ranges")
check(modes["pycocotools"][1] == modes["fixed"][1], "AP50 should not depend on the mode")

# ---- reports -----------------------------------------------------------------------------------
rep_json = os.path.join(work, "reports.json")
log_json = os.path.join(work, "log.json")
run("--gt", gt_path, "--dt", dt_path, "--reports", "--conf", "0", "--json", rep_json,
    "--match-log", log_json)
rep = json.load(open(rep_json))["reports"]
log = json.load(open(log_json))
total = rep["counts"][-1]
check(total["tp"] == log["counts"]["tp"] and total["fp"] == log["counts"]["fp"]
      and total["fn"] == log["counts"]["gt_missed"], f"counts {total} vs log {log['counts']}")
check(len(rep["per_category_stats"]) == len(gt["categories"]), "per-class table size")
check(all(len(c["points"]) == 102 for c in rep["pr_curves"]), "101 PR points + header")
cm = rep["confusion_matrix"]["cells"]
check(sum(sum(r) for r in cm[:-1]) == total["tp"] + total["fn"]
      and sum(cm[-1]) + sum(cm[i][j] for i in range(len(cm) - 1) for j in range(len(cm) - 1)
                            if i != j) == total["fp"],
      "confusion matrix rows/columns do not add up to GT / FP")
for c, s in zip(rep["per_category_stats"], one["per_category"]):
    check(c["stats"]["AP"] == s["ap"], f"per-class AP {c['category_id']}")

# ---- diff --------------------------------------------------------------------------------------
r = run("diff", single, os.path.join(coco, "random_c.expected.json"))
check("12/12 stats bit-identical" in r.stdout, "diff vs pycocotools' expected")
changed = [dict(d) for d in dts]
changed[5]["score"] = 0.0001
changed[7]["bbox"] = [changed[7]["bbox"][0] + 30] + changed[7]["bbox"][1:]
cp = os.path.join(work, "changed.dt.json")
json.dump(changed, open(cp, "w"))
r = run("diff", "--gt", gt_path, "--dt", dt_path, "--dt", cp, expect=1)
check("A#7 only in A" in r.stdout and "B#7 only in B" in r.stdout, f"diff output:\n{r.stdout}")
print(r.stdout[:1500])

for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""CLI test of detkit-eval (stdlib only): --help documents every format, exit codes and messages
on bad input, --json equals pycocotools' fixture numbers (also at --score-thr 0.5 and for the same
detections written as per-image text files), the Open Images metric runs on the real Bed boxes.

usage: detkit_eval_cli.py DETKIT_EVAL FIXTURES_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

exe, fixtures, work = sys.argv[1], sys.argv[2], sys.argv[3]
work = os.path.join(work, f"detkit_eval_cli.{os.getpid()}")
os.makedirs(work, exist_ok=True)
failures = []


def run(*args):
    return subprocess.run([exe, *args], capture_output=True, text=True)


def check(cond, what):
    if not cond:
        failures.append(what)


coco = os.path.join(fixtures, "coco")
oi = os.path.join(fixtures, "openimages")

p = run("--help")
check(p.returncode == 0, "--help exits 0")
for needle in ("COCO instances JSON", "COCO results JSON", "predictions CSV", "ImageID,LabelName,Score,XMin,XMax,YMin,YMax",
               "bed 0.92 14.5 34.0 617.2 384.3", "--score-thr", "--sweep", "--per-class", "--json",
               "--metric", "--pr-curves", "--worst", "--threads", "exit status"):
    check(needle in p.stdout, f"--help mentions {needle!r}")

p = run("--gt", os.path.join(coco, "crowd.gt.json"))
check(p.returncode == 2 and "--dt" in p.stderr, f"missing --dt: exit 2 with message ({p.returncode}, {p.stderr!r})")
p = run("--gt", "/nonexistent.json", "--dt", os.path.join(coco, "crowd.dt.json"))
check(p.returncode == 2 and "/nonexistent.json" in p.stderr, f"missing file: exit 2 naming it ({p.stderr!r})")
bad = os.path.join(work, "bad.dt.json")
with open(bad, "w") as f:
    f.write('[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n'
            ' {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}]\n')
p = run("--gt", os.path.join(coco, "crowd.gt.json"), "--dt", bad)
check(p.returncode == 2 and f"{bad}:2:" in p.stderr and "field 'bbox'" in p.stderr,
      f"bad bbox: located error ({p.stderr!r})")
p = run("--gt", os.path.join(coco, "dt_unknown_image.gt.json"), "--dt", os.path.join(coco, "dt_unknown_image.dt.json"))
check(p.returncode == 2 and "eval.unknown_image" in p.stderr and "--drop-unknown-images" in p.stderr,
      f"unknown image: exit 2 with hint ({p.stderr!r})")
p = run("--gt", os.path.join(coco, "crowd.gt.json"), "--dt", os.path.join(coco, "crowd.dt.json"), "--score-thr", "x")
check(p.returncode == 2, "bad --score-thr: exit 2")


def compare(got, want, what):
    for i, (g, w) in enumerate(zip(got["stats"], want["stats"])):
        check(g == w, f"{what} stats[{i}] {g!r} vs {w!r}")
    check(len(got["per_category"]) == len(want["per_category"]), f"{what} per_category length")
    for g, w in zip(got["per_category"], want["per_category"]):
        for k in ("category_id", "ap", "ap50", "ap75", "ar100"):
            check(g[k] == w[k], f"{what} category {w['category_id']} {k}")


for case in ("random_a", "crowd", "score_ties"):
    want = json.load(open(os.path.join(coco, case + ".expected.json")))
    out = os.path.join(work, case + ".json")
    p = run("--gt", os.path.join(coco, case + ".gt.json"), "--dt", os.path.join(coco, case + ".dt.json"),
            "--json", out, "--per-class", "--sweep", "--pr-curves", os.path.join(work, case + ".svg"))
    check(p.returncode == 0, f"{case}: exit 0 ({p.stderr!r})")
    if p.returncode == 0:
        got = json.load(open(out))
        compare(got, want, case)
        check(len(got["sweep"]) == 20, f"{case}: 20 sweep rows")
        check(got["sweep"][10]["score_cutoff"] == 0.5, f"{case}: sweep[10] is 0.5")
        for g, w in zip(got["sweep"][10]["stats"], want["score_cutoff"]["stats"]):
            check(g == w, f"{case}: sweep at 0.5 equals pycocotools' cutoff run")
        check(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = " in p.stdout,
              f"{case}: pycocotools summary line")
        check(open(os.path.join(work, case + ".svg")).read().startswith("<svg"), f"{case}: svg written")
    p = run("--gt", os.path.join(coco, case + ".gt.json"), "--dt", os.path.join(coco, case + ".dt.json"),
            "--json", out, "--score-thr", "0.5")
    check(p.returncode == 0, f"{case} cutoff: exit 0")
    if p.returncode == 0:
        compare(json.load(open(out)), want["score_cutoff"], case + " --score-thr 0.5")

# The same detections as per-image text files give the same numbers.
gt = json.load(open(os.path.join(coco, "random_a.gt.json")))
dets = json.load(open(os.path.join(coco, "random_a.dt.json")))
names = {c["id"]: c["name"] for c in gt["categories"]}
files = {im["id"]: os.path.splitext(im["file_name"])[0] for im in gt["images"]}
tdir = os.path.join(work, "text")
os.makedirs(tdir, exist_ok=True)
lines = {}
for d in dets:
    x, y, w, h = d["bbox"]
    lines.setdefault(d["image_id"], []).append(f"{names[d['category_id']]} {d['score']!r} {x!r} {y!r} {x + w!r} {y + h!r}")
for iid, ls in lines.items():
    with open(os.path.join(tdir, files[iid] + ".txt"), "w") as f:
        f.write("\n".join(ls) + "\n")
out = os.path.join(work, "text.json")
p = run("--gt", os.path.join(coco, "random_a.gt.json"), "--dt", tdir, "--json", out)
check(p.returncode == 0, f"text dets: exit 0 ({p.stderr!r})")
if p.returncode == 0:
    got = json.load(open(out))
    want = json.load(open(os.path.join(coco, "random_a.expected.json")))
    # x+w then w' = (x+w)-x can differ from w in the last bit, so compare loosely here.
    for g, w in zip(got["stats"], want["stats"]):
        check(abs(g - w) <= 1e-9, f"text dets stats {g!r} vs {w!r}")

# Open Images metric on the real Bed boxes.
out = os.path.join(work, "bed.json")
p = run("--metric", "openimages", "--gt", os.path.join(oi, "validation-annotations-bbox.v5.bed.csv"),
        "--dt", os.path.join(fixtures, "eval", "bed-predictions.csv"),
        "--classes", os.path.join(oi, "class-descriptions-boxable.v4.csv"),
        "--hierarchy", os.path.join(oi, "bbox_labels_600_hierarchy.json"), "--json", out, "--per-class")
check(p.returncode == 0, f"openimages: exit 0 ({p.stderr!r})")
if p.returncode == 0:
    got = json.load(open(out))
    mids = {c["mid"]: c for c in got["per_class"]}
    check("/m/03ssj5" in mids and mids["/m/03ssj5"]["num_gt"] == 125.0, "Bed has 125 GT boxes")
    check("/m/0c_jw" in mids and mids["/m/0c_jw"]["num_gt"] == 125.0, "Furniture gets the 125 expanded boxes")
    check(0 < got["map"] < 1, "mAP in (0,1)")
p = run("--metric", "openimages", "--gt", os.path.join(oi, "validation-annotations-bbox.v5.bed.csv"),
        "--dt", os.path.join(fixtures, "eval", "bed-predictions.csv"))
check(p.returncode == 2 and "--classes" in p.stderr, "openimages without --classes: exit 2")

# Image-level labels: a Bed detection on an image where Bed is verified absent is a false positive;
# without the label that image has no GT entry and the detection is dropped.
bed_gt = os.path.join(oi, "validation-annotations-bbox.v5.bed.csv")
classes = os.path.join(oi, "class-descriptions-boxable.v4.csv")
pred = os.path.join(work, "pred.csv")
with open(os.path.join(fixtures, "eval", "bed-predictions.csv")) as f:
    base = f.read()
with open(pred, "w") as f:
    f.write(base + "00000000000000aa,/m/03ssj5,0.999,0.1,0.5,0.1,0.5\n")
labels = os.path.join(work, "labels.csv")
with open(labels, "w") as f:
    f.write("ImageID,Source,LabelName,Confidence\n00000000000000aa,verification,/m/03ssj5,0\n")
fp = {}
for name, extra in (("without", []), ("with", ["--labels", labels])):
    out = os.path.join(work, f"labels_{name}.json")
    p = run("--metric", "openimages", "--gt", bed_gt, "--dt", pred, "--classes", classes, "--json", out, *extra)
    check(p.returncode == 0, f"labels {name}: exit 0 ({p.stderr!r})")
    if p.returncode == 0:
        fp[name] = {c["mid"]: c for c in json.load(open(out))["per_class"]}["/m/03ssj5"]["false_positives"]
check(fp.get("with") == fp.get("without", -10) + 1, f"verified-absent label adds one FP ({fp})")

# Open Images metric from per-image text files (relative coordinates, display names or MIDs).
tdir = os.path.join(work, "oi_text")
os.makedirs(tdir, exist_ok=True)
with open(os.path.join(fixtures, "eval", "bed-predictions.csv")) as f:
    rows = [r.split(",") for r in f.read().split("\n")[1:] if r]
per = {}
for r in rows:
    img, mid, score, x0, x1, y0, y1 = r
    per.setdefault(img, []).append(f"{'Bed' if mid == '/m/03ssj5' else mid} {score} {x0} {y0} {x1} {y1}")
for img, ls in per.items():
    with open(os.path.join(tdir, img + ".txt"), "w") as f:
        f.write("\n".join(ls) + "\n")
maps = []
for dt in (os.path.join(fixtures, "eval", "bed-predictions.csv"), tdir):
    out = os.path.join(work, "oi_text.json")
    p = run("--metric", "openimages", "--gt", bed_gt, "--dt", dt, "--classes", classes, "--json", out)
    check(p.returncode == 0, f"oi {dt}: exit 0 ({p.stderr!r})")
    if p.returncode == 0:
        maps.append(json.load(open(out))["map"])
check(len(maps) == 2 and maps[0] == maps[1], f"text files give the CSV's mAP ({maps})")

# --worst with --images draws PNGs of the worst images.
wdir = os.path.join(work, "worst")
p = run("--gt", os.path.join(fixtures, "eval", "fruit.gt.json"), "--dt", os.path.join(fixtures, "eval", "fruit.dt.json"),
        "--worst", "2", "--images", os.path.join(oi, "images"), "--worst-dir", wdir)
check(p.returncode == 0, f"--worst: exit 0 ({p.stderr!r})")
pngs = [f for f in os.listdir(wdir) if f.endswith(".png")] if os.path.isdir(wdir) else []
check(len(pngs) == 2, f"--worst 2 draws 2 PNGs ({pngs})")
for f in pngs:
    with open(os.path.join(wdir, f), "rb") as fh:
        check(fh.read(8) == b"\x89PNG\r\n\x1a\n", f"{f} is a PNG")

# A detkit label cache as ground truth (needs detkit-prepare beside detkit-eval): the Bed AP must
# equal the one from the bbox CSV; the Furniture detections fall outside its class list.
prepare = os.path.join(os.path.dirname(exe), "detkit-prepare")
if os.path.exists(prepare):
    cache = os.path.join(work, "bed.dkc")
    pp = subprocess.run([prepare, "--boxes", bed_gt, "--classes", classes, "--target", "airbnb", "--out", cache],
                        capture_output=True, text=True)
    if pp.returncode != 0:
        print(f"note: detkit-prepare failed ({pp.stderr.strip()[:200]}); label-cache check not run")
    else:
        aps = []
        for gt_args in (["--gt", cache], ["--gt", bed_gt, "--classes", classes]):
            out = os.path.join(work, "cache.json")
            p = run("--metric", "openimages", *gt_args, "--dt", os.path.join(fixtures, "eval", "bed-predictions.csv"),
                    "--json", out)
            check(p.returncode == 0, f"cache: exit 0 ({p.stderr!r})")
            if p.returncode == 0:
                aps.append({c["mid"]: c["ap"] for c in json.load(open(out))["per_class"]}.get("/m/03ssj5"))
        check(len(aps) == 2 and aps[0] is not None and aps[0] == aps[1], f"cache and CSV give the same Bed AP ({aps})")
else:
    print("note: detkit-prepare not built; label-cache check not run")

# --numpy 1 reproduces pycocotools on numpy 1.24 (its numbers, stored before the fixtures were
# regenerated on numpy 2.x); the default reproduces numpy 2.x, and the two differ on these cases.
numpy1 = json.load(open(os.path.join(coco, "numpy1.expected.json")))["cases"]
for case in ("random_b", "random_c"):
    for flag, want_file in (("1", None), ("2", case + ".expected.json")):
        out = os.path.join(work, f"{case}.numpy{flag}.json")
        p = run("--gt", os.path.join(coco, case + ".gt.json"), "--dt", os.path.join(coco, case + ".dt.json"),
                "--json", out, "--numpy", flag)
        check(p.returncode == 0, f"{case} --numpy {flag}: exit 0 ({p.stderr!r})")
        if p.returncode == 0:
            want = numpy1[case] if want_file is None else json.load(open(os.path.join(coco, want_file)))
            compare(json.load(open(out)), want, f"{case} --numpy {flag}")
    check(numpy1[case]["stats"] != json.load(open(os.path.join(coco, case + ".expected.json")))["stats"],
          f"{case}: numpy 1.24 and 2.x stats differ (else this case proves nothing)")
p = run("--gt", os.path.join(coco, "crowd.gt.json"), "--dt", os.path.join(coco, "crowd.dt.json"), "--numpy", "3")
check(p.returncode == 2 and "--numpy" in p.stderr, f"--numpy 3: exit 2 ({p.stderr!r})")

print(f"detkit-eval CLI: {len(failures)} failures")
for f in failures[:30]:
    print("  FAIL", f)
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Differential test: detkit-eval --json against the real pycocotools (PyPI 2.0.11).

Many seeded random GT/detection sets (crowd GT, `ignore` fields, score ties, tiny and zero-size
boxes, empty images, detection-only images, >100 detections per image and category, undeclared
detection categories, a GT with annotation id 0), each evaluated by both; every one of the 12 stats
and every per-category AP/AP50/AP75/AR100 must agree within 1e-12, also at a 0.5 score cutoff.
Prints how many values are bit-identical.

usage: coco_differential.py DETKIT_EVAL WORK_DIR [--cases N] [--seed S]
Exit 77 (skip) only when pycocotools cannot be imported.
"""
import argparse
import contextlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import time

try:
    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except Exception as exc:  # noqa: BLE001 - any import failure means "no reference available"
    print(f"SKIP: pycocotools cannot be imported ({exc!r}); pip install pycocotools==2.0.11")
    sys.exit(77)


def make_case(seed):
    rng = random.Random(seed)
    n_img = rng.randint(1, 40)
    cat_ids = sorted(rng.sample(range(1, 60), rng.randint(1, 8)))
    images = []
    for i in range(n_img):
        w, h = rng.choice([(640, 480), (480, 640), (320, 320), (1024, 768)])
        images.append({"id": (i + 1) * rng.choice([1, 1, 7]) if seed % 3 == 0 else i + 1,
                       "width": w, "height": h, "file_name": f"{i + 1}.jpg"})
    ids = sorted({im["id"] for im in images})
    images = [im for im in images if im["id"] in ids]
    seen = set()
    images = [im for im in images if not (im["id"] in seen or seen.add(im["id"]))]
    anns = []
    ann_id = 0 if seed % 5 == 0 else 1  # sometimes a GT with id 0 (pycocotools' quirk)
    score_decimals = rng.choice([1, 2, 3, None])
    dets = []

    def score():
        s = rng.random()
        return round(s, score_decimals) if score_decimals else s

    for im in images:
        W, H = im["width"], im["height"]
        if rng.random() < 0.15:
            continue  # empty image
        for _ in range(rng.randint(0, 12)):
            c = rng.choice(cat_ids)
            kind = rng.random()
            if kind < 0.1:
                bw, bh = rng.uniform(0, 3), rng.uniform(0, 3)  # tiny
            elif kind < 0.13:
                bw, bh = rng.choice([0.0, 5.0]), rng.choice([0.0, 5.0])  # zero-size
            else:
                side = min(W, H) * rng.uniform(0.03, 0.7)
                bw, bh = side * rng.uniform(0.5, 1.5), side * rng.uniform(0.5, 1.5)
            x, y = rng.uniform(0, W - min(bw, W - 1)), rng.uniform(0, H - min(bh, H - 1))
            if rng.random() < 0.5:
                x, y, bw, bh = round(x), round(y), round(bw), round(bh)
            crowd = 1 if rng.random() < 0.06 else 0
            area = bw * bh if rng.random() < 0.4 else bw * bh * rng.uniform(0.4, 0.95)
            if rng.random() < 0.05:
                area = rng.choice([1024, 9216, 1024.0000001, 9215.9999])  # range boundaries
            a = {"id": ann_id, "image_id": im["id"], "category_id": c, "bbox": [x, y, bw, bh],
                 "area": area, "iscrowd": crowd}
            if rng.random() < 0.05:
                a["ignore"] = rng.choice([0, 1])  # overwritten by iscrowd in pycocotools
            anns.append(a)
            ann_id += 1
            # Detections of this GT: matches, jittered duplicates, confusions.
            for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
                j = rng.uniform(0, 0.3)
                dx, dy = bw * rng.uniform(-j, j), bh * rng.uniform(-j, j)
                dw, dh = bw * rng.uniform(1 - j, 1 + j), bh * rng.uniform(1 - j, 1 + j)
                dc = c if rng.random() > 0.08 else rng.choice(cat_ids)
                dets.append({"image_id": im["id"], "category_id": dc,
                             "bbox": [x + dx, y + dy, dw, dh], "score": score()})
        # background false positives, sometimes many of one category (> maxDets)
        n_fp = rng.choice([0, 1, 3, 8]) if rng.random() > 0.05 else 130
        fc = rng.choice(cat_ids)
        for _ in range(n_fp):
            bw, bh = rng.uniform(1, W / 3), rng.uniform(1, H / 3)
            dets.append({"image_id": im["id"], "category_id": fc if n_fp > 100 else rng.choice(cat_ids),
                         "bbox": [rng.uniform(0, W - bw), rng.uniform(0, H - bh), bw, bh],
                         "score": score()})
    # a detection of an undeclared category (ignored by both)
    if rng.random() < 0.3 and images:
        dets.append({"image_id": images[0]["id"], "category_id": 999, "bbox": [1, 1, 10, 10],
                     "score": 0.99})
    if not dets and images:
        dets.append({"image_id": images[0]["id"], "category_id": cat_ids[0], "bbox": [0, 0, 5, 5],
                     "score": 0.5})
    rng.shuffle(dets)
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}"} for c in reversed(cat_ids)]}
    return gt, dets


def pycocotools_values(gt_path, dets):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_path)
        if not dets:
            return None
        coco_dt = coco_gt.loadRes(dets)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]
    rec = ev.eval["recall"]
    per = []
    for k, cid in enumerate(ev.params.catIds):
        def m(a):
            a = a[a > -1]
            return float(np.mean(a)) if a.size else -1.0
        per.append({"category_id": cid, "ap": m(prec[:, :, k, 0, -1]), "ap50": m(prec[0, :, k, 0, -1]),
                    "ap75": m(prec[5, :, k, 0, -1]), "ar100": m(rec[:, k, 0, -1])})
    return [float(s) for s in ev.stats], per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detkit_eval")
    ap.add_argument("work_dir")
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()
    work = os.path.join(args.work_dir, f"coco_differential.{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    total = exact = 0
    failures = []
    for i in range(args.cases):
        seed = args.seed + i
        gt, dets = make_case(seed)
        gt_path = os.path.join(work, f"case{i}.gt.json")
        dt_path = os.path.join(work, f"case{i}.dt.json")
        with open(gt_path, "w") as f:
            json.dump(gt, f)
        for cutoff in (None, 0.5):
            use = dets if cutoff is None else [d for d in dets if d["score"] >= cutoff]
            with open(dt_path, "w") as f:
                json.dump(use, f)
            out = os.path.join(work, f"case{i}.out.json")
            cmd = [args.detkit_eval, "--gt", gt_path, "--dt", dt_path, "--json", out, "--threads", "2"]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                failures.append(f"seed {seed} cutoff {cutoff}: detkit-eval exit {p.returncode}: {p.stderr.strip()}")
                continue
            with open(out) as f:
                got = json.load(f)
            ref = pycocotools_values(gt_path, use)
            if ref is None:
                # loadRes([]) crashes in pycocotools; detkit gives the empty-set values
                want_stats = None
            else:
                want_stats, want_per = ref
            if want_stats is None:
                continue
            pairs = [(f"stats[{j}]", got["stats"][j], want_stats[j]) for j in range(12)]
            if len(got["per_category"]) != len(want_per):
                failures.append(f"seed {seed}: per_category length {len(got['per_category'])} vs {len(want_per)}")
                continue
            for g, w in zip(got["per_category"], want_per):
                if g["category_id"] != w["category_id"]:
                    failures.append(f"seed {seed}: category order {g['category_id']} vs {w['category_id']}")
                for key in ("ap", "ap50", "ap75", "ar100"):
                    pairs.append((f"category {w['category_id']} {key}", g[key], w[key]))
            for label, g, w in pairs:
                total += 1
                if struct.pack("<d", g) == struct.pack("<d", w):
                    exact += 1
                if abs(g - w) > 1e-12:
                    failures.append(f"seed {seed} cutoff {cutoff} {label}: detkit {g!r} pycocotools {w!r}")
    took = time.time() - t0
    print(f"coco differential vs pycocotools: {args.cases} random sets x 2 cutoffs, {total} values, "
          f"{exact} bit-identical, {len(failures)} failures, {took:.1f} s")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Differential test: detkit-eval against the live pycocotools (pinned in .ci/requirements.txt:
pycocotools 2.0.11 on numpy 2.4.6), compared with `==`.

Many seeded random GT/detection sets (crowd GT, `ignore` fields, score ties, tiny and zero-size
boxes, empty images, detection-only images, >100 detections per image and category, undeclared
detection categories, a GT with annotation id 0), plus --big sets large enough for numpy's
summation order to matter (>= 50k detections, >= 20 categories, extra area ranges and maxDets).
Each is evaluated by both, also at a 0.5 score cutoff; the 12 stats, every per-category
AP/AP50/AP75/AR100 and the whole eval['precision'], ['recall'] and ['scores'] arrays (shape, dtype,
every element) must be bit-identical.

usage: coco_differential.py DETKIT_EVAL WORK_DIR [--cases N] [--big N] [--seed S]
Without pycocotools: skipped (exit 77), or a failure under DETKIT_REQUIRE_REFERENCES=1.
"""
import argparse
import json
import os
import random
import sys
import time

from coco_reference import VERSIONS, compare, detkit_eval, pycocotools_eval


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


def make_big_case(seed):
    """COCO-like scale: 1500 images, 24-40 categories, >= 50k detections (most images have far
    more than 100 per category, so maxDets truncation, area ranges and long means all matter)."""
    rng = random.Random(seed)
    cat_ids = sorted(rng.sample(range(1, 200), rng.randint(24, 40)))
    images, anns, dets = [], [], []
    ann_id = 1
    for i in range(1500):
        W, H = rng.choice([(640, 480), (480, 640), (1024, 768)])
        images.append({"id": i + 1, "width": W, "height": H, "file_name": f"{i + 1}.jpg"})
        for _ in range(rng.randint(0, 14)):
            c = rng.choice(cat_ids)
            side = min(W, H) * rng.choice([rng.uniform(0.01, 0.05), rng.uniform(0.05, 0.2),
                                           rng.uniform(0.2, 0.8)])
            bw, bh = side * rng.uniform(0.5, 1.5), side * rng.uniform(0.5, 1.5)
            x, y = rng.uniform(0, max(1, W - bw)), rng.uniform(0, max(1, H - bh))
            anns.append({"id": ann_id, "image_id": i + 1, "category_id": c, "bbox": [x, y, bw, bh],
                         "area": bw * bh, "iscrowd": 1 if rng.random() < 0.02 else 0})
            ann_id += 1
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                j = rng.uniform(0, 0.35)
                dets.append({"image_id": i + 1, "category_id": c if rng.random() > 0.05 else rng.choice(cat_ids),
                             "bbox": [x + bw * rng.uniform(-j, j), y + bh * rng.uniform(-j, j),
                                      bw * rng.uniform(1 - j, 1 + j), bh * rng.uniform(1 - j, 1 + j)],
                             "score": round(rng.random(), 3)})
        for _ in range(rng.randint(10, 40)):
            bw, bh = rng.uniform(2, W / 3), rng.uniform(2, H / 3)
            dets.append({"image_id": i + 1, "category_id": rng.choice(cat_ids),
                         "bbox": [rng.uniform(0, W - bw), rng.uniform(0, H - bh), bw, bh],
                         "score": round(rng.random(), 3)})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}"} for c in cat_ids]}
    return gt, dets


# The default parameters, and extra area ranges and maxDets (pycocotools Params set the same way).
BIG_PARAMS = [
    (None, None),
    ([1, 10, 100, 300], [("all", 0, 1e10), ("small", 0, 32 ** 2), ("medium", 32 ** 2, 96 ** 2),
                         ("large", 96 ** 2, 1e10), ("tiny", 0, 16 ** 2)]),
]


def run_case(exe, name, gt, dets, work, max_dets=None, area_ranges=None):
    """Both evaluators on one set, at no cutoff and at 0.5: (values, bit-identical, failures)."""
    gt_path = os.path.join(work, f"{name}.gt.json")
    dt_path = os.path.join(work, f"{name}.dt.json")
    with open(gt_path, "w") as f:
        json.dump(gt, f)
    extra = []
    if max_dets:
        extra += ["--max-dets", ",".join(map(str, max_dets))]
    if area_ranges:
        extra += ["--area-ranges", ",".join(f"{label}:{lo!r}:{hi!r}" for label, lo, hi in area_ranges)]
    total = exact = 0
    failures = []
    for cutoff in (None, 0.5):
        use = dets if cutoff is None else [d for d in dets if d["score"] >= cutoff]
        with open(dt_path, "w") as f:
            json.dump(use, f)
        want = pycocotools_eval(gt_path, use, max_dets, area_ranges)
        if want is None:
            continue  # loadRes([]) crashes in pycocotools; detkit's empty-set values are tested elsewhere
        label = f"{name} cutoff {cutoff}"
        try:
            got, arrays = detkit_eval(exe, gt_path, dt_path, work, extra + ["--threads", "2"])
        except RuntimeError as e:
            failures.append(f"{label}: {e}")
            continue
        t, e, f = compare(label, got, arrays, want)
        total, exact, failures = total + t, exact + e, failures + f
    return total, exact, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detkit_eval")
    ap.add_argument("work_dir")
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--big", type=int, default=2, help="large random sets (each with both BIG_PARAMS)")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--fixtures", help="tests/fixtures/coco: every case there too")
    args = ap.parse_args()
    work = os.path.join(args.work_dir, f"coco_differential.{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    total = exact = 0
    failures = []
    for i in range(args.cases):
        gt, dets = make_case(args.seed + i)
        t, e, f = run_case(args.detkit_eval, f"seed{args.seed + i}", gt, dets, work)
        total, exact, failures = total + t, exact + e, failures + f
    fixture_cases = 0
    if args.fixtures:
        for case in json.load(open(os.path.join(args.fixtures, "cases.json"))):
            name = case["name"]
            if name == "dt_unknown_image":
                continue  # pycocotools asserts; detkit's error and its --drop alternative: test_coco_eval
            gt = json.load(open(os.path.join(args.fixtures, name + ".gt.json")))
            dets = json.load(open(os.path.join(args.fixtures, name + ".dt.json")))
            t, e, f = run_case(args.detkit_eval, name, gt, dets, work)
            total, exact, failures = total + t, exact + e, failures + f
            fixture_cases += 1
    small = time.time() - t0
    for i in range(args.big):
        gt, dets = make_big_case(args.seed + 1000 + i)
        for j, (max_dets, area_ranges) in enumerate(BIG_PARAMS):
            t, e, f = run_case(args.detkit_eval, f"big{i}.params{j}", gt, dets, work, max_dets, area_ranges)
            total, exact, failures = total + t, exact + e, failures + f
        print(f"big set {i}: {len(gt['images'])} images, {len(gt['categories'])} categories, "
              f"{len(gt['annotations'])} GT, {len(dets)} detections")
    took = time.time() - t0
    print(f"coco differential vs live {VERSIONS}: {fixture_cases} fixture cases + {args.cases} random sets "
          f"({small:.0f} s) + {args.big} "
          f"big sets x {len(BIG_PARAMS)} params, x 2 cutoffs: {total} values (stats, per-class, "
          f"precision/recall/scores arrays), {exact} bit-identical, {len(failures)} failures, {took:.0f} s")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures or total == 0 or exact != total else 0


if __name__ == "__main__":
    sys.exit(main())

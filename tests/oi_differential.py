#!/usr/bin/env python3
"""Differential test of detkit-eval --metric openimages against the TF Object Detection API's own
code (PyPI `object-detection` 0.0.3, a 2019 packaging of tensorflow/models research/object_detection):
OIDHierarchicalLabelsExpansion expands the ground truth, OpenImagesDetectionChallengeEvaluator
scores it. Many seeded random cases (class trees, group-of boxes, verified present/absent labels,
unverified classes, images without ground truth, invalid boxes, parent-class detections); the mAP
and every class AP must agree within 1e-12.

The 2019 code is Python 2 era and imports TensorFlow only for logging: we stub `tensorflow` and
label_map_util, restore numpy's removed aliases (np.float, ...), define `unicode`, and load the
expansion module with `.iteritems()` read as `.items()`. The metric code itself runs unmodified.
Boxes are fed to it as float64 values of the float32 numbers detkit reads, so both compute IoU
from identical inputs; scores are distinct, so ranking ties cannot differ.
Random class graphs are trees here: for a class under two parents, the 2019 expansion tool emits
a shared grandparent twice (double-counting the box), detkit expands to each ancestor once.

usage: oi_differential.py DETKIT_EVAL WORK_DIR [--cases N] [--seed S]
Exit 77 (skip) only when numpy or the object_detection package cannot be imported.
"""
import argparse
import builtins
import importlib.util
import json
import os
import random
import subprocess
import sys
import types

try:
    import numpy as np

    import logging
    import warnings

    logging.getLogger().setLevel(logging.ERROR)  # "classes have no ground truth" notes
    warnings.simplefilter("ignore")
    for _name, _type in (("float", float), ("int", int), ("bool", bool)):
        try:
            getattr(np, _name)
        except AttributeError:
            setattr(np, _name, _type)
    builtins.unicode = str
    if "tensorflow" not in sys.modules:
        try:
            import tensorflow  # noqa: F401
        except Exception:  # noqa: BLE001
            _tf = types.ModuleType("tensorflow")

            class _Quiet:
                def __getattr__(self, name):
                    return lambda *a, **k: None

            _tf.logging = _Quiet()
            sys.modules["tensorflow"] = _tf
    _lm = types.ModuleType("object_detection.utils.label_map_util")
    _lm.create_category_index = lambda cats: {c["id"]: c for c in cats}
    sys.modules["object_detection.utils.label_map_util"] = _lm
    from object_detection.core import standard_fields as sf
    from object_detection.utils import object_detection_evaluation as ode

    _spec = importlib.util.find_spec("object_detection.dataset_tools.oid_hierarchical_labels_expansion")
    _src = open(_spec.origin).read().replace(".iteritems()", ".items()")
    oid_expansion = types.ModuleType("oid_hierarchical_labels_expansion")
    exec(compile(_src, _spec.origin, "exec"), oid_expansion.__dict__)
except Exception as exc:  # noqa: BLE001
    from reference_support import missing_reference
    missing_reference("the TF Object Detection API (object_detection)", exc,
                      "pip install --no-deps object-detection==0.0.3")

ROOT = "/m/0bl9f"


def f32(x):
    return float(np.float32(x))


def make_case(seed, work):
    rng = random.Random(seed)
    n_cls = rng.randint(3, 9)
    mids = [f"/m/t{seed % 1000:03d}{i:02d}" for i in range(n_cls)]
    parent = {}
    for i, m in enumerate(mids):
        parent[m] = ROOT if i == 0 or rng.random() < 0.4 else mids[rng.randrange(i)]

    def node(label):
        kids = [m for m in mids if parent[m] == label]
        n = {"LabelName": label}
        if kids:
            n["Subcategory"] = [node(k) for k in kids]
        return n

    hierarchy = node(ROOT)
    images = [f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(2, 25))]
    boxes, labels, dets = [], [], []
    for img in images:
        if rng.random() < 0.1:
            continue  # no ground truth at all: its detections are dropped
        for _ in range(rng.randint(0, 6)):
            c = rng.choice(mids)
            x0, y0 = rng.uniform(0, 0.8), rng.uniform(0, 0.8)
            x1, y1 = min(1.0, x0 + rng.uniform(0.02, 0.5)), min(1.0, y0 + rng.uniform(0.02, 0.5))
            group = rng.random() < 0.15
            boxes.append((img, c, f32(x0), f32(x1), f32(y0), f32(y1), group))
            for _ in range(rng.choice([0, 1, 1, 2, 3 if group else 1])):
                j = rng.uniform(0, 0.35)
                w, h = x1 - x0, y1 - y0
                if group:  # small boxes inside the group
                    dx0, dy0 = rng.uniform(x0, x1 - w / 4), rng.uniform(y0, y1 - h / 4)
                    b = (dx0, dx0 + w / 4, dy0, dy0 + h / 4)
                else:
                    b = (x0 + rng.uniform(-j, j) * w, x1 + rng.uniform(-j, j) * w,
                         y0 + rng.uniform(-j, j) * h, y1 + rng.uniform(-j, j) * h)
                dc = c
                if rng.random() < 0.2 and parent[c] != ROOT:
                    dc = parent[c]  # the parent class: a TP only through expansion
                dets.append((img, dc, rng.random(), *(f32(v) for v in b)))
        for c in rng.sample(mids, rng.randint(0, len(mids))):
            if rng.random() < 0.5:
                labels.append((img, c, rng.choice([0, 1])))
        for _ in range(rng.randint(0, 4)):  # background / unverified-class detections
            x0, y0 = rng.uniform(0, 0.9), rng.uniform(0, 0.9)
            b = (x0, x0 + rng.uniform(-0.02, 0.1), y0, y0 + rng.uniform(0.01, 0.1))  # some invalid
            dets.append((img, rng.choice(mids), rng.random(), *(f32(v) for v in b)))
    # detkit inputs
    d = os.path.join(work, f"case{seed}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "classes.csv"), "w") as f:
        for i, m in enumerate(mids):
            f.write(f"{m},Class {i}\n")
    with open(os.path.join(d, "hierarchy.json"), "w") as f:
        json.dump(hierarchy, f)
    gt_rows = []
    with open(os.path.join(d, "boxes.csv"), "w") as f:
        f.write("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
                "IsGroupOf,IsDepiction,IsInside\n")
        for img, c, x0, x1, y0, y1, g in boxes:
            row = f"{img},xclick,{c},1,{x0!r},{x1!r},{y0!r},{y1!r},0,0,{int(g)},0,0"
            gt_rows.append(row)
            f.write(row + "\n")
    label_rows = []
    with open(os.path.join(d, "labels.csv"), "w") as f:
        f.write("ImageID,Source,LabelName,Confidence\n")
        for img, c, conf in labels:
            row = f"{img},verification,{c},{conf}"
            label_rows.append(row)
            f.write(row + "\n")
    with open(os.path.join(d, "pred.csv"), "w") as f:
        f.write("ImageID,LabelName,Score,XMin,XMax,YMin,YMax\n")
        for img, c, s, x0, x1, y0, y1 in dets:
            f.write(f"{img},{c},{s!r},{x0!r},{x1!r},{y0!r},{y1!r}\n")
    return d, mids, hierarchy, gt_rows, label_rows, dets


def reference(mids, hierarchy, gt_rows, label_rows, dets):
    exp = oid_expansion.OIDHierarchicalLabelsExpansion(hierarchy)
    gt_exp = [r for row in gt_rows for r in exp.expand_boxes_from_csv(row)]
    lab_exp = [r for row in label_rows for r in exp.expand_labels_from_csv(row)]
    cid = {m: i + 1 for i, m in enumerate(mids)}
    cats = [{"id": i + 1, "name": m} for i, m in enumerate(mids)]
    ev = ode.OpenImagesDetectionChallengeEvaluator(cats)
    per_img_boxes, per_img_labels = {}, {}
    for r in gt_exp:
        img, _, c, _, x0, x1, y0, y1, _, _, g, _, _ = r.split(",")
        per_img_boxes.setdefault(img, []).append((cid[c], [float(y0), float(x0), float(y1), float(x1)], g == "1"))
    for r in lab_exp:
        img, _, c, _ = r.split(",")
        per_img_labels.setdefault(img, []).append(cid[c])
    for img in sorted(set(per_img_boxes) | set(per_img_labels)):
        b = per_img_boxes.get(img, [])
        ev.add_single_ground_truth_image_info(img, {
            sf.InputDataFields.groundtruth_boxes: np.array([x[1] for x in b], dtype=np.float64).reshape(-1, 4),
            sf.InputDataFields.groundtruth_classes: np.array([x[0] for x in b], dtype=int),
            sf.InputDataFields.groundtruth_group_of: np.array([x[2] for x in b], dtype=bool),
            sf.InputDataFields.groundtruth_image_classes: np.array(per_img_labels.get(img, []), dtype=int),
        })
    per_img_dets = {}
    for img, c, s, x0, x1, y0, y1 in dets:
        per_img_dets.setdefault(img, []).append((cid[c], s, [y0, x0, y1, x1]))
    for img, ds in sorted(per_img_dets.items()):
        ev.add_single_detected_image_info(img, {
            sf.DetectionResultFields.detection_boxes: np.array([x[2] for x in ds], dtype=np.float64).reshape(-1, 4),
            sf.DetectionResultFields.detection_scores: np.array([x[1] for x in ds], dtype=np.float64),
            sf.DetectionResultFields.detection_classes: np.array([x[0] for x in ds], dtype=int),
        })
    res = ev.evaluate()
    out = {"map": None, "ap": {}}
    for k, v in res.items():
        if k.endswith("Precision/mAP@0.5IOU"):
            out["map"] = float(v)
        elif "PerformanceByCategory/AP@0.5IOU/" in k:
            name = k.split("AP@0.5IOU/")[1]
            name = name[2:-1] if name.startswith("b'") else name
            out["ap"][name] = float(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detkit_eval")
    ap.add_argument("work_dir")
    ap.add_argument("--cases", type=int, default=80)
    ap.add_argument("--seed", type=int, default=4242)
    args = ap.parse_args()
    work = os.path.join(args.work_dir, f"oi_differential.{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    failures, compared = [], 0
    for i in range(args.cases):
        seed = args.seed + i
        d, mids, hierarchy, gt_rows, label_rows, dets = make_case(seed, work)
        if not gt_rows:
            continue  # the bbox CSV reader needs at least one row
        want = reference(mids, hierarchy, gt_rows, label_rows, dets)
        out = os.path.join(d, "out.json")
        p = subprocess.run([args.detkit_eval, "--metric", "openimages", "--gt", os.path.join(d, "boxes.csv"),
                            "--dt", os.path.join(d, "pred.csv"), "--classes", os.path.join(d, "classes.csv"),
                            "--labels", os.path.join(d, "labels.csv"), "--hierarchy", os.path.join(d, "hierarchy.json"),
                            "--json", out], capture_output=True, text=True)
        if p.returncode != 0:
            failures.append(f"seed {seed}: detkit-eval exit {p.returncode}: {p.stderr.strip()}")
            continue
        got = json.load(open(out))
        got_ap = {c["mid"]: c["ap"] for c in got["per_class"]}
        for m in mids:
            w = want["ap"].get(m)
            g = got_ap.get(m)
            w_nan = w is None or w != w
            g_nan = g is None
            compared += 1
            if w_nan != g_nan or (not w_nan and abs(g - w) > 1e-12):
                failures.append(f"seed {seed} class {m}: detkit {g!r} TF {w!r}")
        gm, wm = got["map"], want["map"]
        compared += 1
        if (gm is None) != (wm is None or wm != wm) or (gm is not None and abs(gm - wm) > 1e-12):
            failures.append(f"seed {seed} mAP: detkit {gm!r} TF {wm!r}")
    print(f"open images differential vs TF OD API (object-detection 0.0.3): {args.cases} random cases, "
          f"{compared} APs/mAPs compared, {len(failures)} failures")
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

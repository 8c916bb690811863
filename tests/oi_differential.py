#!/usr/bin/env python3
"""Differential test of detkit-eval --metric openimages against the TF Object Detection API's own
code (PyPI `object-detection` 0.0.3, a 2019 packaging of tensorflow/models research/object_detection):
OIDHierarchicalLabelsExpansion expands the ground truth, OpenImagesDetectionChallengeEvaluator
scores it, images added in ImageID order as the challenge script adds them. Every class AP and the
mAP must agree within 1e-12, in three sets of seeded random cases (group-of boxes, verified
present/absent labels, unverified classes, images without ground truth, invalid boxes, detections
of parent classes):
  1. random class trees, distinct scores; TF exactly as installed.
  2. random class trees, scores rounded to 1 or 2 decimals (many ties). TF orders scores with
     np.argsort(...)[::-1], and numpy's default argsort is not stable (its tie order depends on the
     numpy version and the CPU), so TF's `metrics` and `np_box_list_ops` see a numpy whose argsort
     is stable; detkit implements that order. For information the test prints how many values TF
     with numpy's own argsort, and TF with ties reversed, give differently (the latter must be
     non-zero, or the cases would not test tie order).
  3. the bundled real bbox_labels_600_hierarchy.json and class descriptions: classes at or below
     a class with several parents, their ancestors, and detections of ancestor classes. The 2019
     expansion repeats some ancestors of such classes (a box then counts twice); detkit expands to
     each ancestor once, so TF is fed its own expansion with each source row's repeated rows
     removed (first occurrences, in order). For the README the test prints TF's expansion as is
     beside detkit (mean mAP, class APs that differ; these must be non-zero).

The 2019 code is Python 2 era and imports TensorFlow only for logging: we stub `tensorflow` and
label_map_util, restore numpy's removed aliases (np.float, ...), define `unicode`, and load the
expansion module with `.iteritems()` read as `.items()`. The metric code itself runs unmodified
(apart from the stable argsort of set 2). Boxes are fed to it as float64 values of the float32
numbers detkit reads, so both compute IoU from identical inputs.

usage: oi_differential.py DETKIT_EVAL WORK_DIR [--cases N] [--tie-cases N] [--real-cases N]
                          [--seed S] [--fixtures DIR]
Exit 77 (skip) only when numpy or the object_detection package cannot be imported.
"""
import argparse
import builtins
import contextlib
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

from object_detection.utils import metrics as tf_metrics  # noqa: E402  (loaded by ode above)
from object_detection.utils import np_box_list_ops as tf_box_list_ops  # noqa: E402

ROOT = "/m/0bl9f"


class _StableArgsortNumpy:
    """numpy with a stable argsort, everything else numpy itself: TF's two score sorts
    (sort_by_field, compute_precision_recall) then order equal scores the one documented way."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, axis=-1, kind=None, order=None):
        return np.argsort(a, axis=axis, kind="stable", order=order)


class _ReversedTiesNumpy(_StableArgsortNumpy):
    """Equal scores the other way round (only to show that the tie cases depend on tie order)."""

    @staticmethod
    def argsort(a, axis=-1, kind=None, order=None):
        a = np.asarray(a)
        return len(a) - 1 - np.argsort(a[::-1], kind="stable")


@contextlib.contextmanager
def tf_argsort(which):
    """which: 'numpy' (TF as installed), 'stable' or 'reversed'."""
    if which == "numpy":
        yield
        return
    saved = tf_metrics.np, tf_box_list_ops.np
    tf_metrics.np = tf_box_list_ops.np = _StableArgsortNumpy() if which == "stable" else _ReversedTiesNumpy()
    try:
        yield
    finally:
        tf_metrics.np, tf_box_list_ops.np = saved


def f32(x):
    return float(np.float32(x))


def random_annotations(rng, images, box_classes, classes, relabel, decimals):
    """Boxes, verified labels and detections on `images`: GT boxes of box_classes (some group-of),
    detections near them (some relabelled, e.g. to a parent class), labels and background
    detections of `classes`. decimals: None for distinct scores, else scores rounded (ties)."""

    def score():
        v = rng.random()
        return v if decimals is None else round(v, decimals)

    boxes, labels, dets = [], [], []
    for img in images:
        if rng.random() < 0.1:
            continue  # no ground truth at all: its detections are dropped
        for _ in range(rng.randint(0, 6)):
            c = rng.choice(box_classes)
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
                dets.append((img, relabel(c), score(), *(f32(v) for v in b)))
        for c in rng.sample(classes, rng.randint(0, len(classes))):
            if rng.random() < 0.5:
                labels.append((img, c, rng.choice([0, 1])))
        for _ in range(rng.randint(0, 4)):  # background / unverified-class detections
            x0, y0 = rng.uniform(0, 0.9), rng.uniform(0, 0.9)
            b = (x0, x0 + rng.uniform(-0.02, 0.1), y0, y0 + rng.uniform(0.01, 0.1))  # some invalid
            dets.append((img, rng.choice(classes), score(), *(f32(v) for v in b)))
    return boxes, labels, dets


def make_tree_case(seed, decimals=None):
    """A random class tree of 3-9 made-up classes."""
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

    def relabel(c):
        if rng.random() < 0.2 and parent[c] != ROOT:
            return parent[c]  # the parent class: a TP only through expansion
        return c

    hierarchy = node(ROOT)
    images = [f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(2, 25))]
    boxes, labels, dets = random_annotations(rng, images, mids, mids, relabel, decimals)
    class_lines = [f"{m},Class {i}" for i, m in enumerate(mids)]
    return mids, class_lines, hierarchy, None, boxes, labels, dets


class RealHierarchy:
    """The bundled bbox_labels_600_hierarchy.json and class descriptions: classes under two or
    more parents, and everything below them, are where the 2019 TF expansion repeats an ancestor."""

    def __init__(self, fixtures):
        self.path = os.path.join(fixtures, "bbox_labels_600_hierarchy.json")
        with open(self.path) as f:
            self.tree = json.load(f)
        with open(os.path.join(fixtures, "class-descriptions-boxable.v4.csv"), newline="") as f:
            self.class_lines = [line.rstrip("\r\n") for line in f if line.strip()]
        self.parents = {}

        def walk(n):
            for k in n.get("Subcategory", []):
                self.parents.setdefault(k["LabelName"], set()).add(n["LabelName"])
                walk(k)

        walk(self.tree)
        self.ancestors = {c: self._ancestors(c) for c in self.parents}
        multi = {c for c, ps in self.parents.items() if len(ps) > 1}
        self.multi_parent = sorted(multi)
        self.near_multi = sorted(c for c, a in self.ancestors.items() if c in multi or a & multi)

    def _ancestors(self, c):
        out, todo = set(), list(self.parents[c])
        while todo:
            p = todo.pop()
            if p != ROOT and p not in out:
                out.add(p)
                todo.extend(self.parents[p])
        return out


def make_real_case(seed, real):
    """Real MIDs: a few classes at or below a multi-parent class, a few others, all their
    ancestors; detections also of ancestor classes."""
    rng = random.Random(seed)
    picked = rng.sample(real.near_multi, rng.randint(1, 4)) + rng.sample(sorted(real.parents), rng.randint(0, 3))
    chosen = set(picked)
    for c in picked:
        chosen |= real.ancestors[c]
    mids = sorted(chosen)
    box_classes = picked * 3 + mids  # mostly the picked (deep) classes, so expansion happens

    def relabel(c):
        a = sorted(real.ancestors[c])
        if rng.random() < 0.3 and a:
            return rng.choice(a)  # an ancestor class: a TP only through expansion
        return c

    images = [f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(2, 20))]
    boxes, labels, dets = random_annotations(rng, images, box_classes, mids, relabel, None)
    class_lines = [line for line in real.class_lines if line.split(",", 1)[0] in chosen]
    return mids, class_lines, real.tree, real.path, boxes, labels, dets


def write_case(d, class_lines, hierarchy, hierarchy_path, boxes, labels, dets):
    """detkit's inputs; returns the GT and label CSV rows for TF's expansion tool."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "classes.csv"), "w") as f:
        f.write("".join(line + "\n" for line in class_lines))
    if hierarchy_path is None:
        hierarchy_path = os.path.join(d, "hierarchy.json")
        with open(hierarchy_path, "w") as f:
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
        for img, c, sc, x0, x1, y0, y1 in dets:
            f.write(f"{img},{c},{sc!r},{x0!r},{x1!r},{y0!r},{y1!r}\n")
    return hierarchy_path, gt_rows, label_rows


def unique_in_order(rows):
    seen = set()
    return [r for r in rows if not (r in seen or seen.add(r))]


def reference(mids, hierarchy, gt_rows, label_rows, dets, dedup=False, argsort="numpy"):
    """TF's expansion tool, then OpenImagesDetectionChallengeEvaluator, images in ImageID order as
    the challenge script adds them. dedup: drop repeated rows of one source row's expansion.
    argsort: see tf_argsort."""
    exp = oid_expansion.OIDHierarchicalLabelsExpansion(hierarchy)
    pick = unique_in_order if dedup else list
    gt_exp = [r for row in gt_rows for r in pick(exp.expand_boxes_from_csv(row))]
    lab_exp = [r for row in label_rows for r in pick(exp.expand_labels_from_csv(row))]
    cid = {m: i + 1 for i, m in enumerate(mids)}
    cats = [{"id": i + 1, "name": m} for i, m in enumerate(mids)]
    ev = ode.OpenImagesDetectionChallengeEvaluator(cats)
    per_img_boxes, per_img_labels = {}, {}
    for r in gt_exp:
        img, _, c, _, x0, x1, y0, y1, _, _, g, _, _ = r.split(",")
        per_img_boxes.setdefault(img, []).append((cid[c], [float(y0), float(x0), float(y1), float(x1)], g == "1"))
    for r in lab_exp:
        img, _, c, _ = r.split(",")
        if c in cid:  # a verified-absent label also reaches descendants outside the evaluated classes
            per_img_labels.setdefault(img, []).append(cid[c])
    with tf_argsort(argsort):
        for img in sorted(set(per_img_boxes) | set(per_img_labels)):
            b = per_img_boxes.get(img, [])
            ev.add_single_ground_truth_image_info(img, {
                sf.InputDataFields.groundtruth_boxes: np.array([x[1] for x in b], dtype=np.float64).reshape(-1, 4),
                sf.InputDataFields.groundtruth_classes: np.array([x[0] for x in b], dtype=int),
                sf.InputDataFields.groundtruth_group_of: np.array([x[2] for x in b], dtype=bool),
                sf.InputDataFields.groundtruth_image_classes: np.array(per_img_labels.get(img, []), dtype=int),
            })
        per_img_dets = {}
        for img, c, sc, x0, x1, y0, y1 in dets:
            per_img_dets.setdefault(img, []).append((cid[c], sc, [y0, x0, y1, x1]))
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


def run_detkit(detkit_eval, d, hierarchy_path):
    """detkit-eval's result as {"map", "ap": {mid: ap or None}}, or an error string."""
    out = os.path.join(d, "out.json")
    p = subprocess.run([detkit_eval, "--metric", "openimages", "--gt", os.path.join(d, "boxes.csv"),
                        "--dt", os.path.join(d, "pred.csv"), "--classes", os.path.join(d, "classes.csv"),
                        "--labels", os.path.join(d, "labels.csv"), "--hierarchy", hierarchy_path,
                        "--json", out], capture_output=True, text=True)
    if p.returncode != 0:
        return f"detkit-eval exit {p.returncode}: {p.stderr.strip()}"
    with open(out) as f:
        got = json.load(f)
    return {"map": got["map"], "ap": {c["mid"]: c["ap"] for c in got["per_class"]}}


def differences(got, want, mids, tol=1e-12):
    """(values compared, [(what, got, want)] that differ); NaN/None = no AP on both sides."""
    def none_if_nan(v):
        return None if v is None or v != v else v

    pairs = [(m, got["ap"].get(m), want["ap"].get(m)) for m in mids] + [("mAP", got["map"], want["map"])]
    bad = []
    for what, g, w in pairs:
        g, w = none_if_nan(g), none_if_nan(w)
        if (g is None) != (w is None) or (g is not None and abs(g - w) > tol):
            bad.append((what, g, w))
    return len(pairs), bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detkit_eval")
    ap.add_argument("work_dir")
    ap.add_argument("--cases", type=int, default=80, help="random class trees, distinct scores")
    ap.add_argument("--tie-cases", type=int, default=80, help="random class trees, tied scores")
    ap.add_argument("--real-cases", type=int, default=60, help="the real 600-class hierarchy")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "fixtures", "openimages"))
    args = ap.parse_args()
    work = os.path.join(args.work_dir, f"oi_differential.{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    failures, lines = [], []

    def check(tag, seed, case, dedup=False, argsort="numpy"):
        """detkit against TF on one case; returns (detkit's result, values compared, GT rows, label
        rows), or None when skipped or detkit-eval failed."""
        mids, class_lines, hierarchy, hierarchy_path, boxes, labels, dets = case
        if not boxes:
            return None  # the bbox CSV reader needs at least one row
        d = os.path.join(work, f"{tag}{seed}")
        hierarchy_path, gt_rows, label_rows = write_case(d, class_lines, hierarchy, hierarchy_path,
                                                         boxes, labels, dets)
        got = run_detkit(args.detkit_eval, d, hierarchy_path)
        if isinstance(got, str):
            failures.append(f"{tag} seed {seed}: {got}")
            return None
        want = reference(mids, hierarchy, gt_rows, label_rows, dets, dedup, argsort)
        n, bad = differences(got, want, mids)
        failures.extend(f"{tag} seed {seed} {what}: detkit {g!r} TF {w!r}" for what, g, w in bad)
        return got, n, gt_rows, label_rows

    # 1. Random class trees, distinct scores: TF exactly as installed.
    compared = 0
    for i in range(args.cases):
        r = check("tree", args.seed + i, make_tree_case(args.seed + i))
        compared += r[1] if r else 0
    lines.append(f"random class trees, distinct scores, TF as installed: {args.cases} cases, "
                 f"{compared} APs/mAPs compared")
    if args.cases and compared == 0:
        failures.append("random class trees: nothing compared")

    # 2. Tied scores (1 or 2 decimals): TF with a stable argsort; for information, how many values
    # TF with numpy's own (unstable) argsort and TF with ties the other way round give differently.
    compared, numpy_diff, reversed_diff = 0, 0, 0
    for i in range(args.tie_cases):
        seed = args.seed + 100000 + i
        case = make_tree_case(seed, decimals=1 + i % 2)
        r = check("ties", seed, case, argsort="stable")
        if not r:
            continue
        got, n, gt_rows, label_rows = r
        compared += n
        mids, _, hierarchy, _, _, _, dets = case
        for which in ("numpy", "reversed"):
            other = reference(mids, hierarchy, gt_rows, label_rows, dets, argsort=which)
            n_bad = len(differences(got, other, mids)[1])
            if which == "numpy":
                numpy_diff += n_bad
            else:
                reversed_diff += n_bad
    lines.append(f"random class trees, tied scores, TF with a stable argsort: {args.tie_cases} cases, "
                 f"{compared} APs/mAPs compared; for information, TF with numpy {np.__version__}'s own "
                 f"argsort differs on {numpy_diff}, TF with ties reversed on {reversed_diff}")
    if args.tie_cases and compared == 0:
        failures.append("tie cases: nothing compared")
    if args.tie_cases and reversed_diff == 0:
        failures.append("tie cases: no value depends on the order of equal scores; they test nothing")

    # 3. The real hierarchy: TF's expansion with each source row's repeated rows removed. For the
    # README, TF's expansion as is (repeated ancestors count a box twice) beside detkit.
    real = RealHierarchy(args.fixtures)
    compared, as_is_diff, as_is_cases, maps_tf, maps_detkit, as_is_classes = 0, 0, 0, [], [], set()
    names = dict(line.split(",", 1) for line in real.class_lines)
    for i in range(args.real_cases):
        seed = args.seed + 200000 + i
        case = make_real_case(seed, real)
        r = check("real", seed, case, dedup=True)
        if not r:
            continue
        got, n, gt_rows, label_rows = r
        compared += n
        mids, _, hierarchy, _, _, _, dets = case
        as_is = reference(mids, hierarchy, gt_rows, label_rows, dets)
        bad = differences(got, as_is, mids)[1]
        as_is_diff += sum(1 for what, _, _ in bad if what != "mAP")
        as_is_cases += 1 if bad else 0
        as_is_classes |= {names.get(what, what) for what, _, _ in bad if what != "mAP"}
        if got["map"] is not None and as_is["map"] == as_is["map"]:
            maps_detkit.append(got["map"])
            maps_tf.append(as_is["map"])

    def mean(v):
        return sum(v) / len(v) if v else float("nan")

    lines.append(f"real hierarchy ({len(real.multi_parent)} classes with several parents), TF's "
                 f"expansion de-duplicated per row: {args.real_cases} cases, {compared} APs/mAPs compared; "
                 f"for information, TF's expansion as is differs on {as_is_diff} class APs in "
                 f"{as_is_cases} cases ({', '.join(sorted(as_is_classes))}); mean mAP TF as is "
                 f"{mean(maps_tf):.4f}, detkit {mean(maps_detkit):.4f}")
    if args.real_cases and compared == 0:
        failures.append("real hierarchy cases: nothing compared")
    if args.real_cases and as_is_diff == 0:
        failures.append("real hierarchy cases: no repeated ancestor reached a result; they test nothing")

    print(f"open images differential vs TF OD API (object-detection 0.0.3), {len(failures)} failures:")
    for line in lines:
        print("  " + line)
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

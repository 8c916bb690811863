"""Beyond pycocotools: score cutoffs and the sweep, per-class stats, counts / F1, the match log,
the confusion matrix, shard states, the Open Images metric and the label cache. Each checked
against live pycocotools where it has the same number, else against an independent count."""
import contextlib
import csv
import io
import json
import os
import subprocess

import numpy as np
import pytest

import detkit
from conftest import COCO_FIXTURES, FIXTURES, require_reference
from synth import make_case

CASE = "random_c"


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def run(cls_coco, cls_eval, gt, dets, **params):
    g = quiet(cls_coco, gt)
    e = cls_eval(g, quiet(g.loadRes, dets), "bbox")
    for k, v in params.items():
        setattr(e.params, k, v)
    quiet(e.evaluate)
    quiet(e.accumulate)
    quiet(e.summarize)
    return e


@pytest.fixture(scope="module")
def case():
    gt = str(COCO_FIXTURES / f"{CASE}.gt.json")
    dets = json.loads((COCO_FIXTURES / f"{CASE}.dt.json").read_text())
    return gt, dets, run(detkit.COCO, detkit.COCOeval, gt, [dict(d) for d in dets])


def test_sweep_equals_pycocotools_on_filtered_input(case):
    ref = require_reference("pycocotools.cocoeval")
    ref_coco = require_reference("pycocotools.coco")
    gt, dets, e = case
    sweep = e.sweep([0.0, 0.3, 0.5, 0.8])
    for row in sweep:
        kept = [dict(d) for d in dets if d["score"] >= row["score_cutoff"]]
        r = run(ref_coco.COCO, ref.COCOeval, gt, kept)
        # precision at the cutoff is == pycocotools on the filtered results
        quiet(e.accumulate, score_cutoff=float(row["score_cutoff"]))
        assert (e.eval["precision"] == r.eval["precision"]).all()
        assert (e.eval["recall"] == r.eval["recall"]).all()
        assert (e.eval["scores"] == r.eval["scores"]).all()
        assert abs(row["AP"] - r.stats[0]) < 1e-12
    quiet(e.accumulate)


def test_per_category_equals_pycocotools_one_category_at_a_time(case):
    ref = require_reference("pycocotools.cocoeval")
    ref_coco = require_reference("pycocotools.coco")
    gt, dets, e = case
    table = e.per_category()
    for row in table[:4]:
        r = run(ref_coco.COCO, ref.COCOeval, gt, [dict(d) for d in dets],
                catIds=[int(row["category_id"])])
        got = np.array([row[n] for n in detkit.reports.STAT_NAMES])
        assert (got == r.stats).all(), (got, r.stats)


def test_counts_and_match_log_agree_with_eval_imgs(case):
    _, _, e = case
    det, gt = e.match_log(iou=0.5)
    # independent count from pycocotools-layout records (area all, t = 0.5, maxDets 100)
    tp = fp = npig = 0
    for r in e.evalImgs:
        if r is None or list(r["aRng"]) != list(e.params.areaRng[0]):
            continue
        dtm, dtig = r["dtMatches"][0], r["dtIgnore"][0]
        tp += int(((dtm != 0) & ~dtig).sum())
        fp += int(((dtm == 0) & ~dtig).sum())
        npig += int((r["gtIgnore"] == 0).sum())
    assert (det["status"] == "true_positive").sum() == tp
    assert (det["status"] == "false_positive").sum() == fp
    assert (gt["status"] != "ignored").sum() == npig
    c = e.counts(confidence=-1.0)
    assert c[-1]["tp"] == tp and c[-1]["fp"] == fp and c[-1]["fn"] == npig - tp
    best = e.f1_optimal()
    at_best = e.counts(confidence=best[-1]["confidence"])
    assert at_best[-1]["f1"] == best[-1]["f1"]
    ids, cm = e.confusion_matrix(confidence=-1.0)
    assert cm.shape == (len(ids) + 1,) * 2
    # every counted detection once (TP on the diagonal, FP on a GT row or the background row),
    # every counted GT once (its TP, a confusing FP, or the background column)
    assert np.trace(cm[:-1, :-1]) == tp
    assert cm[:, :-1].sum() == tp + fp
    assert cm[:-1, :].sum() == npig


def test_shards_merge_bit_identical(tmp_path):
    gt, dets = make_case(21, n_img=30, n_cat=5)
    whole = run(detkit.COCO, detkit.COCOeval, gt, dets)
    ids = [im["id"] for im in gt["images"]]
    paths = []
    for s in range(3):
        part = run(detkit.COCO, detkit.COCOeval, gt, dets, imgIds=ids[s::3])
        paths.append(tmp_path / f"shard{s}.dkst")
        part.save_state(paths[-1])
    merged = detkit.merge_states(paths)
    quiet(merged.accumulate)
    quiet(merged.summarize)
    for k in ("precision", "recall", "scores"):
        assert (merged.eval[k] == whole.eval[k]).all(), k
    assert (merged.stats == whole.stats).all()
    with pytest.raises(ValueError):
        merged.evalImgs


def test_open_images_metric_hand_case():
    # classes: 0 = Vehicle (parent), 1 = Car. One image with a Car box; a perfect detection of
    # Car; a Vehicle detection matches the expanded Vehicle copy of the box.
    r = detkit.evaluate_open_images(
        gt_image=[7], gt_class=[1], gt_boxes=[[0.1, 0.1, 0.5, 0.5]], gt_group_of=[False],
        label_image=[7, 7], label_class=[1, 0], label_present=[True, True],
        det_image=[7, 7, 7], det_class=[1, 1, 0], det_scores=[0.9, 0.8, 0.7],
        det_boxes=[[0.1, 0.1, 0.5, 0.5], [0.6, 0.6, 0.9, 0.9], [0.1, 0.1, 0.5, 0.5]],
        num_classes=2, parents=[[], [0]])
    pc = r["per_class"]
    assert pc["ap"][1] == 1.0 and pc["ap"][0] == 1.0 and r["map"] == 1.0
    assert pc["true_positives"][1] == 1 and pc["false_positives"][1] == 1
    assert pc["num_gt"][0] == 1.0  # expanded to the parent


def test_label_cache_views_match_the_csv(tmp_path):
    prepare = os.environ.get("DETKIT_PREPARE")
    if not prepare or not os.path.exists(prepare):
        pytest.skip("DETKIT_PREPARE (the detkit-prepare program) is not set; ctest sets it")
    oi = FIXTURES / "openimages"
    out = tmp_path / "bed.dkc"
    subprocess.run([prepare, "--boxes", str(oi / "validation-annotations-bbox.v5.bed.csv"),
                    "--classes", str(oi / "oidv7-class-descriptions-boxable.csv"), "--target",
                    "airbnb", "--quiet", "--out", str(out)], check=True, capture_output=True)
    cache = detkit.LabelCache(out)
    with open(oi / "validation-annotations-bbox.v5.bed.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(cache.boxes) == len(rows) == 125 and len(cache) == 103
    assert len(cache.classes) == 30 and cache.classes[1][1] == "Bed"
    assert (cache.boxes["category_id"] == 1).all()
    assert not cache.boxes.flags.writeable and cache.boxes.base is not None  # a view, no copy
    want = sorted((r["ImageID"], float(np.float32(r["XMin"])), float(np.float32(r["YMin"])),
                   float(np.float32(r["XMax"])), float(np.float32(r["YMax"]))) for r in rows)
    ids = cache.image_ids()
    got = sorted((ids[i], *map(float, b["rel"])) for i in range(len(cache))
                 for b in cache.boxes_of(i))
    assert got == want
    bad = tmp_path / "bad.dkc"
    data = bytearray(out.read_bytes())
    data[-5] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(detkit.ParseError):
        detkit.LabelCache(bad)

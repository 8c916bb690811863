"""Parity with the live pycocotools: the same user code run on pycocotools and then on detkit
(through init_as_pycocotools()); stats, precision/recall/scores, evalImgs and ious equal with ==,
and summarize() prints the same text."""
import json

import numpy as np
import pytest

from conftest import COCO_FIXTURES, assert_eval_imgs_equal, assert_same_eval, run_twice
from synth import make_case

# The basic pycocotools script, as most users write it.
BASIC = """
def run(gt_path, dt):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt = COCO(gt_path)
    E = COCOeval(gt, gt.loadRes(dt), "bbox")
    E.evaluate()
    E.accumulate()
    E.summarize()
    return E
"""

# Cases where pycocotools itself fails (loadRes([]) IndexError, foreign image_id assert).
PYCOCOTOOLS_FAILS = {"no_detections", "dt_unknown_image"}
CASES = sorted(p.name[:-len(".gt.json")] for p in COCO_FIXTURES.glob("*.gt.json")
               if p.name[:-len(".gt.json")] not in PYCOCOTOOLS_FAILS)


def summary_lines(text):
    return [l for l in text.splitlines() if l.startswith(" Average")]


@pytest.mark.parametrize("case", CASES)
def test_fixture_case(case):
    gt = str(COCO_FIXTURES / f"{case}.gt.json")
    dt = str(COCO_FIXTURES / f"{case}.dt.json")
    (ref, ref_out), (got, got_out) = run_twice(BASIC, gt_path=gt, dt=dt)
    assert_same_eval(ref, got)
    assert summary_lines(got_out) == summary_lines(ref_out)
    assert len(summary_lines(got_out)) == 12


@pytest.mark.parametrize("seed", range(12))
def test_random_case(seed, tmp_path):
    gt, dt = make_case(seed)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (ref, ref_out), (got, got_out) = run_twice(BASIC, gt_path=str(tmp_path / "gt.json"), dt=dt)
    assert_same_eval(ref, got)
    assert summary_lines(got_out) == summary_lines(ref_out)


# torchvision references/detection/coco_eval.py, reduced to what touches pycocotools (no torch):
# a deep copy of the GT, per-batch loadRes of lists, evaluate() per batch, evalImgs merged across
# batches (as across processes), then accumulate() and summarize() on the merged records.
TORCHVISION = """
import copy, io
from contextlib import redirect_stdout
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

class CocoEvaluator:
    def __init__(self, coco_gt, iou_types):
        coco_gt = copy.deepcopy(coco_gt)
        self.coco_gt = coco_gt
        self.iou_types = iou_types
        self.coco_eval = {t: COCOeval(coco_gt, iouType=t) for t in iou_types}
        self.img_ids = []
        self.eval_imgs = {k: [] for k in iou_types}

    def update(self, predictions):
        img_ids = list(np.unique(list(predictions.keys())))
        self.img_ids.extend(img_ids)
        for iou_type in self.iou_types:
            results = self.prepare_for_coco_detection(predictions)
            with redirect_stdout(io.StringIO()):
                coco_dt = COCO.loadRes(self.coco_gt, results) if results else COCO()
            coco_eval = self.coco_eval[iou_type]
            coco_eval.cocoDt = coco_dt
            coco_eval.params.imgIds = list(img_ids)
            img_ids, eval_imgs = evaluate(coco_eval)
            self.eval_imgs[iou_type].append(eval_imgs)

    def synchronize_between_processes(self):
        for iou_type in self.iou_types:
            self.eval_imgs[iou_type] = np.concatenate(self.eval_imgs[iou_type], 2)
            create_common_coco_eval(self.coco_eval[iou_type], self.img_ids, self.eval_imgs[iou_type])

    def accumulate(self):
        for coco_eval in self.coco_eval.values():
            coco_eval.accumulate()

    def summarize(self):
        for iou_type, coco_eval in self.coco_eval.items():
            print(f"IoU metric: {iou_type}")
            coco_eval.summarize()

    def prepare_for_coco_detection(self, predictions):
        coco_results = []
        for original_id, prediction in predictions.items():
            if len(prediction) == 0:
                continue
            boxes = prediction["boxes"]
            xmin, ymin, xmax, ymax = np.split(boxes, 4, axis=1)
            boxes = np.concatenate((xmin, ymin, xmax - xmin, ymax - ymin), axis=1).tolist()
            scores = prediction["scores"].tolist()
            labels = prediction["labels"].tolist()
            coco_results.extend([{"image_id": original_id, "category_id": labels[k],
                                  "bbox": box, "score": scores[k]} for k, box in enumerate(boxes)])
        return coco_results

def merge(img_ids, eval_imgs):
    all_img_ids = [img_ids]
    all_eval_imgs = [eval_imgs]
    merged_img_ids = []
    for p in all_img_ids:
        merged_img_ids.extend(p)
    merged_eval_imgs = []
    for p in all_eval_imgs:
        merged_eval_imgs.append(p)
    merged_img_ids = np.array(merged_img_ids)
    merged_eval_imgs = np.concatenate(merged_eval_imgs, 2)
    merged_img_ids, idx = np.unique(merged_img_ids, return_index=True)
    merged_eval_imgs = merged_eval_imgs[..., idx]
    return merged_img_ids, merged_eval_imgs

def create_common_coco_eval(coco_eval, img_ids, eval_imgs):
    img_ids, eval_imgs = merge(img_ids, eval_imgs)
    img_ids = list(img_ids)
    eval_imgs = list(eval_imgs.flatten())
    coco_eval.evalImgs = eval_imgs
    coco_eval.params.imgIds = img_ids
    coco_eval._paramsEval = copy.deepcopy(coco_eval.params)

def evaluate(imgs):
    with redirect_stdout(io.StringIO()):
        imgs.evaluate()
    return imgs.params.imgIds, np.asarray(imgs.evalImgs).reshape(
        -1, len(imgs.params.areaRng), len(imgs.params.imgIds))

def run(gt_dataset, batches):
    coco_gt = COCO()
    coco_gt.dataset = gt_dataset
    coco_gt.createIndex()
    ev = CocoEvaluator(coco_gt, ["bbox"])
    for predictions in batches:
        ev.update(predictions)
    ev.synchronize_between_processes()
    ev.accumulate()
    ev.summarize()
    return ev.coco_eval["bbox"]
"""


def torchvision_batches(gt, dets, batch_size, seed):
    """Model outputs per image ({image_id: {boxes xyxy, scores, labels}}), in batches."""
    rng = np.random.default_rng(seed)
    by_image = {im["id"]: [] for im in gt["images"]}
    for d in dets:
        by_image[d["image_id"]].append(d)
    ids = list(by_image)
    rng.shuffle(ids)
    batches = []
    for b in range(0, len(ids), batch_size):
        pred = {}
        for i in ids[b:b + batch_size]:
            ds = by_image[i]
            boxes = np.array([[d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2],
                               d["bbox"][1] + d["bbox"][3]] for d in ds]).reshape(-1, 4)
            pred[int(i)] = {"boxes": boxes, "scores": np.array([d["score"] for d in ds]),
                            "labels": np.array([d["category_id"] for d in ds], dtype=np.int64)}
        batches.append(pred)
    return batches


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 8])
def test_torchvision_coco_evaluator(seed):
    gt, dets = make_case(seed, n_img=24)
    dets = [d for d in dets if d["category_id"] != 999]
    batches = torchvision_batches(gt, dets, batch_size=5, seed=seed)
    (ref, ref_out), (got, got_out) = run_twice(TORCHVISION, gt_dataset=gt, batches=batches)
    assert_same_eval(ref, got, ious=False)
    assert summary_lines(got_out) == summary_lines(ref_out)
    assert len(summary_lines(got_out)) == 12


# Detectron2's COCOEvaluator._evaluate_predictions_on_coco and _derive_coco_results (per-category
# AP from eval['precision']), with the knobs users turn.
DETECTRON2 = """
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

def run(gt_path, coco_results, img_ids, use_cats, max_dets, cat_ids):
    coco_gt = COCO(gt_path)
    coco_dt = coco_gt.loadRes(coco_results)
    coco_eval = COCOeval(coco_gt, coco_dt, "bbox")
    if max_dets is not None:
        coco_eval.params.maxDets = [1, 10, max_dets]
    if img_ids is not None:
        coco_eval.params.imgIds = img_ids
    if cat_ids is not None:
        coco_eval.params.catIds = cat_ids
    coco_eval.params.useCats = use_cats
    coco_eval.evaluate()
    coco_eval.accumulate()
    coco_eval.summarize()
    precisions = coco_eval.eval["precision"]
    per_class = []
    for idx in range(precisions.shape[2]):
        precision = precisions[:, :, idx, 0, -1]
        precision = precision[precision > -1]
        per_class.append(np.mean(precision) if precision.size else float("nan"))
    coco_eval.per_class = per_class
    return coco_eval
"""


@pytest.mark.parametrize("variant", [
    dict(img_ids="half", use_cats=1, max_dets=None, cat_ids=None),
    dict(img_ids=None, use_cats=0, max_dets=None, cat_ids=None),
    dict(img_ids=None, use_cats=1, max_dets=300, cat_ids=None),
    dict(img_ids=None, use_cats=1, max_dets=5, cat_ids=None),
    dict(img_ids=None, use_cats=1, max_dets=None, cat_ids="half"),
    dict(img_ids="half", use_cats=0, max_dets=20, cat_ids="half"),
])
@pytest.mark.parametrize("seed", [4, 7])
def test_detectron2_style(variant, seed, tmp_path):
    gt, dets = make_case(seed, n_img=30, n_cat=6)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    v = dict(variant)
    if v["img_ids"] == "half":
        v["img_ids"] = [im["id"] for im in gt["images"]][::2]
    if v["cat_ids"] == "half":
        v["cat_ids"] = [c["id"] for c in gt["categories"]][1::2]
    (ref, ref_out), (got, got_out) = run_twice(DETECTRON2, gt_path=str(tmp_path / "gt.json"),
                                               coco_results=dets, **v)
    assert_same_eval(ref, got)
    assert summary_lines(got_out) == summary_lines(ref_out)
    assert np.array_equal(np.array(ref.per_class), np.array(got.per_class), equal_nan=True)
    assert list(ref.params.catIds) == list(got.params.catIds)


NDARRAY = """
def run(gt_path, array):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt = COCO(gt_path)
    E = COCOeval(gt, gt.loadRes(array), "bbox")
    E.evaluate()
    E.accumulate()
    E.summarize()
    return E
"""


@pytest.mark.parametrize("seed", [3, 10])
def test_load_res_ndarray(seed, tmp_path):
    gt, dets = make_case(seed)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    array = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dets],
                     dtype=np.float64)
    (ref, ref_out), (got, got_out) = run_twice(NDARRAY, gt_path=str(tmp_path / "gt.json"),
                                               array=array)
    assert_same_eval(ref, got)
    assert summary_lines(got_out) == summary_lines(ref_out)

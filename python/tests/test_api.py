"""The pycocotools surface beyond the numbers: COCO's queries and views, loadRes' inputs and the
dicts it builds, Params, init_as_pycocotools, NotImplementedError, help() and the stubs."""
import contextlib
import copy
import io
import json
import pathlib
import sys

import numpy as np
import pytest

import detkit
from conftest import COCO_FIXTURES, as_pycocotools, require_reference

CASE = "random_a"


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


@pytest.fixture
def pair():
    ref = require_reference("pycocotools.coco")
    gt_path = str(COCO_FIXTURES / f"{CASE}.gt.json")
    return quiet(ref.COCO, gt_path), quiet(detkit.COCO, gt_path)


def test_coco_queries_match_pycocotools(pair):
    ref, got = pair
    assert got.dataset == ref.dataset
    assert got.anns == ref.anns and got.imgs == ref.imgs and got.cats == ref.cats
    assert dict(got.imgToAnns) == dict(ref.imgToAnns)
    assert dict(got.catToImgs) == dict(ref.catToImgs)
    img_ids, cat_ids = ref.getImgIds(), ref.getCatIds()
    assert got.getImgIds() == img_ids and got.getCatIds() == cat_ids
    for kw in [{}, {"imgIds": img_ids[:5]}, {"catIds": cat_ids[:2]}, {"areaRng": [0, 1000]},
               {"iscrowd": 0}, {"imgIds": img_ids[3], "catIds": cat_ids[1]}]:
        assert got.getAnnIds(**kw) == ref.getAnnIds(**kw), kw
    for kw in [{"catIds": cat_ids[:2]}, {"imgIds": img_ids[:4], "catIds": cat_ids[0]}]:
        assert sorted(got.getImgIds(**kw)) == sorted(ref.getImgIds(**kw)), kw
    names = [c["name"] for c in ref.dataset["categories"]][:2]
    assert got.getCatIds(catNms=names) == ref.getCatIds(catNms=names)
    ann_ids = ref.getAnnIds()[:7]
    assert got.loadAnns(ann_ids) == ref.loadAnns(ann_ids)
    assert got.loadAnns(ann_ids[0]) == ref.loadAnns(ann_ids[0])
    assert got.loadImgs(img_ids[:3]) == ref.loadImgs(img_ids[:3])
    assert got.loadCats(cat_ids) == ref.loadCats(cat_ids)


def test_load_res_builds_pycocotools_dataset(pair):
    ref, got = pair
    dets = json.loads((COCO_FIXTURES / f"{CASE}.dt.json").read_text())
    r = quiet(ref.loadRes, copy.deepcopy(dets))
    g = quiet(got.loadRes, copy.deepcopy(dets))
    assert g.dataset == r.dataset
    assert g.anns == r.anns and g.getAnnIds() == r.getAnnIds()
    g2 = quiet(got.loadRes, str(COCO_FIXTURES / f"{CASE}.dt.json"))
    assert g2.dataset["annotations"] == r.dataset["annotations"]


def test_load_res_min_score_and_empty():
    gt = quiet(detkit.COCO, str(COCO_FIXTURES / f"{CASE}.gt.json"))
    dets = json.loads((COCO_FIXTURES / f"{CASE}.dt.json").read_text())
    kept = [d for d in dets if d["score"] >= 0.5]
    a = quiet(gt.loadRes, dets, min_score=0.5)
    b = quiet(gt.loadRes, copy.deepcopy(kept))
    assert len(a.dataset["annotations"]) == len(kept)
    ea, eb = detkit.COCOeval(gt, a, "bbox"), detkit.COCOeval(gt, b, "bbox")
    for e in (ea, eb):
        quiet(e.evaluate)
        quiet(e.accumulate)
        quiet(e.summarize)
    assert (ea.stats == eb.stats).all()
    # an empty result list is an empty result set (pycocotools raises IndexError)
    e = detkit.COCOeval(gt, quiet(gt.loadRes, []), "bbox")
    quiet(e.evaluate)
    quiet(e.accumulate)
    quiet(e.summarize)
    assert e.stats[0] == 0.0


def test_score_cutoff_equals_filtered_input():
    gt = quiet(detkit.COCO, str(COCO_FIXTURES / f"{CASE}.gt.json"))
    dets = json.loads((COCO_FIXTURES / f"{CASE}.dt.json").read_text())
    full = detkit.COCOeval(gt, quiet(gt.loadRes, dets), "bbox")
    quiet(full.evaluate)
    quiet(full.accumulate, score_cutoff=0.5)
    cut = detkit.COCOeval(gt, quiet(gt.loadRes, [d for d in dets if d["score"] >= 0.5]), "bbox")
    quiet(cut.evaluate)
    quiet(cut.accumulate)
    for k in ("precision", "recall", "scores"):
        assert (full.eval[k] == cut.eval[k]).all(), k


def test_params_defaults_are_pycocotools(pycocotools_modules):
    _, ref = pycocotools_modules
    a, b = ref.Params(iouType="bbox"), detkit.Params(iouType="bbox")
    assert (a.iouThrs == b.iouThrs).all() and (a.recThrs == b.recThrs).all()
    assert a.iouThrs.dtype == b.iouThrs.dtype
    for k in ("imgIds", "catIds", "maxDets", "areaRng", "areaRngLbl", "useCats", "iouType"):
        assert getattr(a, k) == getattr(b, k), k


@pytest.mark.parametrize("iou_type", ["segm", "keypoints", "nonsense"])
def test_other_iou_types_raise_not_implemented(iou_type):
    with pytest.raises(NotImplementedError, match="bbox"):
        detkit.COCOeval(None, None, iou_type)
    with pytest.raises(NotImplementedError, match="bbox"):
        detkit.COCOeval()  # pycocotools' default iouType is 'segm'


def test_init_as_pycocotools_swaps_imports():
    with as_pycocotools():
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval, Params
        import pycocotools.cocoeval as m
        assert COCO is detkit.COCO and COCOeval is detkit.COCOeval and Params is detkit.Params
        assert m.COCOeval is detkit.COCOeval


def test_summarize_before_accumulate_raises():
    e = detkit.COCOeval(iouType="bbox")
    with pytest.raises(Exception, match="accumulate"):
        e.summarize()


def test_deepcopy_and_empty_coco():
    gt = quiet(detkit.COCO, str(COCO_FIXTURES / f"{CASE}.gt.json"))
    g2 = copy.deepcopy(gt)
    assert g2.getImgIds() == gt.getImgIds()
    empty = quiet(detkit.COCO)
    assert empty.dataset == {} and empty.anns == {}


def test_docstrings_and_stubs():
    for obj in (detkit.COCO, detkit.COCOeval, detkit.COCO.loadRes, detkit.COCOeval.accumulate,
                detkit.init_as_pycocotools, detkit.ParseError):
        assert obj.__doc__ and len(obj.__doc__) > 20, obj
    pkg = pathlib.Path(detkit.__file__).parent
    assert (pkg / "__init__.pyi").exists() and (pkg / "py.typed").exists()


def test_detkit_cocoeval_on_pycocotools_coco_objects(pycocotools_modules):
    # COCO objects made before init_as_pycocotools() (real pycocotools) still evaluate.
    ref_coco, ref_eval = pycocotools_modules
    gt = quiet(ref_coco.COCO, str(COCO_FIXTURES / f"{CASE}.gt.json"))
    dt = quiet(gt.loadRes, str(COCO_FIXTURES / f"{CASE}.dt.json"))
    a, b = ref_eval.COCOeval(gt, dt, "bbox"), detkit.COCOeval(gt, dt, "bbox")
    for e in (a, b):
        quiet(e.evaluate)
        quiet(e.accumulate)
        quiet(e.summarize)
    assert (a.stats == b.stats).all()
    assert (a.eval["precision"] == b.eval["precision"]).all()
    assert [r is None for r in a.evalImgs] == [r is None for r in b.evalImgs]
    assert all(x is None or x["dtIds"] == y["dtIds"] for x, y in zip(a.evalImgs, b.evalImgs))


def test_cocoeval_deepcopy_keeps_working():
    gt = quiet(detkit.COCO, str(COCO_FIXTURES / f"{CASE}.gt.json"))
    e = detkit.COCOeval(gt, quiet(gt.loadRes, str(COCO_FIXTURES / f"{CASE}.dt.json")), "bbox")
    quiet(e.evaluate)
    c = copy.deepcopy(e)
    quiet(e.accumulate)
    quiet(c.accumulate)
    assert (c.eval["precision"] == e.eval["precision"]).all()
    assert len(c.evalImgs) == len(e.evalImgs)

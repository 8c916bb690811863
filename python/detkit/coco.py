"""pycocotools' ``COCO`` API (``pycocotools.coco.COCO``), backed by detkit's native readers.

``COCO(path)`` and ``COCO.loadRes(path | list | ndarray)`` parse straight into native structs (the
evaluator's input); the Python views pycocotools builds eagerly -- ``dataset``, ``anns``, ``imgs``,
``cats``, ``imgToAnns``, ``catToImgs`` -- are built the first time code touches them, exactly as
pycocotools builds them (``loadRes`` then adds ``area``, ``id``, ``iscrowd`` and ``segmentation`` to
each result dict, as pycocotools does).
"""

import copy
import json
import os
import time
from collections import defaultdict

import numpy as np

from . import _detkit

__all__ = ["COCO"]


def _is_array_like(obj):
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


class ResultsMismatchError(_detkit.ParseError, AssertionError):
    """loadRes: a result names an image that is not in the ground truth (pycocotools asserts
    'Results do not correspond to current coco set'; this is both a detkit.ParseError and the
    AssertionError pycocotools raises)."""


class COCO:
    """COCO ground truth or results, with pycocotools' API.

    ``COCO(path)`` reads an instances JSON file; ``COCO(dict)`` takes an already loaded dataset;
    ``COCO()`` is empty (set ``dataset`` and call ``createIndex()``, as torchvision does).
    Malformed input raises ``detkit.ParseError`` (a ``ValueError``) with the file, line, column
    and field of the problem.

    >>> gt = COCO("instances_val2017.json")
    >>> dt = gt.loadRes("detections.json")
    """

    def __init__(self, annotation_file=None):
        self._dataset = {}
        self._index = None
        self._lazy = None  # ('gt_file', path) or ('results', source, gt COCO)
        self._gt = None  # _detkit.GroundTruth
        self._dt = None  # _detkit.Detections
        if annotation_file is None:
            self._index = _empty_index()
            return
        if isinstance(annotation_file, dict):
            self._dataset = annotation_file
            self.createIndex()
            return
        path = os.fspath(annotation_file)
        print("loading annotations into memory...")
        tic = time.time()
        self._gt = _detkit.GroundTruth.from_file(path)
        self._lazy = ("gt_file", path)
        print("Done (t={:0.2f}s)".format(time.time() - tic))
        print("creating index...")
        print("index created!")

    # ---- pycocotools' attributes, built on first use ----------------------------------------
    def _materialize(self):
        if self._lazy is None:
            return
        lazy, self._lazy = self._lazy, None
        if lazy[0] == "gt_file":
            with open(lazy[1]) as f:
                self._dataset = json.load(f)
        else:
            self._dataset = _results_dataset(lazy[1], lazy[2])
        self._index = None

    @property
    def dataset(self):
        self._materialize()
        return self._dataset

    @dataset.setter
    def dataset(self, value):
        self._lazy = None
        self._dataset = value
        self._index = None
        self._gt = self._dt = None

    def _idx(self):
        self._materialize()
        if self._index is None:
            self._index = _build_index(self._dataset)
        return self._index

    anns = property(lambda self: self._idx()["anns"], lambda self, v: self._set("anns", v))
    imgs = property(lambda self: self._idx()["imgs"], lambda self, v: self._set("imgs", v))
    cats = property(lambda self: self._idx()["cats"], lambda self, v: self._set("cats", v))
    imgToAnns = property(lambda self: self._idx()["imgToAnns"],
                         lambda self, v: self._set("imgToAnns", v))
    catToImgs = property(lambda self: self._idx()["catToImgs"],
                         lambda self, v: self._set("catToImgs", v))

    def _set(self, name, value):
        self._idx()[name] = value

    def createIndex(self):
        """Builds anns/imgs/cats/imgToAnns/catToImgs from ``dataset`` (call it after changing
        ``dataset``; the evaluator then reads the changed dataset)."""
        print("creating index...")
        self._materialize()
        self._index = _build_index(self._dataset)
        self._gt = self._dt = None
        print("index created!")

    def info(self):
        for key, value in self.dataset["info"].items():
            print("{}: {}".format(key, value))

    # ---- Queries (pycocotools' semantics) ----------------------------------------------------
    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        """Ids of the annotations that satisfy all the given filters."""
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset["annotations"]
        else:
            if len(imgIds) != 0:
                index = self.imgToAnns
                anns = [a for i in imgIds if i in index for a in index[i]]
            else:
                anns = self.dataset["annotations"]
            if len(catIds) != 0:
                anns = [a for a in anns if a["category_id"] in catIds]
            if len(areaRng) != 0:
                anns = [a for a in anns if areaRng[0] < a["area"] < areaRng[1]]
        if iscrowd is not None:
            return [a["id"] for a in anns if a["iscrowd"] == iscrowd]
        return [a["id"] for a in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):
        """Ids of the categories that satisfy all the given filters."""
        catNms = catNms if _is_array_like(catNms) else [catNms]
        supNms = supNms if _is_array_like(supNms) else [supNms]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if self._lazy is not None and self._gt is not None and not (catNms or supNms or catIds):
            return [int(c) for c in self._gt.category_ids()]
        cats = self.dataset["categories"]
        if len(catNms) != 0:
            cats = [c for c in cats if c["name"] in catNms]
        if len(supNms) != 0:
            cats = [c for c in cats if c["supercategory"] in supNms]
        if len(catIds) != 0:
            cats = [c for c in cats if c["id"] in catIds]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds=[], catIds=[]):
        """Ids of the images that satisfy all the given filters."""
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == 0:
            if self._lazy is not None and self._gt is not None:
                return list(dict.fromkeys(int(i) for i in self._gt.image_ids()))
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat_id in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat_id])
            else:
                ids &= set(self.catToImgs[cat_id])
        return list(ids)

    def _load(self, table, ids):
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if isinstance(ids, (int, np.integer)):
            return [table[ids]]
        return None

    def loadAnns(self, ids=[]):
        """The annotation dicts with the given ids."""
        return self._load(self.anns, ids)

    def loadCats(self, ids=[]):
        """The category dicts with the given ids."""
        return self._load(self.cats, ids)

    def loadImgs(self, ids=[]):
        """The image dicts with the given ids."""
        return self._load(self.imgs, ids)

    # ---- Results -----------------------------------------------------------------------------
    def loadRes(self, resFile, min_score=None):
        """Loads detections as a results COCO object (pycocotools ``COCO.loadRes``).

        ``resFile``: a results JSON path, a list of ``{"image_id", "category_id", "bbox",
        "score"}`` dicts, or an N×7 array ``[image_id, x, y, w, h, score, category_id]``.
        ``min_score``: keep only detections with ``score >= min_score`` (beyond pycocotools).
        An empty list is a valid, empty result set (pycocotools raises IndexError); a result
        whose image is not in the ground truth raises ``ResultsMismatchError`` (an
        ``AssertionError``, as in pycocotools, and a ``detkit.ParseError``).
        """
        print("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (str, os.PathLike)):
            source = os.fspath(resFile)
            dt = _detkit.Detections.from_file(source)
        elif isinstance(resFile, np.ndarray):
            source = resFile
            if resFile.ndim != 2 or resFile.shape[1] != 7:
                raise _detkit.ParseError(
                    "results: error: expected an N×7 array [image_id, x, y, w, h, score, "
                    "category_id], got shape {} [detkit.json.schema]".format(resFile.shape))
            dt = _detkit.Detections.from_array(np.ascontiguousarray(resFile, dtype=np.float64))
        elif isinstance(resFile, (list, tuple)):
            source = resFile
            dt = _detkit.Detections.from_list(resFile)
        else:
            raise _detkit.ParseError(
                "results: error: expected a path, a list of dicts or an N×7 array, got {} "
                "[detkit.json.schema]".format(type(resFile).__name__))
        if min_score is not None:
            keep = dt.filter_min_score(float(min_score))
            source = ("filtered", source, keep)
        foreign, first = dt.foreign_images(self._gt_handle())
        if foreign:
            raise ResultsMismatchError(
                "results: error: field 'image_id': {} result(s) name images that are not "
                "ground-truth images, e.g. {} (pycocotools: 'Results do not correspond to current "
                "coco set') [detkit.eval.unknown_image]".format(foreign, first))
        res = COCO()
        res._index = None
        res._lazy = ("results", source, self)
        res._dt = dt
        print("DONE (t={:0.2f}s)".format(time.time() - tic))
        return res

    def loadNumpyAnnotations(self, data):
        """N×7 array [image_id, x, y, w, h, score, category_id] → list of result dicts."""
        print("Converting ndarray to lists...")
        assert type(data) == np.ndarray
        print(data.shape)
        assert data.shape[1] == 7
        return [{"image_id": int(r[0]), "bbox": [r[1], r[2], r[3], r[4]], "score": r[5],
                 "category_id": int(r[6])} for r in data]

    def __deepcopy__(self, memo):
        # The native handles are immutable once built: copies share them.
        new = COCO.__new__(COCO)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, value if key in ("_gt", "_dt") else copy.deepcopy(value, memo))
        return new

    # ---- Native handles (the evaluator's input) ----------------------------------------------
    def _gt_handle(self):
        if self._gt is None:
            self._gt = _detkit.GroundTruth.from_dataset(self.dataset)
        return self._gt

    def _dt_handle(self):
        if self._dt is None:
            self._dt = _dt_from_dataset(self.dataset)
        return self._dt


def _empty_index():
    return {"anns": {}, "imgs": {}, "cats": {}, "imgToAnns": defaultdict(list),
            "catToImgs": defaultdict(list)}


def _build_index(dataset):
    ix = _empty_index()
    anns, imgs, cats = ix["anns"], ix["imgs"], ix["cats"]
    img_to_anns, cat_to_imgs = ix["imgToAnns"], ix["catToImgs"]
    for ann in dataset.get("annotations", ()):
        img_to_anns[ann["image_id"]].append(ann)
        anns[ann["id"]] = ann
    for img in dataset.get("images", ()):
        imgs[img["id"]] = img
    for cat in dataset.get("categories", ()):
        cats[cat["id"]] = cat
    if "annotations" in dataset and "categories" in dataset:
        for ann in dataset["annotations"]:
            cat_to_imgs[ann["category_id"]].append(ann["image_id"])
    return ix


def _results_dataset(source, gt):
    """The dataset pycocotools' loadRes builds (the result dicts get area/id/iscrowd/segmentation)."""
    keep = None
    if isinstance(source, tuple) and source and source[0] == "filtered":
        _, source, keep = source
    if isinstance(source, str):
        with open(source) as f:
            anns = json.load(f)
    elif isinstance(source, np.ndarray):
        anns = gt.loadNumpyAnnotations(source)
    else:
        anns = source
    if keep is not None:
        anns = [anns[i] for i in keep]
    gd = gt.dataset
    dataset = {"info": copy.deepcopy(gd.get("info", {})), "images": list(gd["images"]),
               "categories": copy.deepcopy(gd.get("categories", []))}
    for i, ann in enumerate(anns):
        bb = ann["bbox"]
        x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
        if "segmentation" not in ann:
            ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
        ann["area"] = bb[2] * bb[3]
        ann["id"] = i + 1
        ann["iscrowd"] = 0
    dataset["annotations"] = anns
    return dataset


def _dt_from_dataset(dataset):
    anns = dataset.get("annotations", [])
    dt = _detkit.Detections.from_list(anns)
    try:
        ids = np.fromiter((a["id"] for a in anns), dtype=np.int64, count=len(anns))
    except (KeyError, TypeError, ValueError):
        return dt  # no ids: loadRes numbering (position + 1)
    dt.set_ids(ids)
    return dt

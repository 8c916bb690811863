"""pycocotools' ``COCOeval`` (``pycocotools.cocoeval``) for ``iouType='bbox'``, on detkit's
native evaluator: the same ``params``, ``evaluate()/accumulate()/summarize()``, ``stats``,
``eval['precision'|'recall'|'scores']``, ``evalImgs`` and ``ious``, with pycocotools' numbers bit
for bit (pycocotools 2.0.11 on numpy 2.x).

``evaluate()`` runs the matching natively with the GIL released; ``evalImgs`` and ``ious`` (which
pycocotools builds as millions of Python objects) are built the first time they are read.
Code that replaces ``evalImgs`` (torchvision's ``CocoEvaluator`` merges them across processes)
gets ``accumulate()`` over its records, exactly as pycocotools would compute it.
"""

import copy
import datetime
import math
import time

import numpy as np

from . import _detkit, reports
from .coco import COCO

__all__ = ["COCOeval", "Params", "merge_states"]

_SUPPORTED = "detkit evaluates iouType='bbox' only"


class Params:
    """Evaluation parameters; the defaults are pycocotools' ``Params(iouType='bbox')``."""

    def setDetParams(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2],
                        [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1

    def __init__(self, iouType="bbox"):
        if iouType != "bbox":
            raise NotImplementedError(
                "iouType={!r}: {} ('segm' and 'keypoints' are not supported)".format(
                    iouType, _SUPPORTED))
        self.setDetParams()
        self.iouType = iouType
        self.useSegm = None  # deprecated in pycocotools; kept for code that sets it


def _same_params(a, b):
    try:
        return (list(a.imgIds) == list(b.imgIds) and list(a.catIds) == list(b.catIds)
                and a.useCats == b.useCats and list(a.maxDets) == list(b.maxDets)
                and [list(r) for r in a.areaRng] == [list(r) for r in b.areaRng]
                and np.array_equal(a.iouThrs, b.iouThrs)
                and np.array_equal(a.recThrs, b.recThrs))
    except (TypeError, ValueError, AttributeError):
        return False


def _gt_handle(coco):
    if isinstance(coco, COCO):
        return coco._gt_handle()
    return _detkit.GroundTruth.from_dataset(coco.dataset)  # e.g. a pycocotools COCO


def _dt_handle(coco):
    if isinstance(coco, COCO):
        return coco._dt_handle()
    from .coco import _dt_from_dataset
    return _dt_from_dataset(coco.dataset)


class COCOeval:
    """COCO bbox evaluation with pycocotools' API and numbers.

    >>> E = COCOeval(gt, dt, "bbox")
    >>> E.evaluate(); E.accumulate(); E.summarize()
    >>> E.stats[0]  # AP

    Any other ``iouType`` raises ``NotImplementedError``. Beyond pycocotools: ``score_cutoff`` on
    ``accumulate``, ``sweep()``, ``counts()``, ``f1_optimal()`` and ``match_log()``.
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType="segm"):
        if iouType != "bbox":
            raise NotImplementedError(
                "iouType={!r}: {} (pass iouType='bbox')".format(iouType, _SUPPORTED))
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.eval = {}
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self.stats = []
        self._native = None  # _detkit.Evaluation of the last evaluate()
        self._native_params = None
        self._evalImgs = []
        self._evalImgs_user = False
        self._ious = {}
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def __deepcopy__(self, memo):
        # The native matching is immutable: copies share it.
        new = COCOeval.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, value if key == "_native" else copy.deepcopy(value, memo))
        return new

    # ---- pycocotools' record attributes, built on first read ---------------------------------
    @property
    def evalImgs(self):
        """pycocotools' per (category, area range, image) records: dicts with dtIds, gtIds,
        dtMatches (T×D GT ids), gtMatches, dtScores, gtIgnore, dtIgnore -- or None."""
        if self._evalImgs is None:
            self._evalImgs = self._native.eval_imgs(self._native_params.areaRng)
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value
        self._evalImgs_user = True

    @property
    def ious(self):
        """{(imgId, catId): D×G IoU array (detections by score, GTs in file order), or []}."""
        if self._ious is None:
            self._ious = self._native.ious()
        return self._ious

    @ious.setter
    def ious(self, value):
        self._ious = value

    # ---- The three steps ---------------------------------------------------------------------
    def evaluate(self):
        """Matches detections to ground truth per image and category (pycocotools evaluate())."""
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            print("useSegm (deprecated) is not None. Running {} evaluation".format(p.iouType))
        if p.iouType != "bbox":
            raise NotImplementedError("iouType={!r}: {}".format(p.iouType, _SUPPORTED))
        print("Evaluate annotation type *{}*".format(p.iouType))
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        cat_ids = [int(c) for c in p.catIds]
        self._native = _detkit.evaluate(
            _gt_handle(self.cocoGt), _dt_handle(self.cocoDt),
            [int(i) for i in p.imgIds], cat_ids, bool(p.useCats),
            [float(t) for t in p.iouThrs], [float(r) for r in p.recThrs],
            [int(m) for m in p.maxDets], [(float(a[0]), float(a[1])) for a in p.areaRng],
            [str(l) for l in p.areaRngLbl], 0)
        self._native_params = copy.deepcopy(p)
        self._evalImgs = None
        self._evalImgs_user = False
        self._ious = None
        self._paramsEval = copy.deepcopy(self.params)
        print("DONE (t={:0.2f}s).".format(time.time() - tic))

    def accumulate(self, p=None, score_cutoff=None):
        """pycocotools accumulate(): eval['precision'] [T,R,K,A,M], eval['recall'] [T,K,A,M] and
        eval['scores'] [T,R,K,A,M]. ``score_cutoff`` (beyond pycocotools): only detections with
        score >= it count, computed from the same matching."""
        print("Accumulating evaluation results...")
        tic = time.time()
        if self._native is None and not self._evalImgs_user:
            print("Please run evaluate() first")
            return
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        native_p = copy.copy(self._native_params) if self._native_params is not None else None
        if native_p is not None and not native_p.useCats:
            native_p.catIds = [-1]
        if (not self._evalImgs_user and native_p is not None and _same_params(p, native_p)
                and _same_params(self._paramsEval, self._native_params)):
            cutoff = -math.inf if score_cutoff is None else float(score_cutoff)
            precision, recall, scores = self._native.accumulate(cutoff)
        else:
            if score_cutoff is not None:
                raise ValueError("score_cutoff needs the matching of evaluate(); evalImgs was "
                                 "replaced or params changed since")
            precision, recall, scores = self._accumulate_records(p, T, R, K, A, M)
        self.eval = {
            "params": p,
            "counts": [T, R, K, A, M],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        print("DONE (t={:0.2f}s).".format(time.time() - tic))

    def _accumulate_records(self, p, T, R, K, A, M):
        pe = self._paramsEval
        cat_ids = pe.catIds if pe.useCats else [-1]
        set_k, set_m, set_i = set(cat_ids), set(pe.maxDets), set(pe.imgIds)
        set_a = set(map(tuple, pe.areaRng))
        k_list = [n for n, k in enumerate(p.catIds) if k in set_k]
        m_list = [m for n, m in enumerate(p.maxDets) if m in set_m]
        a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set_a]
        i_list = [n for n, i in enumerate(p.imgIds) if i in set_i]
        pr, rc, sc = _detkit.accumulate_records(
            self.evalImgs, k_list, a_list, [int(m) for m in m_list], i_list, len(pe.imgIds),
            len(pe.areaRng), [float(t) for t in p.iouThrs], [float(r) for r in p.recThrs])
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        scores = -np.ones((T, R, K, A, M))
        k, a, m = len(k_list), len(a_list), len(m_list)
        precision[:, :, :k, :a, :m] = pr
        recall[:, :k, :a, :m] = rc
        scores[:, :, :k, :a, :m] = sc
        return precision, recall, scores

    def summarize(self):
        """Prints pycocotools' 12 lines (character for character) and sets ``stats``."""
        if not self.eval:
            raise Exception("Please run accumulate() first")
        p = self.params
        stats, text = _detkit.summarize(
            np.ascontiguousarray(self.eval["precision"], dtype=np.float64),
            np.ascontiguousarray(self.eval["recall"], dtype=np.float64),
            [float(t) for t in p.iouThrs], [int(m) for m in p.maxDets],
            [str(l) for l in p.areaRngLbl])
        print(text, end="")
        self.stats = stats

    def __str__(self):
        self.summarize()
        return ""

    # ---- Beyond pycocotools (from the matching of the last evaluate()) -----------------------
    def _matching(self):
        if self._native is None:
            raise RuntimeError("run evaluate() first (or use detkit.merge_states)")
        return self._native

    def _area_index(self, area):
        if isinstance(area, str):
            labels = list(self.params.areaRngLbl)
            if area not in labels:
                raise ValueError("area {!r} is not one of params.areaRngLbl {}".format(area, labels))
            return labels.index(area)
        return int(area)

    def sweep(self, cutoffs=None):
        """The 12 stats at each score cutoff (default 0.00, 0.05, ... 0.95), from the one
        matching: a structured array (score_cutoff, AP, AP50, ..., ARl)."""
        if cutoffs is None:
            cutoffs = [i * 5 / 100 for i in range(20)]
        cutoffs = [float(c) for c in cutoffs]
        stats = self._matching().sweep(cutoffs)
        return reports.stats_table("score_cutoff", np.array(cutoffs), stats)

    def per_category(self, score_cutoff=None):
        """All 12 stats for each category alone: a structured array (category_id, AP, ...)."""
        cut = -math.inf if score_cutoff is None else float(score_cutoff)
        ids, stats = self._matching().per_category(cut)
        return reports.stats_table("category_id", ids, stats)

    def counts(self, confidence, iou=0.5, max_dets=None, area="all"):
        """TP / FP / FN, precision, recall and F1 per category (then category_id -1: all) for
        detections with score >= confidence, at one IoU threshold (one of params.iouThrs)."""
        return reports.table(self._matching().counts(
            float(iou), int(max_dets or 0), self._area_index(area), float(confidence)))

    def f1_optimal(self, iou=0.5, max_dets=None, area="all"):
        """The confidence that maximises F1 per category (then overall), with its counts."""
        return reports.table(self._matching().f1_optimal(
            float(iou), int(max_dets or 0), self._area_index(area)))

    def match_log(self, iou=0.5, max_dets=None, area="all", score_cutoff=None):
        """Every detection and every GT with its outcome and the reason, at one (IoU threshold,
        maxDets, area range, score cutoff): (detections, gts), two structured arrays.
        Detections: id (pycocotools' dt id), image_id, category_id, score, rank (-1: not ranked),
        status, reason, has_gt, gt_id, gt_category_id, iou. GTs: id, image_id, category_id,
        status, reason, has_detection, detection_id, score."""
        cut = -math.inf if score_cutoff is None else float(score_cutoff)
        det, gt = self._matching().match_log(float(iou), int(max_dets or 0),
                                             self._area_index(area), cut)
        det["status"] = reports.named(det["status"], reports.MATCH_STATUS)
        det["reason"] = reports.named(det["reason"], reports.MATCH_REASON)
        gt["status"] = reports.named(gt["status"], reports.GT_STATUS)
        gt["reason"] = reports.named(gt["reason"], reports.MATCH_REASON)
        return reports.table(det), reports.table(gt)

    def confusion_matrix(self, iou=0.5, max_dets=None, area="all", confidence=None):
        """(category_ids, matrix): rows GT class, columns predicted class, index K = background
        (row K: false positives, column K: missed GTs), with COCO's matching rule."""
        conf = -math.inf if confidence is None else float(confidence)
        return self._matching().confusion_matrix(float(iou), int(max_dets or 0),
                                                 self._area_index(area), conf)

    def save_state(self, path):
        """Writes the matching as a shard state file (detkit.merge_states merges shards
        bit-identically to a single run; the CLI reads the same files)."""
        self._matching().save_state(str(path))

    @classmethod
    def _from_native(cls, native):
        self = cls(iouType="bbox")
        d = native.params()
        p = self.params
        p.imgIds = [int(i) for i in d["imgIds"]]
        p.catIds = [int(c) for c in d["catIds"]]  # [-1] when class-agnostic
        p.iouThrs, p.recThrs = d["iouThrs"], d["recThrs"]
        p.maxDets, p.areaRng, p.areaRngLbl = d["maxDets"], d["areaRng"], d["areaRngLbl"]
        p.useCats = d["useCats"]
        self._native = native
        self._native_params = copy.deepcopy(p)
        self._paramsEval = copy.deepcopy(p)
        self._evalImgs = None
        self._ious = None
        return self


def merge_states(paths):
    """Merges shard state files (COCOeval.save_state, or detkit-eval --save-state) into one
    COCOeval whose accumulate()/summarize()/reports equal a single run over all shards, bit for
    bit. evalImgs and ious are not available (the states hold the matching only)."""
    return COCOeval._from_native(_detkit.merge_states([str(p) for p in paths]))

"""The Open Images detection metric (OID challenge / TF Object Detection API), natively: GT boxes
expanded up the class hierarchy, verified image-level labels, group-of boxes matched by IoA,
VOC all-point AP per class. Inputs are numpy columns; classes are indices 0..num_classes-1."""

import numpy as np

from . import _detkit
from .reports import table

__all__ = ["evaluate_open_images"]


def _col(x, dtype, n=None):
    a = np.ascontiguousarray(x, dtype=dtype)
    return a if n is None else a.reshape(n, 4)


def evaluate_open_images(gt_image, gt_class, gt_boxes, gt_group_of, label_image, label_class,
                         label_present, det_image, det_class, det_scores, det_boxes, num_classes,
                         parents=None, iou_threshold=0.5, group_of_weight=1.0):
    """Open Images mAP.

    gt_*: one row per GT box (image key uint64, class index, box N×4 x1,y1,x2,y2 relative,
    group_of bool); label_*: verified image-level labels (present=False: verified absent);
    det_*: one row per detection. ``parents``: per class, the list of its parent classes (the
    hierarchy; None = no expansion). Returns {'map', 'per_class' (structured array: class_index,
    ap (NaN without GT), num_gt, true_positives, false_positives), 'detections_*' counts}.
    """
    r = _detkit.evaluate_open_images(
        _col(gt_image, np.uint64), _col(gt_class, np.uint32), _col(gt_boxes, np.float32, -1),
        _col(gt_group_of, np.bool_), _col(label_image, np.uint64), _col(label_class, np.uint32),
        _col(label_present, np.bool_), _col(det_image, np.uint64), _col(det_class, np.uint32),
        _col(det_scores, np.float64), _col(det_boxes, np.float32, -1), int(num_classes),
        [list(map(int, p)) for p in (parents or [])], parents is not None, float(iou_threshold),
        float(group_of_weight))
    r["per_class"] = table(r["per_class"])
    return r

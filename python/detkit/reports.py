"""Beyond pycocotools, from one matching (the same as the detkit-eval CLI): stats at score
cutoffs and the sweep, per-class stats, TP/FP/FN/P/R/F1 and F1-optimal confidences, the match log
with a reason per detection, the confusion matrix, and shard states. Tables are numpy structured
arrays (``pandas.DataFrame(table)`` takes them as they are)."""

import numpy as np

STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm",
              "ARl")
MATCH_STATUS = ("true_positive", "false_positive", "ignored", "not_counted")
MATCH_REASON = ("none", "duplicate", "low_iou", "wrong_class", "gt_id_zero", "crowd",
                "gt_outside_area", "dt_outside_area", "beyond_max_dets", "below_score_cutoff",
                "unknown_category", "unknown_image", "missed")
GT_STATUS = ("matched", "missed", "ignored")


def table(columns):
    """{name: 1-D array} -> a numpy structured array with those columns, in that order."""
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    out = np.empty(len(arrays[0]) if arrays else 0, dtype=[(n, a.dtype) for n, a in zip(names, arrays)])
    for n, a in zip(names, arrays):
        out[n] = a
    return out


def named(codes, names):
    """uint8 codes -> fixed-width strings."""
    return np.array(names)[np.asarray(codes, dtype=np.intp)] if len(codes) else np.array([], "U1")


def stats_table(first_name, first, stats):
    cols = {first_name: first}
    for i, n in enumerate(STAT_NAMES):
        cols[n] = stats[:, i]
    return table(cols)

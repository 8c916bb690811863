"""Bad input never crashes: every malformed dict, list, array or file raises detkit.ParseError
(a ValueError) naming where, or the exception pycocotools raises for the same misuse."""
import contextlib
import io
import random

import numpy as np
import pytest

import detkit

GT = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}, {"id": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
                       "area": 100, "iscrowd": 0}]}
DET = {"image_id": 1, "category_id": 1, "bbox": [1.0, 1.0, 9.0, 9.0], "score": 0.9}


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def evaluate(gt, dt):
    e = detkit.COCOeval(gt, dt, "bbox")
    quiet(e.evaluate)
    quiet(e.accumulate)
    quiet(e.summarize)
    return e


def test_parse_error_is_value_error_with_location(tmp_path):
    assert issubclass(detkit.ParseError, ValueError)
    p = tmp_path / "dt.json"
    p.write_text('[\n {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}\n]')
    gt = quiet(detkit.COCO, GT)
    with pytest.raises(detkit.ParseError) as e:
        quiet(gt.loadRes, str(p))
    assert str(e.value) == (f"{p}:2:44: error: field 'bbox': expected 4 numbers, got 3 "
                            "[detkit.json.schema]")
    with pytest.raises(detkit.ParseError) as e:
        quiet(gt.loadRes, [DET, dict(DET, bbox=[1, 2, "x", 4])])
    assert str(e.value) == ("results[1]: error: field 'bbox': expected a number, got 'x' "
                            "[detkit.json.schema]")
    with pytest.raises(AssertionError):  # pycocotools' exception for a foreign image
        quiet(gt.loadRes, [dict(DET, image_id=99)])


def test_bad_gt_file(tmp_path):
    p = tmp_path / "gt.json"
    p.write_text('{"images": [{"id": 1}], "categories": [], "annotations": [{"id": 1}')
    with pytest.raises(detkit.ParseError, match=str(p)):
        quiet(detkit.COCO, str(p))
    with pytest.raises(detkit.ParseError, match="cannot open"):
        quiet(detkit.COCO, str(tmp_path / "missing.json"))


def mutations(rng):
    """Malformed variants of a result dict."""
    bad_values = [None, "1", [], {}, float("nan"), float("inf"), -1e300, 2 ** 70, [1, 2],
                  [1, 2, 3, 4, 5], ["a", 1, 2, 3], object(), True, b"x", 1.5]
    for key in ("image_id", "category_id", "bbox", "score"):
        for v in bad_values:
            d = dict(DET)
            d[key] = v
            yield d
        d = dict(DET)
        del d[key]
        yield d
    for _ in range(200):
        d = dict(DET)
        k = rng.choice(list(d))
        d[k] = rng.choice(bad_values + [rng.random(), rng.randint(-5, 5)])
        yield d


def test_fuzz_result_dicts_never_crash():
    gt = quiet(detkit.COCO, GT)
    rng = random.Random(13)
    outcomes = set()
    for d in mutations(rng):
        try:
            evaluate(gt, quiet(gt.loadRes, [DET, d]))
            outcomes.add("ok")
        except (ValueError, AssertionError) as e:  # ParseError / foreign image
            outcomes.add(type(e).__name__)
    assert "ParseError" in outcomes


def test_fuzz_ground_truth_dicts_never_crash():
    rng = random.Random(7)
    bad_values = [None, "x", [], {}, float("nan"), [1, 2, 3], 2 ** 80, -1, True]
    raised = 0
    for _ in range(300):
        gt = {"images": [dict(i) for i in GT["images"]],
              "categories": [dict(c) for c in GT["categories"]],
              "annotations": [dict(a) for a in GT["annotations"]]}
        section = rng.choice(["images", "categories", "annotations"])
        if rng.random() < 0.1:
            gt[section] = rng.choice(bad_values)
        elif gt[section]:
            entry = gt[section][0]
            key = rng.choice(list(entry))
            if rng.random() < 0.3:
                del entry[key]
            else:
                entry[key] = rng.choice(bad_values)
        try:
            coco = quiet(detkit.COCO)
            coco.dataset = gt
            quiet(coco.createIndex)
            evaluate(coco, quiet(coco.loadRes, [DET]))
        except (ValueError, AssertionError, KeyError, TypeError):
            raised += 1  # KeyError/TypeError: pycocotools' own index code on a broken dataset
    assert raised > 0


@pytest.mark.parametrize("array", [
    np.zeros((3, 6)), np.zeros((7,)), np.full((2, 7), np.nan), np.array([[1, 0, 0, 1, 1, 1e400, 1]]),
    np.array([[1e30, 0, 0, 1, 1, 1, 1]]), np.zeros((0, 7)), np.array([["a"] * 7]),
])
def test_bad_arrays_raise(array):
    gt = quiet(detkit.COCO, GT)
    try:
        dt = quiet(gt.loadRes, array)
    except (ValueError, AssertionError):
        return
    evaluate(gt, dt)  # the few valid ones (an empty N×7) evaluate


def test_bad_eval_imgs_records_raise():
    gt = quiet(detkit.COCO, GT)
    e = detkit.COCOeval(gt, quiet(gt.loadRes, [DET]), "bbox")
    quiet(e.evaluate)
    records = list(e.evalImgs)
    for bad in (None, "x", {"dtScores": [1]}, dict(records[0], dtMatches="x"),
                dict(records[0], dtScores=[0.5, 0.4])):
        e.evalImgs = [bad] + records[1:] if bad is not None else "not a list"
        with pytest.raises((ValueError, TypeError)):
            quiet(e.accumulate)

"""Shared fixtures: the COCO fixture folder, the live pycocotools reference (a test whose
reference cannot be imported skips locally and fails when DETKIT_REQUIRE_REFERENCES=1), and a
way to run the same user code on pycocotools and then on detkit via init_as_pycocotools()."""
import contextlib
import io
import os
import pathlib
import sys

import numpy as np
import pytest

FIXTURES = pathlib.Path(os.environ.get(
    "DETKIT_FIXTURES_DIR", pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
COCO_FIXTURES = FIXTURES / "coco"


def require_reference(name):
    """Imports a reference package or skips (fails under DETKIT_REQUIRE_REFERENCES=1)."""
    try:
        return __import__(name, fromlist=["_"])
    except Exception as exc:  # noqa: BLE001 - any import failure means "no reference"
        msg = f"reference {name!r} cannot be imported ({exc!r})"
        if os.environ.get("DETKIT_REQUIRE_REFERENCES", "") not in ("", "0"):
            pytest.fail(msg + " and DETKIT_REQUIRE_REFERENCES=1")
        pytest.skip(msg)


@pytest.fixture
def pycocotools_modules():
    """The real pycocotools.coco and .cocoeval modules."""
    coco = require_reference("pycocotools.coco")
    cocoeval = require_reference("pycocotools.cocoeval")
    return coco, cocoeval


_PYCOCO_NAMES = ("pycocotools", "pycocotools.coco", "pycocotools.cocoeval", "pycocotools.mask")


@contextlib.contextmanager
def as_pycocotools():
    """detkit.init_as_pycocotools() for the duration of the block; sys.modules restored after."""
    import detkit
    saved = {n: sys.modules.get(n) for n in _PYCOCO_NAMES}
    detkit.init_as_pycocotools()
    try:
        yield
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def run_twice(source, **inputs):
    """Runs user code `source` (which defines run(**inputs) and imports pycocotools itself) with
    the real pycocotools, then with detkit registered as pycocotools. Returns both results."""
    require_reference("pycocotools.cocoeval")
    results = []
    for use_detkit in (False, True):
        ns = {}
        ctx = as_pycocotools() if use_detkit else contextlib.nullcontext()
        with ctx, contextlib.redirect_stdout(io.StringIO()) as out:
            exec(compile(source, "<user code>", "exec"), ns)
            value = ns["run"](**inputs)
            if use_detkit:
                import pycocotools.cocoeval as probe
                assert probe.COCOeval.__module__.startswith("detkit"), "detkit was not used"
        results.append((value, out.getvalue()))
    return results


def assert_eval_imgs_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x is None) == (y is None)
        if x is None:
            continue
        assert x.keys() == y.keys()
        for k in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert x[k] == y[k], k
        assert list(x["aRng"]) == list(y["aRng"])
        for k in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            xa, ya = np.asarray(x[k]), np.asarray(y[k])
            assert xa.shape == ya.shape, k
            assert xa.dtype == ya.dtype, k
            assert (xa == ya).all(), k


def assert_same_eval(a, b, *, eval_imgs=True, ious=True):
    """Two COCOeval objects after evaluate/accumulate/summarize: everything equal with ==."""
    assert a.stats.dtype == b.stats.dtype
    assert (a.stats == b.stats).all(), (list(a.stats), list(b.stats))
    for k in ("precision", "recall", "scores"):
        x, y = a.eval[k], b.eval[k]
        assert x.shape == y.shape and x.dtype == y.dtype, k
        assert (x == y).all(), k
    assert a.eval["counts"] == b.eval["counts"]
    if eval_imgs:
        assert_eval_imgs_equal(a.evalImgs, b.evalImgs)
    if ious:
        assert a.ious.keys() == b.ious.keys()
        for key in a.ious:
            x, y = np.asarray(a.ious[key]), np.asarray(b.ious[key])
            assert x.shape == y.shape and (x == y).all(), key

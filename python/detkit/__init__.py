"""detkit: exact, fast COCO bbox evaluation with pycocotools' API.

    import detkit
    gt = detkit.COCO("instances_val2017.json")
    E = detkit.COCOeval(gt, gt.loadRes("detections.json"), "bbox")
    E.evaluate(); E.accumulate(); E.summarize()

``detkit.init_as_pycocotools()`` makes ``from pycocotools.coco import COCO`` and
``from pycocotools.cocoeval import COCOeval`` return detkit's classes, so existing code
(torchvision's references, Detectron2, ...) runs on detkit unchanged.
"""

import sys
import types

import numpy as _np

from . import _detkit
from ._detkit import ParseError
from .coco import COCO, ResultsMismatchError
from .cocoeval import COCOeval, Params, merge_states
from .label_cache import LabelCache
from .open_images import evaluate_open_images

__all__ = ["COCO", "COCOeval", "Params", "ParseError", "ResultsMismatchError",
           "init_as_pycocotools", "merge_states", "evaluate_open_images", "LabelCache"]
__version__ = "0.1.0"

# summarize's means as np.mean computes them on the numpy installed here (1.x and 2.x differ in
# the last bits of means over more than 8192 values).
_detkit.set_numpy_major(int(_np.__version__.split(".")[0]))

ParseError.__doc__ = ("Malformed input (a file, a dict, an array): the message names where "
                      "(file:line:column or list[index]) and the field. A ValueError subclass.")


def init_as_pycocotools():
    """Registers detkit as ``pycocotools``, ``pycocotools.coco`` and ``pycocotools.cocoeval`` in
    ``sys.modules``: code that imports pycocotools afterwards gets detkit's COCO / COCOeval /
    Params. ``pycocotools.mask`` stays the real one when pycocotools is installed (detkit has no
    masks). Modules that already did ``from pycocotools.coco import COCO`` keep what they got:
    call this first."""
    mask = None
    try:
        import pycocotools.mask as mask  # noqa: F401  (segmentation helpers, if installed)
    except ImportError:
        pass
    pkg = types.ModuleType("pycocotools")
    pkg.__path__ = []
    pkg.__doc__ = "detkit, registered as pycocotools by detkit.init_as_pycocotools()"
    coco_mod = types.ModuleType("pycocotools.coco")
    coco_mod.COCO = COCO
    eval_mod = types.ModuleType("pycocotools.cocoeval")
    eval_mod.COCOeval = COCOeval
    eval_mod.Params = Params
    pkg.coco, pkg.cocoeval = coco_mod, eval_mod
    sys.modules["pycocotools"] = pkg
    sys.modules["pycocotools.coco"] = coco_mod
    sys.modules["pycocotools.cocoeval"] = eval_mod
    if mask is not None:
        pkg.mask = mask
        sys.modules["pycocotools.mask"] = mask

# Type stubs for detkit's public API (pycocotools-compatible).
import os
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

class ParseError(ValueError):
    """Malformed input; the message names file:line:column or list[index] and the field."""

class ResultsMismatchError(ParseError, AssertionError): ...

_Ids = Union[int, Sequence[int]]

class COCO:
    def __init__(self, annotation_file: Union[None, str, os.PathLike, Dict[str, Any]] = ...) -> None: ...
    dataset: Dict[str, Any]
    anns: Dict[int, Dict[str, Any]]
    imgs: Dict[int, Dict[str, Any]]
    cats: Dict[int, Dict[str, Any]]
    imgToAnns: defaultdict
    catToImgs: defaultdict
    def createIndex(self) -> None: ...
    def info(self) -> None: ...
    def getAnnIds(self, imgIds: _Ids = ..., catIds: _Ids = ..., areaRng: Sequence[float] = ...,
                  iscrowd: Optional[int] = ...) -> List[int]: ...
    def getCatIds(self, catNms: Union[str, Sequence[str]] = ...,
                  supNms: Union[str, Sequence[str]] = ..., catIds: _Ids = ...) -> List[int]: ...
    def getImgIds(self, imgIds: _Ids = ..., catIds: _Ids = ...) -> List[int]: ...
    def loadAnns(self, ids: _Ids = ...) -> List[Dict[str, Any]]: ...
    def loadCats(self, ids: _Ids = ...) -> List[Dict[str, Any]]: ...
    def loadImgs(self, ids: _Ids = ...) -> List[Dict[str, Any]]: ...
    def loadRes(self, resFile: Union[str, os.PathLike, List[Dict[str, Any]], npt.NDArray[Any]],
                min_score: Optional[float] = ...) -> "COCO": ...
    def loadNumpyAnnotations(self, data: npt.NDArray[Any]) -> List[Dict[str, Any]]: ...

class Params:
    imgIds: List[int]
    catIds: List[int]
    iouThrs: npt.NDArray[np.float64]
    recThrs: npt.NDArray[np.float64]
    maxDets: List[int]
    areaRng: List[List[float]]
    areaRngLbl: List[str]
    useCats: int
    iouType: str
    useSegm: Optional[int]
    def __init__(self, iouType: str = ...) -> None: ...
    def setDetParams(self) -> None: ...

class COCOeval:
    cocoGt: Optional[COCO]
    cocoDt: Optional[COCO]
    params: Params
    eval: Dict[str, Any]
    stats: npt.NDArray[np.float64]
    evalImgs: List[Optional[Dict[str, Any]]]
    ious: Dict[Tuple[int, int], Union[npt.NDArray[np.float64], List[Any]]]
    def __init__(self, cocoGt: Optional[COCO] = ..., cocoDt: Optional[COCO] = ...,
                 iouType: str = ...) -> None: ...
    def evaluate(self) -> None: ...
    def accumulate(self, p: Optional[Params] = ..., score_cutoff: Optional[float] = ...) -> None: ...
    def summarize(self) -> None: ...

def init_as_pycocotools() -> None: ...

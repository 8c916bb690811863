"""detkit's binary label cache (written by detkit-prepare), opened with every byte verified and
read as zero-copy numpy views of the mapped file."""

import numpy as np

from . import _detkit

__all__ = ["LabelCache", "IMAGE_DTYPE", "BOX_DTYPE"]

# The file's entry layouts (include/detkit/label_cache.hpp: cached_image, cached_box).
IMAGE_DTYPE = np.dtype([("image_id_u64", "<u8"), ("first_box", "<u8"),
                        ("image_id_offset", "<u4"), ("image_id_length", "<u4"),
                        ("file_name_offset", "<u4"), ("file_name_length", "<u4"),
                        ("width", "<i4"), ("height", "<i4"), ("box_count", "<u4"),
                        ("reserved", "<u4")])
BOX_DTYPE = np.dtype([("rel", "<f4", (4,)), ("abs", "<f4", (4,)), ("category_id", "<i4"),
                      ("occluded", "i1"), ("truncated", "i1"), ("group_of", "i1"),
                      ("depiction", "i1"), ("inside", "i1"), ("reserved", "u1", (3,))])


class LabelCache:
    """A label cache file. ``images`` and ``boxes`` are read-only structured numpy arrays that
    point into the mapping (no copy); ``boxes['rel']`` (N×4 XYXY relative), ``boxes['abs']``
    (N×4 XYXY pixels) and ``boxes['category_id']`` are views too. The file is verified on open
    (checksums, ranges); a damaged or stale file raises detkit.ParseError saying what differs.

    >>> cache = LabelCache("train.dkc")
    >>> b = cache.boxes_of(0)["abs"]   # the first image's boxes, pixels
    """

    def __init__(self, path, verify=True):
        if IMAGE_DTYPE.itemsize != _detkit.image_entry_bytes or \
                BOX_DTYPE.itemsize != _detkit.box_entry_bytes:
            raise RuntimeError("label cache entry layout mismatch between numpy and the library")
        self._h = _detkit.open_label_cache(str(path), bool(verify))
        self.images = self._h.images_bytes().view(IMAGE_DTYPE)
        self.boxes = self._h.boxes_bytes().view(BOX_DTYPE)
        self.classes = self._h.classes()  # [(mid, name)], category id = index
        self.settings = self._h.settings

    def __len__(self):
        return len(self.images)

    def boxes_of(self, i):
        """The boxes of image i (a view)."""
        im = self.images[i]
        start = int(im["first_box"])
        return self.boxes[start:start + int(im["box_count"])]

    def image_ids(self):
        """Open Images ImageIDs (16 hex digits), in image order."""
        return self._h.image_ids()

    def file_names(self):
        return self._h.file_names()

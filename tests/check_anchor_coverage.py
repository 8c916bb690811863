#!/usr/bin/env python3
"""Recomputes test_anchor_coverage's cases with torchvision itself: GeneralizedRCNNTransform(800,
1333) resizes the image and its box, the padded batch size gives the feature maps (P3-P5 by
stride, P6/P7 by a 3x3 stride-2 pad-1 conv, as RetinaNet's LastLevelP6P7), RetinaNet's default
AnchorGenerator makes the anchors and box_iou gives the best IoU. Every number must match detkit's
(sizes exactly, boxes to float32, IoU to 1e-5). Exit 77 (skip) without torchvision.

Run with Debian's /usr/bin/python3 (python3-torchvision)."""
import sys

try:
    import torch
    import torch.nn.functional as F
    from torchvision.models.detection.transform import GeneralizedRCNNTransform
    from torchvision.models.detection.retinanet import _default_anchorgen
    from torchvision.ops import box_iou
except ImportError as e:  # pragma: no cover
    from reference_support import missing_reference
    missing_reference("torchvision", e, "apt-get install python3-torchvision")


def main(path):
    t = GeneralizedRCNNTransform(800, 1333, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    t.eval()
    ag = _default_anchorgen()
    n = 0
    covered = 0
    with open(path) as f:
        rows = [line.split("\t") for line in f.read().splitlines()]
    for r in rows:
        w, h = int(r[0]), int(r[1])
        box = torch.tensor([[float(v) for v in r[2:6]]], dtype=torch.float32)
        img = torch.zeros(3, h, w)
        il, tg = t([img], [{"boxes": box, "labels": torch.tensor([1])}])
        rh, rw = il.image_sizes[0]
        ph, pw = il.tensors.shape[-2:]
        assert (rw, rh, pw, ph) == (int(r[6]), int(r[7]), int(r[8]), int(r[9])), (r, rw, rh, pw, ph)
        tb = tg[0]["boxes"][0].tolist()
        want = [float(v) for v in r[10:14]]
        assert all(abs(a - b) <= 1e-4 * max(1.0, abs(b)) for a, b in zip(tb, want)), (tb, want)
        feats = []
        x = torch.zeros(1, 1, ph // 8, pw // 8)
        for s in (8, 16, 32):
            feats.append(torch.zeros(1, 1, ph // s, pw // s))
        p = feats[-1]
        for _ in range(2):
            p = F.conv2d(p, torch.ones(1, 1, 3, 3), stride=2, padding=1)
            feats.append(p)
        anchors = ag(il, feats)[0]
        best = box_iou(tg[0]["boxes"], anchors).max().item()
        got = float(r[14])
        assert abs(best - got) <= 1e-5, (r, best, got)
        n += 1
        covered += best >= 0.5
    assert n > 40
    print(f"check_anchor_coverage: {n} boxes, resize/padding/best IoU equal to torchvision "
          f"({covered} at IoU >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

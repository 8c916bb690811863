#!/usr/bin/python3
"""Dump torchvision RetinaNet reference tensors for detkit's CPU twin (tests/retinanet/).

Run with Debian's Python, which has python3-torchvision 0.14.1 (CPU):
    /usr/bin/python3 tests/retinanet/dump_reference.py --out build/tests/work/retinanet_tiny.bin

What it builds: torchvision's RetinaNet (tv/models/detection/retinanet.py) on a ResNet body with
FrozenBatchNorm2d (random frozen statistics), FPN P3-P7 with P6 from P5 (v1), torchvision's default
anchors, matcher, box coder and losses. Configurations:
    tiny: BasicBlock [1,1,1,1], FPN 32 channels, 5 classes, 2 x 3 x 128 x 128 (label `reference`)
    tiny50: Bottleneck blocks (ResNet-50's block, stride on the 3x3) and P6 from C5 (torchvision
            v2 / Detectron2: LastLevelP6P7(2048, 32) uses C5 when in != out) (`reference`)
    r18:  BasicBlock [2,2,2,2] (ResNet-18), FPN 64 channels, 31 classes, 2 x 3 x 256 x 256 (`slow`)

What it writes (one binary file, little-endian, see write_tensors): every state_dict tensor, the
input images and targets, the output and gradient of every leaf module call (named
"<module path>#<call index>", e.g. "head.classification_head.conv.0.0#2" is that conv on P5),
the permuted head outputs, anchors, matched indices, both losses, every parameter gradient, 5 SGD
steps of losses, a post-processing case on synthetic logits, and a GeneralizedRCNNTransform case.

Traps handled (see the RetinaNet reference notes): in-place ReLUs and `out += identity` overwrite a
hooked module's output, so ReLUs are made out-of-place and every hook returns a clone; torch uses one
thread by default on this machine (set to 2); targets are redrawn while any anchor IoU lies within
1e-4 of the matcher thresholds, so float differences cannot flip a match.
"""
import argparse
import collections
import struct
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.ops import boxes as box_ops
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

MAGIC = b"DKRTREF1"
VERSION = 1
DTYPE_F32, DTYPE_I32 = 0, 1

CONFIGS = {
    "tiny": dict(block="basic", layers=[1, 1, 1, 1], fpn=32, classes=5, size=128, batch=2, p6="p5"),
    "tiny50": dict(block="bottleneck", layers=[1, 1, 1, 1], fpn=32, classes=5, size=128, batch=2,
                   p6="c5"),
    "r18": dict(block="basic", layers=[2, 2, 2, 2], fpn=64, classes=31, size=256, batch=2, p6="p5"),
}
SGD = dict(lr=0.01, momentum=0.9, weight_decay=1e-4, steps=5)


def write_tensors(path, tensors):
    """File layout: MAGIC (8 bytes), u32 version, u32 count, then per tensor:
    u32 name length, name (UTF-8), u32 dtype (0 f32, 1 i32), u32 ndim, u64 dims[ndim], raw data."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<II", VERSION, len(tensors)))
        for name, t in tensors.items():
            t = t.detach().contiguous().cpu()
            if t.dtype in (torch.float32, torch.float64):
                t, code = t.to(torch.float32), DTYPE_F32
            else:
                t, code = t.to(torch.int32), DTYPE_I32
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<II", code, t.dim()))
            f.write(struct.pack("<%dQ" % t.dim(), *t.shape))
            f.write(t.numpy().tobytes())


def build_model(cfg):
    block = BasicBlock if cfg["block"] == "basic" else Bottleneck
    body = ResNet(block, cfg["layers"], norm_layer=FrozenBatchNorm2d)
    g = torch.Generator().manual_seed(1)
    for m in body.modules():
        if isinstance(m, FrozenBatchNorm2d):  # random frozen statistics, so the fold is tested
            c = m.weight.numel()
            m.weight.copy_(0.5 + torch.rand(c, generator=g))
            m.bias.copy_(0.1 * torch.randn(c, generator=g))
            m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
            m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    expansion = block.expansion
    in_channels = [128 * expansion, 256 * expansion, 512 * expansion]
    backbone = BackboneWithFPN(body, {"layer2": "0", "layer3": "1", "layer4": "2"}, in_channels,
                               cfg["fpn"], extra_blocks=LastLevelP6P7(
                                   cfg["fpn"] if cfg["p6"] == "p5" else 512 * expansion, cfg["fpn"]))
    model = RetinaNet(backbone, num_classes=cfg["classes"])
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return model


def draw_targets(model, images, feats_shapes, cfg, gen):
    """3 boxes per image with IoUs safely away from the 0.4/0.5 thresholds."""
    size = cfg["size"]
    image_list = ImageList(images, [(size, size)] * images.shape[0])
    fake = [torch.zeros(1, 1, h, w) for (h, w) in feats_shapes]
    anchors = model.anchor_generator(image_list, fake)[0]
    for _ in range(1000):
        targets = []
        ok = True
        for _ in range(images.shape[0]):
            wh = 16 + torch.rand(3, 2, generator=gen) * (size * 0.6)
            xy = torch.rand(3, 2, generator=gen) * (size - wh)
            boxes = torch.cat([xy, xy + wh], dim=1)
            labels = torch.randint(0, cfg["classes"], (3,), generator=gen)
            iou = box_ops.box_iou(boxes, anchors)
            for thr in (0.4, 0.5):
                if ((iou - thr).abs() < 1e-4).any():
                    ok = False
            # Low-quality matches are ties on each ground truth's best IoU: keep them unambiguous.
            best = iou.max(dim=1).values
            if (best <= 0).any():
                ok = False
            targets.append({"boxes": boxes, "labels": labels})
        if ok:
            return targets
    raise RuntimeError("could not draw unambiguous targets")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--pth", help="also save the initial state_dict here (torch.save), for the "
                    "converter test")
    args = ap.parse_args()
    cfg = CONFIGS[args.config]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)

    model = build_model(cfg)
    model.train()
    n, size = cfg["batch"], cfg["size"]
    gen = torch.Generator().manual_seed(2)
    raw = torch.rand(n, 3, size, size, generator=gen)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    images = (raw - mean) / std
    levels = [(size // s, size // s) for s in (8, 16, 32, 64, 128)]
    targets = draw_targets(model, images, levels, cfg, gen)

    out = collections.OrderedDict()
    out["meta.config"] = torch.tensor(
        [0 if cfg["block"] == "basic" else 1] + cfg["layers"] +
        [cfg["fpn"], cfg["classes"], n, size, size, 0 if cfg["p6"] == "p5" else 1],
        dtype=torch.int32)
    out["meta.sgd"] = torch.tensor([SGD["lr"], SGD["momentum"], SGD["weight_decay"]])
    out["meta.sgd_steps"] = torch.tensor([SGD["steps"]], dtype=torch.int32)
    for k, v in model.state_dict().items():
        out["param." + k] = v.clone()
    if args.pth:
        torch.save(model.state_dict(), args.pth)
    out["input.raw"] = raw
    out["input.images"] = images
    for i, t in enumerate(targets):
        out["target.boxes.%d" % i] = t["boxes"]
        out["target.labels.%d" % i] = t["labels"]

    # Hooks: every leaf module call, its output kept (with .grad) and a clone passed on.
    acts = collections.OrderedDict()
    calls = collections.Counter()
    recording = [True]

    def make_hook(name):
        def hook(mod, inp, output):
            if not recording[0] or not torch.is_tensor(output):
                return None
            key = "%s#%d" % (name, calls[name])
            calls[name] += 1
            output.retain_grad()
            acts[key] = output
            return output.clone()
        return hook

    for name, m in model.named_modules():
        if len(list(m.children())) == 0 and name:
            m.register_forward_hook(make_hook(name))

    def forward_losses():
        feats = list(model.backbone(images).values())
        head = model.head(feats)
        image_list = ImageList(images, [(size, size)] * n)
        anchors = model.anchor_generator(image_list, feats)
        losses = model.compute_loss(targets, head, anchors)
        return feats, head, anchors, losses

    feats, head, anchors, losses = forward_losses()
    head["cls_logits"].retain_grad()
    head["bbox_regression"].retain_grad()
    total = losses["classification"] + losses["bbox_regression"]
    total.backward()
    recording[0] = False

    for k, v in acts.items():
        out["act." + k] = v
    out["act.head_outputs.cls_logits"] = head["cls_logits"]
    out["act.head_outputs.bbox_regression"] = head["bbox_regression"]
    for k, v in acts.items():
        if v.grad is None:
            raise RuntimeError("no gradient reached " + k)
        out["grad_act." + k] = v.grad
    out["grad_act.head_outputs.cls_logits"] = head["cls_logits"].grad
    out["grad_act.head_outputs.bbox_regression"] = head["bbox_regression"].grad
    out["anchors"] = anchors[0]
    for i, t in enumerate(targets):
        iou = box_ops.box_iou(t["boxes"], anchors[i])
        out["matched_idxs.%d" % i] = model.proposal_matcher(iou)
    out["loss.classification"] = losses["classification"].reshape(1)
    out["loss.bbox_regression"] = losses["bbox_regression"].reshape(1)
    for k, p in model.named_parameters():
        out["grad_param." + k] = p.grad.clone()
    # clip_grad_norm_'s total norm (max_norm inf: measures, scales by 1).
    out["meta.grad_norm"] = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                           float("inf")).reshape(1).float()

    # torchvision v2's GIoU box loss on the same head outputs and matches, with its gradient.
    matched = [out["matched_idxs.%d" % i].long() for i in range(n)]
    reg = head["bbox_regression"].detach().clone().requires_grad_()
    model.head.regression_head._loss_type = "giou"
    giou = model.head.regression_head.compute_loss(targets, {"bbox_regression": reg}, anchors, matched)
    giou.backward()
    model.head.regression_head._loss_type = "l1"
    out["giou.loss"] = giou.detach().reshape(1)
    out["giou.grad"] = reg.grad

    # 5 SGD steps on the same batch; loss i is measured before update i.
    opt = torch.optim.SGD(model.parameters(), lr=SGD["lr"], momentum=SGD["momentum"],
                          weight_decay=SGD["weight_decay"])
    cls_hist, box_hist = [], []
    for _ in range(SGD["steps"]):
        opt.zero_grad()
        _, _, _, losses = forward_losses()
        cls_hist.append(losses["classification"].item())
        box_hist.append(losses["bbox_regression"].item())
        (losses["classification"] + losses["bbox_regression"]).backward()
        opt.step()
    out["sgd.loss.classification"] = torch.tensor(cls_hist)
    out["sgd.loss.bbox_regression"] = torch.tensor(box_hist)

    # Post-processing on synthetic logits (the prior-bias init scores 0.0099 < 0.05 everywhere).
    model.eval()
    with torch.no_grad():
        r = anchors[0].shape[0]
        cls = torch.randn(n, r, cfg["classes"], generator=gen) * 2.0 - 3.0
        reg = torch.randn(n, r, 4, generator=gen) * 0.5
        per_level = [h * w * 9 for (h, w) in levels]
        split_out = {"cls_logits": list(cls.split(per_level, dim=1)),
                     "bbox_regression": list(reg.split(per_level, dim=1))}
        split_anchors = [list(a.split(per_level)) for a in anchors]
        image_sizes = [(size, size - 8 * i) for i in range(n)]  # exercises clipping per image
        dets = model.postprocess_detections(split_out, split_anchors, image_sizes)
    out["post.cls_logits"] = cls
    out["post.bbox_regression"] = reg
    out["post.image_sizes"] = torch.tensor(image_sizes, dtype=torch.int32)
    for i, d in enumerate(dets):
        out["post.boxes.%d" % i] = d["boxes"]
        out["post.scores.%d" % i] = d["scores"]
        out["post.labels.%d" % i] = d["labels"]

    # Input transform: normalise, then bilinear resize (min 64, max 100), pad to /32.
    tr = GeneralizedRCNNTransform(64, 100, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr.eval()
    img_a = torch.rand(3, 37, 53, generator=gen)
    img_b = torch.rand(3, 61, 29, generator=gen)
    with torch.no_grad():
        il, _ = tr([img_a, img_b])
    out["transform.input.0"] = img_a
    out["transform.input.1"] = img_b
    out["transform.output"] = il.tensors
    out["transform.image_sizes"] = torch.tensor(il.image_sizes, dtype=torch.int32)

    write_tensors(args.out, out)
    print("wrote %d tensors to %s (torch %s, torchvision %s)" %
          (len(out), args.out, torch.__version__, torchvision.__version__))


if __name__ == "__main__":
    sys.exit(main())

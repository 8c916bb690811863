#!/usr/bin/env python3
"""torchvision's RetinaNet (v1, R50-FPN) throughput, the peer of bench_retinanet_gpu.

Same work as detkit's bench: FrozenBatchNorm2d ResNet-50 body (all layers trainable), FPN P3-P7
with P6 from P5, 91 classes, pre-normalised batch of N x 3 x S x S (the transform is skipped on
both sides), 3 random boxes per image; a training step is forward + compute_loss + backward +
SGD(momentum 0.9, wd 1e-4); inference is backbone + head + postprocess_detections.
Prints `RESULT <phase> <mode> <images/s>` lines (modes: fp32, tf32, amp-bf16) for the C++ bench
to put side by side. Runs on the CPU for a smoke test: --device cpu --size 128 --batch 1.
"""
import argparse
import os
import time

import torch
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet
from torchvision.models.resnet import resnet50
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d


def build(device):
    body = resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
    backbone = _resnet_fpn_extractor(body, 5, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    return RetinaNet(backbone, num_classes=91).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(model, images, targets, device, mode, steps, warmup):
    n, _, h, w = images.shape
    image_list = ImageList(images, [(h, w)] * n)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    autocast = mode == "amp-bf16"
    torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
    torch.backends.cudnn.allow_tf32 = mode == "tf32"

    def train_step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            feats = list(model.backbone(images).values())
            head = model.head(feats)
            anchors = model.anchor_generator(image_list, feats)
        head = {k: v.float() for k, v in head.items()}
        losses = model.compute_loss(targets, head, anchors)
        loss = losses["classification"] + losses["bbox_regression"]
        loss.backward()
        opt.step()
        return loss

    def infer():
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            feats = list(model.backbone(images).values())
            head = model.head(feats)
            anchors = model.anchor_generator(image_list, feats)
            hw = [f.shape[-2] * f.shape[-1] for f in feats]
            a = head["cls_logits"].shape[1] // sum(hw)
            split = {k: list(v.float().split([x * a for x in hw], dim=1)) for k, v in head.items()}
            split_anchors = [list(x.split([x_ * a for x_ in hw])) for x in anchors]
            return model.postprocess_detections(split, split_anchors, [(h, w)] * n)

    results = {}
    model.train()
    for _ in range(warmup):
        train_step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        loss = train_step()
    sync(device)
    results["train"] = n * steps / (time.perf_counter() - t)
    print("loss %s %.6f" % (mode, loss.item()))
    model.eval()
    for _ in range(warmup):
        infer()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        infer()
    sync(device)
    results["infer"] = n * steps / (time.perf_counter() - t)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=800)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--modes", default="fp32,tf32,amp-bf16")
    ap.add_argument("--threads", type=int, default=0,
                    help="CPU threads for torch (default: one per core)")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cpu":
        # Debian's torch starts with 1 thread on 2 cores; detkit's OpenBLAS uses every core.
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.manual_seed(0)
    model = build(device)
    g = torch.Generator().manual_seed(1)
    images = torch.randn(args.batch, 3, args.size, args.size, generator=g).to(device)
    targets = []
    for _ in range(args.batch):
        wh = 32 + torch.rand(3, 2, generator=g) * (args.size / 2)
        xy = torch.rand(3, 2, generator=g) * (args.size - wh)
        targets.append({"boxes": torch.cat([xy, xy + wh], 1).to(device),
                        "labels": torch.randint(0, 91, (3,), generator=g).to(device)})
    print("torchvision", __import__("torchvision").__version__, "torch", torch.__version__,
          "device", torch.cuda.get_device_name() if device.type == "cuda" else "cpu")
    for mode in args.modes.split(","):
        r = run(model, images, targets, device, mode, args.steps, args.warmup)
        for phase, v in r.items():
            print("RESULT %s %s %.3f" % (phase, mode, v))


if __name__ == "__main__":
    main()

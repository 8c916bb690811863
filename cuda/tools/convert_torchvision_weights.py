#!/usr/bin/python3
"""Convert a torchvision RetinaNet .pth state dict to safetensors for detkit's RetinaNet.

detkit uses torchvision's parameter names, so this is a format change only: every tensor becomes
little-endian F32 under its state_dict key (num_batches_tracked counters are dropped; detkit's
backbone BatchNorm is frozen). Needs only torch (Debian: apt-get install python3-torch), not the
safetensors package, which Debian 12 does not ship; the file follows the safetensors format
(u64 header length, JSON header with dtype/shape/data_offsets, raw data).

    /usr/bin/python3 cuda/tools/convert_torchvision_weights.py \
        retinanet_resnet50_fpn_coco-eeacb38b.pth retinanet_r50_coco.safetensors

The metadata records "bn_eps", the FrozenBatchNorm2d eps the weights were trained with, and
detkit-detect / detkit-train run with it (printing it; their --bn-eps overrides). The default 0 is
right for torchvision's COCO weights (trained with eps 0, torchvision's overwrite_eps); a model
trained with torchvision's default FrozenBatchNorm2d/BatchNorm2d needs --bn-eps 1e-05.
A .pth holding a whole checkpoint ({"model": state_dict, ...}) is accepted too.
"""
import argparse
import json
import os
import struct
import sys
import tempfile

import torch


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict):
        raise SystemExit("%s: expected a state dict (name -> tensor), got %s" % (path, type(obj).__name__))
    return obj


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    out_dir = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".convert.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for b in blobs:
                f.write(b)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # never leave a half-written output
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pth")
    ap.add_argument("out")
    ap.add_argument("--bn-eps", default="0.0",
                    help="FrozenBatchNorm2d eps the weights were trained with (torchvision COCO: 0.0)")
    args = ap.parse_args()
    sd = load_state_dict(args.pth)
    tensors = []
    dropped = 0
    for name, t in sd.items():
        if not torch.is_tensor(t):
            raise SystemExit("%s: entry %s is not a tensor" % (args.pth, name))
        if name.endswith("num_batches_tracked"):
            dropped += 1
            continue
        if not t.is_floating_point():
            raise SystemExit("%s: tensor %s has dtype %s, expected floating point" % (args.pth, name, t.dtype))
        tensors.append((name, t))
    meta = {"format": "pt", "source": os.path.basename(args.pth), "bn_eps": args.bn_eps,
            "converter": "detkit convert_torchvision_weights.py", "torch": torch.__version__}
    write_safetensors(args.out, tensors, meta)
    print("wrote %d tensors (%d num_batches_tracked dropped) to %s" % (len(tensors), dropped, args.out))


if __name__ == "__main__":
    sys.exit(main())

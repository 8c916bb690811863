#!/usr/bin/env python3
"""detkit-eval --worst pictures (stdlib only): every drawn box carries a label bar in its kind's
colour and a legend strip under the picture names the four kinds, so a missed GT box reads differently
from a false positive. Which boxes are TP / FP / missed comes from the match log (whose statuses
coco_match_log_differential checks against pycocotools); the pixels are read back with a small
PNG decoder written here (zlib + the five PNG row filters).

usage: detkit_eval_worst_pictures.py DETKIT_EVAL FIXTURES_DIR WORK_DIR
"""
import csv
import json
import os
import struct
import subprocess
import sys
import zlib

exe, fixtures, work = sys.argv[1], sys.argv[2], sys.argv[3]
work = os.path.join(work, f"detkit_eval_worst_pictures.{os.getpid()}")
os.makedirs(work, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour == 2, "8-bit RGB expected"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


# The kinds' colours: matplotlib tab10 green, orange, blue, red (examples/common/palette.hpp).
COLOURS = {"GT": (44, 160, 44), "MISSED": (255, 127, 14), "TP": (31, 119, 180), "FP": (214, 39, 40)}
WHITE = (255, 255, 255)

ev = os.path.join(fixtures, "eval")
images = os.path.join(fixtures, "openimages", "images")
gt = json.load(open(os.path.join(ev, "fruit.gt.json")))
dt = json.load(open(os.path.join(ev, "fruit.dt.json")))
wdir, log, out = (os.path.join(work, n) for n in ("worst", "log.csv", "eval.json"))
p = subprocess.run([exe, "--gt", os.path.join(ev, "fruit.gt.json"), "--dt", os.path.join(ev, "fruit.dt.json"),
                    "--score-thr", "0.5", "--worst", "3", "--images", images, "--worst-dir", wdir,
                    "--match-log", log, "--json", out], capture_output=True, text=True)
check(p.returncode == 0, f"exit 0 ({p.stderr!r})")
if p.returncode == 0:
    worst = [w["image_id"] for w in json.load(open(out))["worst_images"]]
    check(len(worst) == 3, f"3 worst images ({worst})")
    by_id = {im["id"]: im for im in gt["images"]}
    # Boxes per image with their kind, from the match log (IoU 0.50; --score-thr applies).
    kinds = {}
    for r in csv.DictReader(open(log)):
        if r["record"] == "dt" and r["status"] in ("tp", "fp"):
            d = dt[int(r["index"])]
            kinds.setdefault(d["image_id"], []).append((d["bbox"], r["status"].upper()))
        elif r["record"] == "gt" and r["status"] in ("matched", "missed"):
            a = gt["annotations"][int(r["index"])]
            kinds.setdefault(a["image_id"], []).append((a["bbox"], "GT" if r["status"] == "matched" else "MISSED"))
    for image_id in worst:
        im = by_id[image_id]
        stem = os.path.splitext(im["file_name"])[0]
        path = os.path.join(wdir, f"{image_id}_{stem}.png")
        check(os.path.exists(path), f"{path} drawn")
        if not os.path.exists(path):
            continue
        w, h, rows = read_png(path)
        px = lambda x, y: tuple(rows[y][3 * x:3 * x + 3])
        scale = max(1, min(w, im["height"]) // 300)
        # The legend: a strip of 11 * scale rows under the photo with four bars side by side in
        # the kinds' colours (6 * scale pixels per letter, 2 * scale padding, 4 * scale apart).
        check(h == im["height"] + 11 * scale, f"{path}: legend strip under the photo ({h} rows)")
        x = scale
        for kind, text in (("GT", "GT MATCHED"), ("MISSED", "GT MISSED"), ("TP", "DETECTION TP"),
                           ("FP", "DETECTION FP")):
            got = px(x, im["height"] + scale)
            check(got == COLOURS[kind], f"{path}: legend '{text}' is {kind}'s colour ({got})")
            x += len(text) * 6 * scale + 2 * scale + 4 * scale
        h = im["height"]
        # Every box: a label bar at its top-left corner (drawn after all outlines, so the pixel
        # there is a label's: a kind colour or white text), and each kind present shows its colour.
        boxes = kinds.get(image_id, [])
        check(boxes, f"{path}: the match log has boxes for image {image_id}")
        seen = set()
        for (x, y, bw, bh), kind in boxes:
            lx = int(f32(x))
            ly = min(max(int(f32(y)) - 9 * scale, 0), max(0, h - 9 * scale))
            if not (0 <= lx < w):
                continue
            got = px(lx, ly)
            check(got in COLOURS.values() or got == WHITE,
                  f"{path}: box {kind} at ({x:.1f}, {y:.1f}) has no label bar (pixel {got})")
            seen.add(got)
        for kind in {k for _, k in boxes}:
            check(COLOURS[kind] in seen, f"{path}: a {kind} label is drawn")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("detkit-eval --worst pictures: every box labelled, legend present")

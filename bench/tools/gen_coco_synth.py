#!/usr/bin/env python3
# Copied unchanged (below this header) from the steering repo shared/tools/gen_coco_synth.py: the stdlib-only
# generator of the COCO fixtures random_a/b/c and of the large benchmark case (--large OUT_DIR);
# bench/coco_eval_driver.sh runs it at bench time into the git-ignored bench/data/coco/.
"""Deterministic synthetic COCO-style detection data (ground truth + results).

Standard library only (no numpy), so it runs with any Python 3.8+.
Used two ways:
  * imported by make_coco_fixtures.py for the medium random fixture cases;
  * as a command line tool for the large COCO-val-like benchmark case:

      python3 gen_coco_synth.py --large OUT_DIR
          -> OUT_DIR/large_synthetic.gt.json, OUT_DIR/large_synthetic.dt.json
             (5000 images, ~36k GT boxes, 80 categories, 100 dets/image)

The output depends only on the seed and the parameters; the SHA-256 of the
two files produced by --large is recorded in large_synthetic.expected.json so
a consumer can check it generated the same bytes.
"""
import argparse
import hashlib
import json
import math
import os
import random

IMAGE_SIZES = [(640, 480), (640, 427), (480, 640), (640, 424), (500, 375),
               (427, 640), (640, 512), (612, 612), (640, 360), (375, 500)]

# COCO-like object scale: log(sqrt(area)) ~ Normal(MU, SIGMA) gives roughly
# 41% small (< 32^2), 35% medium, 24% large (> 96^2) by the `area` field.
LOG_SIDE_MU = 3.734
LOG_SIDE_SIGMA = 1.176


def _normal(rng):
    # Box-Muller from two uniforms (only rng.random() is used, for stability).
    u1 = rng.random()
    u2 = rng.random()
    if u1 < 1e-300:
        u1 = 1e-300
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _pick_weighted(rng, weights, total=None):
    if total is None:
        total = sum(weights)
    x = rng.random() * total
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1


def _poissonish(rng, mean, cap):
    # geometric-like count with the given mean, capped (cheap and heavy-tailed)
    n = int(-math.log(max(rng.random(), 1e-12)) * mean)
    return min(n, cap)


def _r(x, nd):
    return round(x, nd) if nd is not None else x


def _clip_box(x, y, w, h, W, H):
    x0 = max(0.0, min(x, W))
    y0 = max(0.0, min(y, H))
    x1 = max(0.0, min(x + w, W))
    y1 = max(0.0, min(y + h, H))
    return x0, y0, x1 - x0, y1 - y0


def _score(rng, base, noise):
    s = base + noise * _normal(rng)
    return min(max(s, 0.001), 0.999)


def generate(seed, num_images, num_categories, gt_per_image=7.3,
             crowd_frac=0.01, fp_per_image=5.0, dets_per_image=None,
             score_decimals=4, coord_decimals=2, area_fill=(0.45, 0.9),
             exact_area_frac=0.0, zero_size_frac=0.0, max_gt=60,
             dense_images=0, dense_dets=150, first_image_id=1, name="synthetic"):
    """Return (gt_dict, dt_list).

    dets_per_image: None -> variable count; an int -> every image gets exactly
      that many detections (pad with low-score background boxes, or keep the
      top-scoring ones), like a detector's per-image top-k.
    exact_area_frac: fraction of GT whose `area` equals w*h exactly (the rest
      get w*h*fill, mimicking COCO's mask-area field).
    dense_images: this many images get `dense_dets` detections of a single
      category (exercises maxDets=100 truncation).
    """
    rng = random.Random(seed)
    cats = [{"id": k + 1, "name": "class_%02d" % (k + 1), "supercategory": "synthetic"}
            for k in range(num_categories)]
    # Zipf-like class frequencies, class 1 ("person"-like) dominant.
    cat_w = [1.0 / (k + 1) ** 1.1 for k in range(num_categories)]
    cat_w[0] = sum(cat_w[1:]) * 0.45 if num_categories > 1 else 1.0

    images, anns, dts = [], [], []
    ann_id = 1
    for i in range(num_images):
        img_id = first_image_id + i
        W, H = IMAGE_SIZES[int(rng.random() * len(IMAGE_SIZES))]
        images.append({"id": img_id, "width": W, "height": H,
                       "file_name": "%012d.jpg" % img_id})
        # categories present in this image (COCO has ~2.9 per image)
        n_img_cats = 1 + _poissonish(rng, 1.9, num_categories - 1)
        img_cats = []
        for _ in range(n_img_cats):
            c = _pick_weighted(rng, cat_w)
            if c not in img_cats:
                img_cats.append(c)
        n_gt = _poissonish(rng, gt_per_image, max_gt) if rng.random() > 0.01 else 0
        img_gts = []
        for _ in range(n_gt):
            c = img_cats[int(rng.random() * len(img_cats))] if rng.random() < 0.9 \
                else _pick_weighted(rng, cat_w)
            crowd = 1 if rng.random() < crowd_frac else 0
            side = math.exp(LOG_SIDE_MU + LOG_SIDE_SIGMA * _normal(rng))
            if crowd:
                side *= 2.5
            fill = area_fill[0] + (area_fill[1] - area_fill[0]) * rng.random()
            box_area = side * side / fill
            ar = math.exp(0.6 * _normal(rng))
            w = math.sqrt(box_area * ar)
            h = math.sqrt(box_area / ar)
            w = min(w, W)
            h = min(h, H)
            x = rng.random() * (W - w)
            y = rng.random() * (H - h)
            x, y, w, h = (_r(v, coord_decimals) for v in (x, y, w, h))
            if w <= 0 or h <= 0:
                continue
            if rng.random() < exact_area_frac:
                area = w * h
            else:
                area = round(w * h * fill, 4)
            ann = {"id": ann_id, "image_id": img_id, "category_id": c + 1,
                   "bbox": [x, y, w, h], "area": area, "iscrowd": crowd}
            ann_id += 1
            anns.append(ann)
            img_gts.append(ann)

        # ---- detections for this image
        img_dts = []
        for g in img_gts:
            x, y, w, h = g["bbox"]
            if g["iscrowd"]:
                for _ in range(1 + int(rng.random() * 4)):
                    sw, sh = w * (0.1 + 0.3 * rng.random()), h * (0.1 + 0.3 * rng.random())
                    bx, by = x + rng.random() * (w - sw), y + rng.random() * (h - sh)
                    img_dts.append((g["category_id"], (bx, by, sw, sh), _score(rng, 0.5, 0.2)))
                continue
            a = g["area"]
            p_det = 0.45 if a < 32 * 32 else (0.8 if a < 96 * 96 else 0.93)
            if rng.random() >= p_det:
                continue
            n_copies = 1
            if rng.random() < 0.15:
                n_copies += 1
            if rng.random() < 0.03:
                n_copies += 2
            for k in range(n_copies):
                q = abs(_normal(rng)) * (0.06 if k == 0 else 0.2) + 0.01
                bx = x + q * w * _normal(rng)
                by = y + q * h * _normal(rng)
                bw = w * math.exp(q * _normal(rng))
                bh = h * math.exp(q * _normal(rng))
                bx, by, bw, bh = _clip_box(bx, by, bw, bh, W, H)
                base = 0.95 - 2.5 * q - (0.15 if a < 32 * 32 else 0.0) - 0.25 * k
                cat = g["category_id"]
                if rng.random() < 0.05:
                    cat = _pick_weighted(rng, cat_w) + 1  # label confusion
                img_dts.append((cat, (bx, by, bw, bh), _score(rng, base, 0.12)))
        n_fp = _poissonish(rng, fp_per_image, 200)
        for _ in range(n_fp):
            img_dts.append(_random_fp(rng, W, H, img_cats, cat_w))
        if i < dense_images:
            c = img_cats[0]
            for _ in range(dense_dets):
                cat, box, s = _random_fp(rng, W, H, [c], cat_w)
                img_dts.append((c + 1, box, min(0.999, s + 0.3 * rng.random())))
        if dets_per_image is not None:
            while len(img_dts) < dets_per_image:
                img_dts.append(_random_fp(rng, W, H, img_cats, cat_w, low=True))
            # keep top-k by score (stable), then restore generation order
            order = sorted(range(len(img_dts)), key=lambda j: -img_dts[j][2])[:dets_per_image]
            img_dts = [img_dts[j] for j in sorted(order)]
        for cat, (bx, by, bw, bh), s in img_dts:
            if zero_size_frac and rng.random() < zero_size_frac:
                if rng.random() < 0.5:
                    bw = 0.0
                else:
                    bh = 0.0
            dts.append({"image_id": img_id, "category_id": cat,
                        "bbox": [_r(bx, coord_decimals), _r(by, coord_decimals),
                                 _r(bw, coord_decimals), _r(bh, coord_decimals)],
                        "score": _r(s, score_decimals)})
    gt = {"info": {"description": "%s (seed %d)" % (name, seed)},
          "images": images, "annotations": anns, "categories": cats}
    return gt, dts


def _random_fp(rng, W, H, img_cats, cat_w, low=False):
    side = math.exp(LOG_SIDE_MU + LOG_SIDE_SIGMA * _normal(rng))
    ar = math.exp(0.6 * _normal(rng))
    w = min(side * math.sqrt(ar) * 1.3, W)
    h = min(side / math.sqrt(ar) * 1.3, H)
    x = rng.random() * (W - w)
    y = rng.random() * (H - h)
    if rng.random() < 0.7:
        c = img_cats[int(rng.random() * len(img_cats))]
    else:
        c = _pick_weighted(rng, cat_w)
    u = rng.random()
    s = (u * u * 0.25 + 0.001) if low else (u * u * 0.7 + 0.001)
    return (c + 1, (x, y, w, h), s)


# ---------------------------------------------------------------- writing
def dump_gt(gt, path):
    """Readable JSON: one image / annotation / category per line."""
    with open(path, "w") as f:
        f.write("{\n")
        if "info" in gt:
            f.write('"info": %s,\n' % json.dumps(gt["info"]))
        for key in ("images", "annotations", "categories"):
            items = gt[key]
            f.write('"%s": [' % key)
            if items:
                f.write("\n")
                f.write(",\n".join(json.dumps(it) for it in items))
                f.write("\n")
            f.write("]%s\n" % ("," if key != "categories" else ""))
        f.write("}\n")


def dump_dt(dts, path):
    with open(path, "w") as f:
        if not dts:
            f.write("[]\n")
            return
        f.write("[\n")
        f.write(",\n".join(json.dumps(d) for d in dts))
        f.write("\n]\n")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


LARGE_PARAMS = dict(seed=20240601, num_images=5000, num_categories=80,
                    gt_per_image=7.9, crowd_frac=0.01, fp_per_image=20.0,
                    dets_per_image=100, score_decimals=6, coord_decimals=2,
                    name="large_synthetic")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--large", action="store_true",
                    help="generate the large COCO-val-like case (default parameters)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--images", type=int)
    ap.add_argument("--categories", type=int)
    ap.add_argument("--name", default=None)
    a = ap.parse_args()
    params = dict(LARGE_PARAMS)
    if not a.large:
        params.update(name=a.name or "synthetic")
    if a.seed is not None:
        params["seed"] = a.seed
    if a.images is not None:
        params["num_images"] = a.images
    if a.categories is not None:
        params["num_categories"] = a.categories
    name = params["name"] if a.name is None else a.name
    params["name"] = name
    gt, dts = generate(**params)
    os.makedirs(a.out_dir, exist_ok=True)
    gp = os.path.join(a.out_dir, name + ".gt.json")
    dp = os.path.join(a.out_dir, name + ".dt.json")
    dump_gt(gt, gp)
    dump_dt(dts, dp)
    print(json.dumps({"gt": gp, "dt": dp, "images": len(gt["images"]),
                      "annotations": len(gt["annotations"]),
                      "crowd": sum(a["iscrowd"] for a in gt["annotations"]),
                      "detections": len(dts),
                      "gt_sha256": sha256_file(gp), "dt_sha256": sha256_file(dp)}, indent=1))


if __name__ == "__main__":
    main()

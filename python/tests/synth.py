"""Small seeded COCO ground truth / results generator for the parity tests (stdlib only):
crowd GT, score ties, zero-size boxes, empty images, detection-only images, more than 100
detections in one image and category, undeclared detection categories."""
import random


def make_case(seed, n_img=None, n_cat=None):
    rng = random.Random(seed)
    n_img = n_img or rng.randint(3, 30)
    n_cat = n_cat or rng.randint(1, 8)
    cat_ids = sorted(rng.sample(range(1, 90), n_cat))
    images = [{"id": i * rng.choice([1, 3]) + 1, "width": 640, "height": 480,
               "file_name": f"{i}.jpg"} for i in range(n_img)]
    images = list({im["id"]: im for im in images}.values())
    anns, dets = [], []
    ann_id = 1
    for im in images:
        for _ in range(rng.choice([0, 1, 2, 4, 8])):
            w, h = rng.uniform(2, 200), rng.uniform(2, 200)
            x, y = rng.uniform(0, 440), rng.uniform(0, 280)
            crowd = int(rng.random() < 0.05)
            anns.append({"id": ann_id, "image_id": im["id"], "category_id": rng.choice(cat_ids),
                         "bbox": [x, y, w, h], "area": w * h * rng.uniform(0.5, 1.0),
                         "iscrowd": crowd})
            ann_id += 1
    for a in anns:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            x, y, w, h = a["bbox"]
            j = lambda v: v + rng.gauss(0, max(1.0, 0.08 * v))  # noqa: E731
            dets.append({"image_id": a["image_id"],
                         "category_id": a["category_id"] if rng.random() > 0.05
                         else rng.choice(cat_ids),
                         "bbox": [j(x), j(y), max(0.0, j(w)), max(0.0, j(h))],
                         "score": round(rng.random(), rng.choice([2, 4, 8]))})
    for _ in range(rng.randint(0, 40)):  # background false positives, some zero-size
        im = rng.choice(images)
        w = rng.choice([0.0, rng.uniform(1, 100)])
        dets.append({"image_id": im["id"], "category_id": rng.choice(cat_ids),
                     "bbox": [rng.uniform(0, 500), rng.uniform(0, 400), w, rng.uniform(0, 100)],
                     "score": round(rng.random(), 2)})
    if seed % 4 == 0 and images:  # > 100 detections of one image and category, tied scores
        im, c = images[0]["id"], cat_ids[0]
        for k in range(130):
            dets.append({"image_id": im, "category_id": c,
                         "bbox": [k % 50 * 5.0, k // 50 * 20.0, 30.0, 40.0],
                         "score": round(rng.choice([0.5, 0.25, rng.random()]), 3)})
    if seed % 5 == 0:  # a category the GT does not declare
        dets.append({"image_id": images[-1]["id"], "category_id": 999,
                     "bbox": [1.0, 1.0, 10.0, 10.0], "score": 0.9})
    rng.shuffle(dets)
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}", "supercategory": "s"} for c in cat_ids]}
    return gt, dets

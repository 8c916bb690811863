#!/usr/bin/env python3
"""Reads what test_subset_exports wrote with parsers that share no code with detkit — Python's
json (COCO instances, Detectron2 dicts), plain text splitting (YOLO) and xml.etree (Pascal VOC) —
and checks every file against expected.tsv: the same images, classes and boxes.

Exactness: XYXY_ABS coordinates (COCO x/y, VOC, Detectron2) must read back as the same float32;
COCO width/height and YOLO centre/size are derived values, checked to 1e-3 px / 1e-6."""
import enum
import json
import os
import struct
import sys
import xml.etree.ElementTree as ET


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def read_expected(path):
    classes, images = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "class":
                classes.append((p[1], p[2]))
            elif p[0] == "image":
                images.append({"id": p[1], "file": p[2], "w": int(p[3]), "h": int(p[4]), "boxes": []})
            else:
                v = [f32(x) for x in p[2:10]]
                images[-1]["boxes"].append(
                    {"cat": int(p[1]), "abs": v[:4], "rel": v[4:], "group_of": int(p[10]),
                     "occluded": int(p[11]), "truncated": int(p[12])})
    return classes, images


def check_coco(d, classes, images):
    with open(f"{d}/coco.json", encoding="utf-8") as f:
        coco = json.load(f)
    assert [(c["id"], c["name"], c["oi_mid"]) for c in coco["categories"]] == [
        (i + 1, n, m) for i, (m, n) in enumerate(classes)]
    assert len(coco["images"]) == len(images)
    by_img = {}
    for a in coco["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    assert len({a["id"] for a in coco["annotations"]}) == len(coco["annotations"])
    n = 0
    for ci, exp in zip(coco["images"], images):
        assert (ci["oi_image_id"], ci["file_name"], ci["width"], ci["height"]) == (
            exp["id"], exp["file"], exp["w"], exp["h"]), ci
        anns = by_img.get(ci["id"], [])
        assert len(anns) == len(exp["boxes"]), (exp["id"], len(anns))
        for a, b in zip(anns, exp["boxes"]):
            x, y, w, h = a["bbox"]
            assert a["category_id"] == b["cat"] + 1 and a["iscrowd"] == 0
            assert a["oi_group_of"] == b["group_of"]
            assert f32(x) == b["abs"][0] and f32(y) == b["abs"][1], (a, b)
            assert abs(x + w - b["abs"][2]) <= 1e-3 and abs(y + h - b["abs"][3]) <= 1e-3, (a, b)
            assert abs(a["area"] - w * h) <= 1e-3 * max(1.0, w * h)
            n += 1
    return n


def check_yolo(d, classes, images):
    with open(f"{d}/yolo/classes.names", encoding="utf-8") as f:
        assert f.read().split("\n")[:-1] == [n for _, n in classes]
    n = 0
    for exp in images:
        stem = os.path.splitext(exp["file"])[0]
        with open(f"{d}/yolo/{stem}.txt", encoding="utf-8") as f:
            lines = [ln.split() for ln in f.read().splitlines()]
        assert len(lines) == len(exp["boxes"]), (stem, len(lines))
        for ln, b in zip(lines, exp["boxes"]):
            assert int(ln[0]) == b["cat"]
            cx, cy, w, h = map(float, ln[1:])
            x1, y1, x2, y2 = b["rel"]
            for got, want in ((cx, (x1 + x2) / 2), (cy, (y1 + y2) / 2), (w, x2 - x1), (h, y2 - y1)):
                assert abs(got - want) <= 1e-6, (stem, ln, b)
                assert 0.0 <= got <= 1.0
            n += 1
    return n


def check_voc(d, classes, images):
    n = 0
    for exp in images:
        stem = os.path.splitext(exp["file"])[0]
        root = ET.parse(f"{d}/voc/{stem}.xml").getroot()
        assert root.tag == "annotation"
        assert root.findtext("filename") == exp["file"]
        assert int(root.findtext("size/width")) == exp["w"]
        assert int(root.findtext("size/height")) == exp["h"]
        objs = root.findall("object")
        assert len(objs) == len(exp["boxes"]), (stem, len(objs))
        for o, b in zip(objs, exp["boxes"]):
            assert o.findtext("name") == classes[b["cat"]][1], o.findtext("name")
            assert int(o.findtext("truncated")) == (1 if b["truncated"] == 1 else 0)
            got = [f32(o.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
            assert got == b["abs"], (stem, got, b["abs"])
            n += 1
    return n


class BoxMode(enum.IntEnum):
    """detectron2/structures/boxes.py BoxMode (values as there)."""
    XYXY_ABS = 0
    XYWH_ABS = 1
    XYXY_REL = 2
    XYWH_REL = 3
    XYWHA_ABS = 4


def box_mode_convert(box, from_mode, to_mode):
    """The dispatch of detectron2's BoxMode.convert, which DatasetMapper / annotations_to_instances
    call as convert(obj["bbox"], obj["bbox_mode"], BoxMode.XYXY_ABS)."""
    if from_mode == to_mode:
        return box
    assert to_mode not in [BoxMode.XYXY_REL, BoxMode.XYWH_REL] and from_mode not in [
        BoxMode.XYXY_REL, BoxMode.XYWH_REL], "Relative mode not yet supported!"
    if from_mode == BoxMode.XYWH_ABS and to_mode == BoxMode.XYXY_ABS:
        return [box[0], box[1], box[0] + box[2], box[1] + box[3]]
    raise NotImplementedError(f"Conversion from BoxMode {from_mode} to {to_mode} is not supported yet")


def check_detectron2(d, classes, images):
    # bbox_mode_text::integer: after json.load (and a second dump/load) the 0 goes straight into
    # BoxMode.convert, as Detectron2's DatasetMapper does, and the boxes come out unchanged.
    with open(f"{d}/detectron2.json", encoding="utf-8") as f:
        recs = json.loads(json.dumps(json.load(f)))
    with open(f"{d}/detectron2_names.json", encoding="utf-8") as f:
        named = json.load(f)
    assert len(recs) == len(images) == len(named)
    n = 0
    for r, rn, exp in zip(recs, named, images):
        assert (r["image_id"], r["file_name"], r["width"], r["height"]) == (
            exp["id"], exp["file"], exp["w"], exp["h"])
        assert len(r["annotations"]) == len(exp["boxes"]) == len(rn["annotations"])
        for a, an, b in zip(r["annotations"], rn["annotations"], exp["boxes"]):
            assert type(a["bbox_mode"]) is int and a["bbox_mode"] == BoxMode.XYXY_ABS
            box = box_mode_convert(a["bbox"], a["bbox_mode"], BoxMode.XYXY_ABS)
            assert a["category_id"] == b["cat"]
            assert [f32(v) for v in box] == b["abs"]
            # The default (name) text needs the mapping step; raw, Detectron2 would refuse it.
            assert an["bbox_mode"] == "XYXY_ABS" and an["bbox"] == a["bbox"]
            try:
                box_mode_convert(an["bbox"], an["bbox_mode"], BoxMode.XYXY_ABS)
                raise AssertionError("a string bbox_mode should not pass BoxMode.convert")
            except NotImplementedError:
                pass
            assert box_mode_convert(an["bbox"], BoxMode[an["bbox_mode"]], BoxMode.XYXY_ABS) == box
            n += 1
    return n


def main(d):
    classes, images = read_expected(f"{d}/expected.tsv")
    total = sum(len(i["boxes"]) for i in images)
    assert total > 0 and any(not i["boxes"] for i in images), "fixture must hold a negative image"
    assert any(len({b["cat"] for b in i["boxes"]}) > 1 for i in images), "need a 2-class image"
    for name, fn in (("coco", check_coco), ("yolo", check_yolo), ("voc", check_voc),
                     ("detectron2", check_detectron2)):
        n = fn(d, classes, images)
        assert n == total, (name, n, total)
        print(f"check_subset_exports: {name}: {len(images)} images, {n} boxes match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

#!/usr/bin/env python3
"""Reads the Detectron2-style JSON written by test_detectron2_json with Python's json module (as
the recipe's training script would) and checks it against expected.tsv: schema, bbox_mode
"XYXY_ABS", and every bbox coordinate equal to the stored float32 bit for bit."""
import json
import struct
import sys


def main(directory):
    with open(f"{directory}/labels.json", encoding="utf-8") as f:
        records = json.load(f)
    with open(f"{directory}/expected.tsv", encoding="utf-8") as f:
        expected = [line.rstrip("\n").split("\t") for line in f]
    assert isinstance(records, list), "top level must be a list"
    assert len(records) == len(expected), (len(records), len(expected))
    boxes = 0
    for rec, exp in zip(records, expected):
        assert set(rec) == {"file_name", "image_id", "height", "width", "annotations"}, rec.keys()
        image_id, name_hex, height, width = exp[:4]
        assert rec["image_id"] == image_id, (rec["image_id"], image_id)
        assert rec["file_name"].encode("utf-8").hex() == name_hex, rec["file_name"]
        assert rec["height"] == int(height) and rec["width"] == int(width)
        assert len(rec["annotations"]) == len(exp) - 4
        for ann, want in zip(rec["annotations"], exp[4:]):
            assert set(ann) == {"bbox", "bbox_mode", "category_id"}, ann.keys()
            assert ann["bbox_mode"] == "XYXY_ABS"
            *bits, category = want.split(",")
            assert ann["category_id"] == int(category)
            assert len(ann["bbox"]) == 4
            for value, b in zip(ann["bbox"], bits):
                got = struct.pack(">f", float(value)).hex()
                assert got == b, f"{rec['image_id']}: {value!r} reads as float32 {got}, wrote {b}"
            boxes += 1
    print(f"check_detectron2_json: {len(records)} images, {boxes} boxes, all floats exact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

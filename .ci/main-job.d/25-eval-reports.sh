#!/usr/bin/env bash
# Main job step 25: the reports beyond pycocotools (issue 7) on the bundled fixture random_c (200
# images, 20 classes, 3415 detections; pycocotools' own numbers in tests/fixtures/coco):
#  1. one pass: per-class table of all 12 stats, TP/FP/FN/P/R/F1 at score >= 0.5, F1-optimal
#     confidences, the per-detection match log (CSV), --json with every report, and one picture
#     of each report: PR curves, F1 against confidence, confusion-matrix heat map (SVG; PNG too
#     when rsvg-convert is installed);
#  2. shard and merge: the images split into 3 shards evaluated separately, merged, and checked
#     equal to the single run; 3. `detkit-eval diff` against pycocotools' expected numbers;
#  4. --mode fixed vs pycocotools with maxDets 1,10,1000.
# Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
COCO=$DATA/coco
R=$OUT/eval/reports
mkdir -p "$R"

echo "--- one pass: match log, per-class 12 stats, counts, F1-optimal confidence, pictures"
"$BIN/detkit-eval" --gt "$COCO/random_c.gt.json" --dt "$COCO/random_c.dt.json" --reports \
  --conf 0.5 --match-log "$R/random_c-matches.csv" --json "$R/random_c.json" \
  --pr-curves "$R/random_c-pr.svg" --f1-curves "$R/random_c-f1.svg" \
  --confusion "$R/random_c-confusion.svg"
if command -v rsvg-convert >/dev/null; then
  for p in pr f1 confusion; do rsvg-convert "$R/random_c-$p.svg" -o "$R/random_c-$p.png"; done
fi
echo "first rows of the match log:"
head -4 "$R/random_c-matches.csv"

echo
echo "--- shard and merge: 3 shards of images, merged, equal to the single run"
python3 - "$COCO" "$R" <<'PY'
import json, os, sys
coco, out = sys.argv[1:3]
gt = json.load(open(os.path.join(coco, "random_c.gt.json")))
dt = json.load(open(os.path.join(coco, "random_c.dt.json")))
ids = sorted(im["id"] for im in gt["images"])
for s in range(3):
    keep = set(ids[s::3])
    g = dict(gt, images=[i for i in gt["images"] if i["id"] in keep],
             annotations=[a for a in gt["annotations"] if a["image_id"] in keep])
    json.dump(g, open(os.path.join(out, f"shard{s}.gt.json"), "w"))
    json.dump([d for d in dt if d["image_id"] in keep], open(os.path.join(out, f"shard{s}.dt.json"), "w"))
PY
for s in 0 1 2; do
  "$BIN/detkit-eval" --gt "$R/shard$s.gt.json" --dt "$R/shard$s.dt.json" \
    --shard-state "$R/shard$s.state" >/dev/null
done
ls -l "$R"/shard*.state | awk '{print "  " $NF ": " $5 " bytes"}'
"$BIN/detkit-eval" --merge "$R/shard0.state" "$R/shard1.state" "$R/shard2.state" \
  --json "$R/merged.json" >"$R/merged.txt"
head -4 "$R/merged.txt"
# diff exits 1 (failing this step) unless every stat and per-class value is bit-identical.
"$BIN/detkit-eval" diff "$R/random_c.json" "$R/merged.json" >"$R/merged-diff.txt"
grep -E "bit-identical$|differ" "$R/merged-diff.txt"

echo
echo "--- diff: detkit vs pycocotools' own numbers for the same case"
"$BIN/detkit-eval" diff "$R/random_c.json" "$COCO/random_c.expected.json" >"$R/pycocotools-diff.txt"
grep -E "bit-identical$|differ" "$R/pycocotools-diff.txt"

echo
echo "--- --mode pycocotools vs fixed with --max-dets 1,10,1000 (first summary line)"
for mode in pycocotools fixed; do
  printf '%-12s' "$mode"
  "$BIN/detkit-eval" --gt "$COCO/random_c.gt.json" --dt "$COCO/random_c.dt.json" --mode "$mode" \
    --max-dets 1,10,1000 | sed -n 2p
done
echo
echo "pictures: $R/random_c-pr.svg $R/random_c-f1.svg $R/random_c-confusion.svg"

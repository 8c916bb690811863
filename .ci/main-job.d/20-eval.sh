#!/usr/bin/env bash
# Main job step 20: score bundled detections with detkit-eval.
#  1. COCO metric on the bundled pycocotools fixture random_c (200 images, 20 classes, 3415
#     detections): pycocotools' 12 lines, the 0.05-step score-cutoff sweep, the per-class table
#     (worst first), JSON + PR-curve SVG; the AP must equal pycocotools' (tests/fixtures/coco).
#  2. COCO metric on the 8 real Open Images JPEGs (real Apple/Orange boxes, synthetic detections
#     from tests/fixtures/eval/make_eval_fixtures.py) at score >= 0.5, drawing the 3 worst images.
#  3. Open Images metric (hierarchy expanded) on the 125 real V5 validation Bed boxes with
#     synthetic Open Images predictions, per-class table; then against step 10's label cache.
# Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
COCO=$DATA/coco
OI=$DATA/openimages
EV=$DATA/eval
mkdir -p "$OUT/eval"

echo "--- COCO metric: bundled detections (fixture random_c) vs pycocotools' expected numbers"
"$BIN/detkit-eval" --gt "$COCO/random_c.gt.json" --dt "$COCO/random_c.dt.json" \
  --sweep --per-class --json "$OUT/eval/random_c.json" --pr-curves "$OUT/eval/random_c-pr.svg"
python3 - "$OUT/eval/random_c.json" "$COCO/random_c.expected.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
diff = max(abs(g - w) for g, w in zip(got["stats"], want["stats"]))
exact = sum(g == w for g, w in zip(got["stats"], want["stats"]))
print(f"AP {got['stats'][0]!r} vs pycocotools {want['stats'][0]!r}: max |diff| {diff:.1e}, {exact}/12 stats bit-identical")
sys.exit(0 if exact == 12 and len(got["stats"]) == 12 else 1)
PY

echo
echo "--- COCO metric at score >= 0.5 on 8 real images, worst 3 drawn"
"$BIN/detkit-eval" --gt "$EV/fruit.gt.json" --dt "$EV/fruit.dt.json" --score-thr 0.5 --per-class \
  --worst 3 --images "$OI/images" --worst-dir "$OUT/eval/worst" --json "$OUT/eval/fruit.json"

echo
echo "--- Open Images metric (hierarchy expanded) on the real Bed boxes"
"$BIN/detkit-eval" --metric openimages --gt "$OI/validation-annotations-bbox.v5.bed.csv" \
  --dt "$EV/bed-predictions.csv" --classes "$OI/class-descriptions-boxable.v4.csv" \
  --hierarchy "$OI/bbox_labels_600_hierarchy.json" --per-class --json "$OUT/eval/bed-oi.json"

if [ -f "$OUT/bed-validation.dkc" ]; then
  echo
  echo "--- the same predictions against the label cache prepared in step 10 (30 amenity classes)"
  "$BIN/detkit-eval" --gt "$OUT/bed-validation.dkc" --dt "$EV/bed-predictions.csv" --per-class \
    --json "$OUT/eval/bed-cache.json"
fi

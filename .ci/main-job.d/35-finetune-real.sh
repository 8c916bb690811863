#!/usr/bin/env bash
# Main job step 35: fine-tune on the 8 bundled real Open Images photos (Apple, Orange; 23 real V4
# boxes, step 10's fruit-validation.dkc) the way the recipe fine-tunes: start from a trained model
# (step 30's) with the class head replaced for 2 new classes (--new-classes: prior-probability
# bias), 3 backbone stages trainable, 128 px, 200 iterations. Then detkit-detect draws boxes >= 0.5
# on the photos and detkit-eval scores them.
#  These 8 photos are the fine-tune's own training images: the boxes show the whole pipeline
#  (real JPEGs -> cache -> loader -> training -> detection -> drawing) working on real photos;
#  they do not measure generalisation (8 photos cannot: trained on 6 and scored on the other 2,
#  the same recipe reaches mAP 0.01). Step 30's held-out scenes are the held-out score.
# Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
T=$OUT/train
ITERS=${DETKIT_MAIN_FINETUNE_ITERS:-200}
STEP=$((ITERS * 5 / 6))
IMAGES=$DATA/openimages/images

echo "--- detkit-train: fine-tune step 30's model on the 8 real photos (2 new classes), $ITERS iterations"
"$BIN/detkit-train" --train "$OUT/fruit-validation.dkc" --train-images "$IMAGES" \
  --val "$OUT/fruit-validation.dkc" --val-images "$IMAGES" --out "$T/finetune" \
  --weights "$T/run/model.safetensors" --new-classes --fpn-channels 64 \
  --min-size 128 --max-size 128 --batch 4 --base-lr 0.04 --clip-grad-norm 5 --warmup 20 \
  --steps "$STEP" --iters "$ITERS" --eval-every 100 --checkpoint-every 0 --log-every 20 --seed 1 \
  | tee "$T/finetune.txt"

echo
echo "--- detkit-detect on the 8 real photos (boxes >= 0.5 drawn), scored by detkit-eval"
"$BIN/detkit-detect" --weights "$T/finetune/model.safetensors" --classes "$T/finetune/classes.csv" \
  --min-size 128 --max-size 128 --fpn-channels 64 --cache "$OUT/fruit-validation.dkc" \
  --images "$IMAGES" --out "$T/detect-real" --draw 8 --draw-format jpg
"$BIN/detkit-eval" --gt "$T/detect-real/gt.json" --dt "$T/detect-real/detections.json" \
  --per-class --json "$T/detect-real/eval.json"

#!/usr/bin/env bash
# Main job step 10: prepare labels from the bundled real Open Images data with detkit-prepare.
#  1. The 125 real Bed rows of the V5 validation file, joined with the real V4 class file through
#     the built-in airbnb preset (30 amenity classes): expect Bed = 103 images / 125 boxes.
#  2. The 8 real validation JPEGs with their real V4 Apple/Orange boxes (OIDv4_ToolKit per-class
#     CSVs, class taken from the file name), sizes read from the JPEG headers: a cache with real
#     images, real dims and real XYXY_ABS boxes for the later steps (eval, training), and the
#     same labels as Detectron2 JSON (--dump-json needs the sizes, so only here).
# Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
OI=$DATA/openimages

echo "--- airbnb amenity classes on the real V5 validation Bed rows"
"$BIN/detkit-prepare" --boxes "$OI/validation-annotations-bbox.v5.bed.csv" \
  --classes "$OI/class-descriptions-boxable.v4.csv" --target airbnb \
  --out "$OUT/bed-validation.dkc"

echo
echo "--- 8 real validation images (Apple, Orange) with sizes from their JPEG headers"
"$BIN/detkit-prepare" --boxes "$OI/images/Apple.csv" "$OI/images/Orange.csv" --label-from-filename \
  --classes "$OI/class-descriptions-boxable.v4.csv" --target Apple,Orange \
  --images "$OI/images" --strict-images \
  --out "$OUT/fruit-validation.dkc" --dump-json "$OUT/fruit-validation.json"

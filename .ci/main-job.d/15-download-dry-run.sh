#!/usr/bin/env bash
# Main job step 15: what detkit-download would fetch for the recipe's 30 amenity classes, from the
# bundled real V5 validation Bed rows (the only amenity rows bundled) and the real V4 class file:
# per-class image and box counts (Bed = 103 images / 125 boxes) and the bytes it would download.
# --dry-run uses no network. Env: ROOT, BIN, OUT, DATA (see .ci/main-job).
set -euo pipefail
OI=$DATA/openimages
if [ ! -x "$BIN/detkit-download" ]; then
  echo "detkit-download was not built (libcurl not found: apt-get install libcurl4-openssl-dev); skipped"
  exit 0
fi
"$BIN/detkit-download" --dry-run --target airbnb --split validation \
  --boxes "$OI/validation-annotations-bbox.v5.bed.csv" \
  --classes "$OI/class-descriptions-boxable.v4.csv" --out "$OUT/download" | tee "$OUT/download-dry-run.txt"
grep -Eq '^  Bed +103 +125$' "$OUT/download-dry-run.txt" || { echo "expected Bed = 103 images / 125 boxes"; exit 1; }

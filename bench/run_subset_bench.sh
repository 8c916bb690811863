#!/usr/bin/env bash
# The subset benchmark (issue 8): on the full-size synthetic train bbox CSV (14.6M rows, 1.2 GB),
# a 10% stratified subset of the 30 amenity classes with detkit-subset, beside the plain join
# (detkit-prepare --target airbnb, the same CSV to a label cache) in the same run, then the
# rebuild from the manifest (byte-identical cache required) and an independent DuckDB check that
# every class's share of the images is within the tolerance of the full split's.
#
#   bash bench/run_subset_bench.sh [BUILD_DIR] [REPS]      (defaults: build, 3)
#   env DATA=dir   data folder (default bench/data; generated there if missing, ~75 s)
#   env TOL=t      tolerance on |share_subset - share_full| (default 0.02)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
REPS=${2:-3}
DATA=${DATA:-bench/data}
TOL=${TOL:-0.02}
PY=${PY:-python3}
if [ ! -f "$DATA/train-annotations-bbox.csv" ]; then
  echo "# generating $DATA with bench/tools/gen_oi_csv.py --full (~75 s)" >&2
  "$PY" bench/tools/gen_oi_csv.py --full --out-dir "$DATA" >&2
fi
cmake --build "$BUILD" --target detkit-subset detkit-prepare >/dev/null
CSV=$DATA/train-annotations-bbox.csv
CLASSES=$DATA/class-descriptions-boxable.csv
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cat "$CSV" >/dev/null  # warm the page cache: all numbers are warm-cache numbers
GNU_TIME=/usr/bin/time
[ -x "$GNU_TIME" ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # name, command...: REPS runs, prints the median wall and user+sys seconds
  local name=$1; shift
  local walls=() cpus=() i
  for i in $(seq "$REPS"); do
    "$GNU_TIME" -f '%e %U %S' -o "$OUT/time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    read -r w u s <"$OUT/time"
    walls+=("$w"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
  done
  local mw mc
  mw=$(printf '%s\n' "${walls[@]}" | median); mc=$(printf '%s\n' "${cpus[@]}" | median)
  printf '%-40s %8.2f s wall %8.2f s cpu\n' "$name" "$mw" "$mc"
  echo "$mw" >"$OUT/$name.wall"
}

echo "# $(nproc) cores; $CSV ($(stat -c %s "$CSV") bytes); median of $REPS runs"
measure "plain join (detkit-prepare airbnb)" \
  "$BUILD/bin/detkit-prepare" --boxes "$CSV" --classes "$CLASSES" --target airbnb \
  --out "$OUT/full.dkc" --quiet
measure "10% stratified subset (detkit-subset)" \
  "$BUILD/bin/detkit-subset" --boxes "$CSV" --classes "$CLASSES" --target airbnb \
  --fraction 0.1 --tolerance "$TOL" --seed 42 --out "$OUT/sub.dkc" \
  --manifest "$OUT/sub.manifest" --summary "$OUT/summary.tsv"
measure "rebuild from the manifest" \
  "$BUILD/bin/detkit-subset" --from-manifest "$OUT/sub.manifest" --out "$OUT/rebuilt.dkc" --quiet
grep -E '^(images|stratified)' "$OUT/10% stratified subset (detkit-subset).out"
cmp "$OUT/sub.dkc" "$OUT/rebuilt.dkc" && echo "rebuild: byte-identical cache ($(stat -c %s "$OUT/sub.dkc") bytes)"
echo "# independent check (DuckDB reads the CSV and the manifest's ImageIDs):"
"$PY" bench/check_subset_proportions.py "$CSV" "$OUT/sub.manifest" "$TOL" | tail -1

#!/usr/bin/env bash
# The Open Images amenity join benchmark (issue 2): parse the full-size synthetic train bbox CSV
# (14,610,229 rows, 1.2 GB), keep the 30 amenity classes, join class names, join the image list,
# with detkit (1 and 2 threads) vs pandas, polars and DuckDB (bench/peers/*.py) and the memchr
# newline-count floor, all in this one run. Every side's checksum must equal
# 34267/124253.5158/2457094 (unique images / sum XMax / sum ClassID).
#
#   bash bench/run_join_bench.sh [BUILD_DIR] [REPS]      (defaults: build, 3)
#   env DATA=dir      data folder (default bench/data; generated there if missing, ~75 s)
#   env QUIET=S       before each run wait up to S seconds for a 2 s window with >= 90% idle CPU
#                     (the machine may be shared; default 60)
#   env TOOLS=list    subset of: floor,detkit,polars,duckdb,pandas (default: all)
#   env NICE=n        run every tool under `nice -n n` (default -10 as root, else 0): on a shared
#                     machine this gives all measured tools, equally, priority over other jobs
#
# Each run is a fresh process under GNU time; the table shows the median (and min) of the
# tool's own work time, the median wall time of the whole process (interpreter start and imports
# included), the user+sys CPU of the median run, and the largest peak RSS (GNU time's max RSS).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
REPS=${2:-3}
DATA=${DATA:-bench/data}
QUIET=${QUIET:-60}
TOOLS=${TOOLS:-floor,detkit,polars,duckdb,pandas}
EXPECT=34267/124253.5158/2457094
PY=${PY:-python3}
if [ -z "${NICE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then NICE=-10; else NICE=0; fi
fi

if [ ! -f "$DATA/train-annotations-bbox.csv" ]; then
  echo "# generating $DATA with bench/tools/gen_oi_csv.py --full (~75 s)" >&2
  "$PY" bench/tools/gen_oi_csv.py --full --out-dir "$DATA" >&2
fi
cmake --build "$BUILD" --target bench_join >/dev/null
BJ=$BUILD/bench/bench_join
GNU_TIME=/usr/bin/time
[ -x "$GNU_TIME" ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }
FILE=$DATA/train-annotations-bbox.csv
cat "$FILE" >/dev/null  # warm the page cache: all numbers are warm-cache CPU numbers

idle2() {
  local a b ta=0 tb=0 i
  a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
  echo $(( 100 * ((b[4] + b[5]) - (a[4] + a[5])) / (tb - ta + 1) ))
}
wait_quiet() {
  local waited=0 idle
  [ "$QUIET" -gt 0 ] || { echo "-"; return; }
  while :; do
    idle=$(idle2); waited=$((waited + 2))
    if [ "$idle" -ge 90 ] || [ "$waited" -ge "$QUIET" ]; then echo "$idle"; return; fi
  done
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minimum() { sort -g | head -1; }

declare -a ROWS
detkit2_median=""
detkit2_cpu=""
run() {  # run NAME THREADS CMD...
  local name=$1 threads=$2; shift 2
  local works=() walls=() cpus=() rss=0 chk="" ok=yes idles=()
  for ((r = 0; r < REPS; r++)); do
    idles+=("$(wait_quiet)")
    local out
    out=$(nice -n "$NICE" "$GNU_TIME" -f "TIME %e %U %S %M" "$@" 2>&1) || { echo "$out" >&2; exit 1; }
    local line t
    line=$(grep '^tool=' <<<"$out")
    t=$(grep '^TIME' <<<"$out")
    works+=("$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")")
    walls+=("$(awk '{print $2}' <<<"$t")")
    cpus+=("$(awk '{printf "%.2f", $3 + $4}' <<<"$t")")
    local m; m=$(awk '{print $5}' <<<"$t")
    [ "$m" -gt "$rss" ] && rss=$m
    chk=$(sed -E 's/.*checksum=([^ ]+).*/\1/' <<<"$line")
    if [ "$chk" != "-" ] && [ "$chk" != "$EXPECT" ]; then ok="NO ($chk)"; fi
    echo "  $name run $((r + 1)): $line | wall ${walls[-1]} s, cpu ${cpus[-1]} s, maxrss $((m / 1024)) MB, idle before ${idles[-1]}%" >&2
  done
  local med mn wmed cmed
  med=$(printf '%s\n' "${works[@]}" | median)
  mn=$(printf '%s\n' "${works[@]}" | minimum)
  wmed=$(printf '%s\n' "${walls[@]}" | median)
  # CPU of the run whose work time is the median
  for i in "${!works[@]}"; do [ "${works[$i]}" = "$med" ] && cmed=${cpus[$i]} && break; done
  [ "$name" = "detkit" ] && [ "$threads" = 2 ] && detkit2_median=$med && detkit2_cpu=$cmed
  [ "$chk" = "-" ] && ok="-"
  ROWS+=("$name|$threads|$med|$mn|$wmed|$cmed|$((rss / 1024))|$ok")
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), file $(stat -c %s "$FILE") bytes, reps $REPS, load before $(cut -d' ' -f1-3 /proc/loadavg)"
for t in ${TOOLS//,/ }; do
  case $t in
    floor)
      run memchr-floor 1 "$BJ" "$DATA" --mode floor --threads 1
      run memchr-floor 2 "$BJ" "$DATA" --mode floor --threads 2 ;;
    detkit)
      run detkit 1 "$BJ" "$DATA" --threads 1
      run detkit 2 "$BJ" "$DATA" --threads 2 ;;
    polars) POLARS_MAX_THREADS=2 run polars 2 "$PY" bench/peers/polars_join.py "$DATA" ;;
    duckdb) DUCKDB_THREADS=2 run duckdb 2 "$PY" bench/peers/duckdb_join.py "$DATA" ;;
    pandas) run pandas 1 "$PY" bench/peers/pandas_join.py "$DATA" ;;
    *) echo "unknown tool $t" >&2; exit 2 ;;
  esac
done

echo
echo "| tool | threads | work s, median (min) | × detkit 2 thr | wall s (process) | CPU s | × detkit CPU | peak RSS MB | checksum $EXPECT |"
echo "|---|---|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name threads med mn wmed cmed rss ok <<<"$row"
  ratio="-"
  cratio="-"
  if [ -n "$detkit2_median" ]; then
    ratio=$(awk -v a="$med" -v b="$detkit2_median" 'BEGIN {printf "%.1f", a / b}')
    cratio=$(awk -v a="$cmed" -v b="$detkit2_cpu" 'BEGIN {printf "%.1f", a / b}')
  fi
  echo "| $name | $threads | $med ($mn) | $ratio | $wmed | $cmed | $cratio | $rss | $ok |"
done
echo
echo "nice $NICE for every tool; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Peak RSS: detkit maps the file but releases scanned pages as it goes (csv_options::pages),"
echo "so its RSS is heap + a window of the file; the memchr floor keeps the whole mapping (page cache"
echo "pages counted in RSS). The page cache itself holds the 1.2 GB file for every tool."

#!/usr/bin/env bash
# COCO evaluation benchmark driver (issue 3): detkit vs pycocotools 2.0.11 vs faster-coco-eval on
# the large synthetic case, all in this one run on the same files.
#   bench/coco_eval_driver.sh [BUILD_DIR] [PEER_RUNS]     (defaults: build, 1)
# 1. generates the case with bench/tools/gen_coco_synth.py --large into bench/data/coco/
#    (git-ignored; ~15 s) and checks both SHA-256 against large_synthetic.expected.json;
# 2. bench_coco_eval: parse → stats phases, 1 vs 2 threads, the 20-cutoff sweep, stats checked
#    against pycocotools' expected numbers (bit-exact count printed);
# 3. end to end in fresh processes: `detkit-eval --threads 2` (what a user runs) and
#    `bench_coco_eval --once` under /usr/bin/time (wall, peak RSS), 3 runs each, medians;
# 4. issue 7: detkit-eval with --match-log and all reports vs plain (must stay within 2x);
#    COCO_BENCH_PART=reports runs only this after generating/checking the input;
# 5. pycocotools and faster-coco-eval (bench/tools/coco_peers.py), PEER_RUNS fresh processes each.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
peer_runs=${2:-1}
data=bench/data/coco
exp=tests/fixtures/coco/large_synthetic.expected.json
gt=$data/large_synthetic.gt.json
dt=$data/large_synthetic.dt.json
py=${PYTHON:-python3}

if [ ! -f "$gt" ] || [ ! -f "$dt" ]; then
  echo "== generating the large case (gen_coco_synth.py --large)"
  mkdir -p "$data"
  "$py" bench/tools/gen_coco_synth.py --large "$data" >/dev/null
fi
want_gt=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['gt_sha256'])" "$exp")
want_dt=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['dt_sha256'])" "$exp")
got_gt=$(sha256sum "$gt" | cut -d' ' -f1)
got_dt=$(sha256sum "$dt" | cut -d' ' -f1)
if [ "$got_gt" != "$want_gt" ] || [ "$got_dt" != "$want_dt" ]; then
  echo "SHA-256 mismatch: gt $got_gt (want $want_gt), dt $got_dt (want $want_dt)" >&2
  exit 1
fi
echo "== input: $(du -h "$gt" | cut -f1) GT, $(du -h "$dt" | cut -f1) results; SHA-256 match large_synthetic.expected.json"
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Issue 7: the same evaluation with the per-detection match log and every report (per-class 12
# stats, counts, F1 curves and optimum, PR points with scores, confusion matrix, SVGs), against
# the plain evaluation, fresh processes, 3 runs each, alternating. Must stay within 2x.
# COCO_BENCH_PART=reports runs only this part.
reports_bench() {
  local out=${TMPDIR:-/tmp}/detkit_coco_reports.$$
  mkdir -p "$out"
  local plain=() full=()
  for i in 1 2 3; do
    /usr/bin/time -f "%e" -o "$out/t" "$build/bin/detkit-eval" --gt "$gt" --dt "$dt" --threads 2 >/dev/null
    plain+=("$(cat "$out/t")")
    /usr/bin/time -f "%e" -o "$out/t" "$build/bin/detkit-eval" --gt "$gt" --dt "$dt" --threads 2 \
      --match-log "$out/log.csv" --reports --per-class --json "$out/r.json" \
      --pr-curves "$out/pr.svg" --f1-curves "$out/f1.svg" --confusion "$out/cm.svg" >/dev/null
    full+=("$(cat "$out/t")")
  done
  local p f
  p=$(printf '%s\n' "${plain[@]}" | median)
  f=$(printf '%s\n' "${full[@]}" | median)
  echo "detkit-eval plain: wall ${plain[*]} s (median $p s)"
  echo "detkit-eval --match-log --reports --json + 3 SVGs: wall ${full[*]} s (median $f s)," \
    "match log $(du -h "$out/log.csv" | cut -f1)"
  local rc=0
  awk -v p="$p" -v f="$f" 'BEGIN {r = f / p; printf "ratio %.2fx (limit 2x): %s\n", r, r <= 2 ? "ok" : "OVER"; exit r <= 2 ? 0 : 1}' || rc=1
  rm -rf "$out"
  return $rc
}
if [ "${COCO_BENCH_PART:-}" = reports ]; then
  echo
  echo "== detkit-eval with the match log and all reports vs plain (issue 7)"
  reports_bench
  exit $?
fi

echo
echo "== detkit: bench_coco_eval (phases, threads, sweep)"
"$build/bench/bench_coco_eval" "$gt" "$dt" "$exp" --repeat 3
echo
echo "== detkit end to end, fresh processes (JSON in -> stats out), 3 runs each"
for what in "detkit-eval" "bench_coco_eval --once"; do
  walls=(); rss=(); cpus=()
  for i in 1 2 3; do
    if [ "$what" = "detkit-eval" ]; then
      cmd=("$build/bin/detkit-eval" --gt "$gt" --dt "$dt" --threads 2)
    else
      cmd=("$build/bench/bench_coco_eval" "$gt" "$dt" "$exp" --once --threads 2)
    fi
    /usr/bin/time -f "%e %M %U %S" -o /tmp/detkit_coco_time.$$ "${cmd[@]}" >/dev/null
    read -r w m u s < /tmp/detkit_coco_time.$$
    walls+=("$w"); rss+=("$m"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
  done
  rm -f /tmp/detkit_coco_time.$$
  w=$(printf '%s\n' "${walls[@]}" | median)
  m=$(printf '%s\n' "${rss[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  echo "$what --threads 2: wall ${walls[*]} s (median $w s), CPU (user+sys) median $c s, peak RSS median $((m / 1024)) MB"
  if [ "$what" = "detkit-eval" ]; then detkit_wall=$w; detkit_rss=$m; detkit_cpu=$c; fi
done

echo
echo "== detkit-eval with the match log and all reports vs plain (issue 7)"
reports_bench || true

echo
echo "== peers on the same files ($peer_runs fresh process(es) each)"
for tool in pycocotools faster_coco_eval; do
  for i in $(seq "$peer_runs"); do
    "$py" bench/tools/coco_peers.py "$tool" "$gt" "$dt" | tee /tmp/detkit_peer_$tool.$$.json
  done
  "$py" - "$tool" /tmp/detkit_peer_$tool.$$.json "$exp" "$detkit_wall" "$detkit_rss" "$detkit_cpu" <<'PY'
import json, statistics, sys
tool, path, exp, dwall, drss = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]) / 1024
dcpu = float(sys.argv[6])
runs = [json.loads(l) for l in open(path) if l.strip()]
want = json.load(open(exp))["stats"]
total = statistics.median(r["total"] for r in runs)
cpu = statistics.median(r["cpu_total"] for r in runs)
rss = statistics.median(r["peak_rss_mb"] for r in runs)
exact = sum(a == b for a, b in zip(runs[0]["stats"], want))
print(f"{tool}: wall {total:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB; {exact}/12 stats bit-identical "
      f"to the expected file; detkit-eval is {total / dwall:.0f}x faster (wall), {cpu / dcpu:.0f}x less CPU, "
      f"{rss / drss:.1f}x less memory")
PY
  rm -f /tmp/detkit_peer_$tool.$$.json
done

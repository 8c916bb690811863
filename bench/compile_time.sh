#!/usr/bin/env bash
# Compile-time benchmark (issue 19): what including one detkit header costs a user's translation
# unit, against the standard-library baseline (<vector> + <string> + <thread>), and what the
# README's own code examples cost, with g++ and clang++ at -O0 and -O2 (-std=c++17). Each cell is
# the median of REPS compiles of a file that only includes the header and has an empty main
# (`-c`, so code generation is counted). Times are the compiler's CPU time (user + sys, from GNU
# time), which is its wall time on a quiet machine and stays meaningful on a busy one. The last
# column is clang's -ftime-trace at -O2 as shares of the whole compile: all included files
# ("Source"), the slowest of them (a header's share includes the headers it includes), the
# pending template instantiations and the backend.
#
#   bash bench/compile_time.sh [NAME...]       NAME: a header (csv.hpp, detail/mmap.hpp), or
#                                              baseline, or readme_join (bench/compile_time/*.cpp);
#                                              default: baseline, every public header, every example
#   env REPS=3          compiles per cell (median taken)
#   env CXXS="g++ clang++"   compilers
#   env OPTS="-O0 -O2"       optimisation levels
#   env TRACE=1         add the -ftime-trace column (needs clang++; 0 to skip)
#   env DETAIL=0        1: also measure include/detkit/detail/*.hpp
#
# The machine may be shared: compare rows of one run only.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
CXXS=${CXXS:-g++ clang++}
OPTS=${OPTS:--O0 -O2}
TRACE=${TRACE:-1}
DETAIL=${DETAIL:-0}
command -v clang++ >/dev/null || TRACE=0
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name -> source file to compile
declare -A src
names=()
add() { names+=("$1"); src[$1]=$2; }
write_header_tu() {  # header path relative to include/
  local id=${1//\//_}
  printf '#include "detkit/%s"\nint main() { return 0; }\n' "$1" >"$work/${id%.hpp}.cpp"
  add "$1" "$work/${id%.hpp}.cpp"
}
printf '#include <string>\n#include <thread>\n#include <vector>\nint main() { return 0; }\n' \
  >"$work/baseline.cpp"

if [ $# -eq 0 ]; then
  add baseline "$work/baseline.cpp"
  for h in include/detkit/*.hpp; do write_header_tu "${h#include/detkit/}"; done
  if [ "$DETAIL" = 1 ]; then
    for h in include/detkit/detail/*.hpp; do write_header_tu "${h#include/detkit/}"; done
  fi
  for e in bench/compile_time/readme_*.cpp; do add "$(basename "$e" .cpp)" "$e"; done
else
  for n in "$@"; do
    case $n in
      baseline) add baseline "$work/baseline.cpp" ;;
      readme_*) add "$n" "bench/compile_time/$n.cpp" ;;
      *) write_header_tu "${n#detkit/}" ;;
    esac
  done
fi

for cxx in $CXXS; do echo "# $("$cxx" --version | head -1)"; done
echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), REPS=$REPS"

median_time() {  # compiler opt file -> median CPU seconds (user + sys) of REPS compiles
  local cxx=$1 opt=$2 f=$3 times=()
  for _ in $(seq "$REPS"); do
    /usr/bin/time -f '%U %S' -o "$work/time" "$cxx" -std=c++17 "$opt" -Iinclude -pthread -c "$f" \
      -o "$work/out.o"
    times+=("$(awk '{print $1 + $2}' "$work/time")")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}

trace_top() {  # file -> "sources 70% (detkit/csv.hpp 65%, ...); instantiations 20%; backend 5%"
  clang++ -std=c++17 -O2 -Iinclude -pthread -ftime-trace -c "$1" -o "$work/trace.o"
  python3 - "$work/trace.json" <<'EOF'
import json, os, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
tot = {e["name"]: e["dur"] / 1e6 for e in ev if e.get("name", "").startswith("Total ")}
# "Source" events nest (a header inside a header); keep the outermost detkit-or-system header under
# the main file: those the TU includes directly, plus the heaviest header of any depth.
src = [e for e in ev if e.get("name") == "Source" and e.get("ph") == "X"]
by_file = {}
for e in src:
    f = e["args"]["detail"]
    short = f.split("include/")[-1] if "detkit/" in f else os.path.basename(f)
    by_file[short] = max(by_file.get(short, 0), e["dur"] / 1e6)
# The file the TU includes directly spans all of "sources"; list what it is made of instead.
src_total = tot.get("Total Source", 0)
top = sorted(((f, v) for f, v in by_file.items() if v < 0.97 * src_total), key=lambda kv: -kv[1])[:4]
# Shares of the whole compile, so that rows stay comparable on a busy machine.
total = tot.get("Total ExecuteCompiler", 0) or 1
pct = lambda v: "%d%%" % round(100 * v / total)
parts = ["sources %s (%s)" % (pct(tot.get("Total Source", 0)),
                              ", ".join("%s %s" % (f, pct(v)) for f, v in top))]
parts.append("instantiations %s" % pct(tot.get("Total PerformPendingInstantiations", 0)))
parts.append("backend %s" % pct(tot.get("Total Backend", 0)))
print("; ".join(parts))
EOF
}

header="| file |"
rule="|---|"
for cxx in $CXXS; do for opt in $OPTS; do
  header+=" $cxx $opt |"
  rule+="---:|"
done; done
[ "$TRACE" = 1 ] && { header+=" clang -O2 -ftime-trace: share of the compile |"; rule+="---|"; }
echo "$header"
echo "$rule"
for n in "${names[@]}"; do
  row="| \`$n\` |"
  for cxx in $CXXS; do for opt in $OPTS; do
    row+=" $(median_time "$cxx" "$opt" "${src[$n]}") |"
  done; done
  if [ "$TRACE" = 1 ]; then
    cp "${src[$n]}" "$work/trace.cpp"
    row+=" $(trace_top "$work/trace.cpp") |"
  fi
  echo "$row"
done

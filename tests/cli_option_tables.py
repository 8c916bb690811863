#!/usr/bin/env python3
"""The programs' option tables (examples/common/options.hpp), stdlib only: for every numeric option
of every program (and `detkit-eval diff`), a value that is not a number and a value outside the
option's range each exit 2 with "<program>: <option>: expected ..., got '<value>'" on stderr and
nothing on stdout; every such option is listed in the program's --help. A program that was not
built (libcurl, simdjson, stb or CBLAS missing) is reported and skipped.

usage: cli_option_tables.py BIN_DIR
"""
import os
import subprocess
import sys

bin_dir = sys.argv[1]
failures, checked, skipped = [], 0, []

# program -> {option: a value outside its range (None: the option takes any finite number)}
TABLES = {
    "detkit-prepare": {"--threads": "0"},
    "detkit-subset": {"--negatives": "-1", "--max-per-class": "0", "--fraction": "1.5",
                      "--tolerance": "2", "--seed": "-1", "--threads": "257"},
    "detkit-eval": {"--score-thr": None, "--worst": "-1", "--report-iou": "1.5",
                    "--report-max-dets": "0", "--conf": None, "--threads": "1025",
                    "--max-dets": "0", "--area-ranges": None},
    "detkit-eval diff": {"--iou": "1.5", "--top": "-1"},
    "detkit-download": {"--max-per-class": "0", "--limit": "0", "--jobs": "0", "--retries": "101",
                        "--retry-delay": "-1", "--stall-timeout": "0", "--connect-timeout": "0",
                        "--labels-every": "-1", "--seed": "-1", "--progress-every": "0"},
    "detkit-synth": {"--images": "0", "--size": "31", "--classes": "5", "--seed": "-1",
                     "--id-base": "-1"},
    "detkit-train": {"--fpn-channels": "-1", "--min-size": "31", "--max-size": "8193",
                     "--bn-eps": "1", "--batch": "0", "--iters": "-1", "--base-lr": "-0.1",
                     "--base-batch": "0", "--warmup": "-1", "--warmup-factor": "2",
                     "--steps": "-5", "--gamma": "2", "--momentum": "1.5", "--weight-decay": "-1",
                     "--clip-grad-norm": "-1", "--trainable-layers": "6", "--head-init-std": "-1",
                     "--checkpoint-every": "-1", "--eval-every": "-1", "--log-every": "-1",
                     "--eval-score-thr": "1.5", "--draw-score-thr": "-0.5", "--seed": "-1",
                     "--workers": "257"},
    "detkit-detect": {"--fpn-channels": "-1", "--min-size": "31", "--max-size": "8193",
                      "--bn-eps": "-0.1", "--score-thr": "1.5", "--draw-thr": "2", "--draw": "-1",
                      "--batch": "0", "--bench-count": "0", "--price": "-1", "--shard": "3/2"},
}
# Options holding whole numbers: 2.5 is refused too.
WHOLE = {"--threads", "--negatives", "--max-per-class", "--seed", "--worst", "--report-max-dets",
         "--top", "--limit", "--jobs", "--retries", "--images", "--size", "--classes", "--id-base",
         "--fpn-channels", "--min-size", "--max-size", "--batch", "--iters", "--base-batch",
         "--warmup", "--trainable-layers", "--checkpoint-every", "--eval-every", "--log-every",
         "--workers", "--draw"}


def run(cmd, *args):
    return subprocess.run(cmd + list(args), capture_output=True, text=True)


for program, options in TABLES.items():
    exe, *sub = program.split()
    path = os.path.join(bin_dir, exe)
    if not os.path.exists(path):
        skipped.append(exe)
        continue
    cmd = [path, *sub]
    help_text = run(cmd, "--help").stdout
    for option, outside in options.items():
        checked += 1
        if option not in help_text:
            failures.append(f"{program} --help does not list {option}")
        bad = ["abc"] + ([outside] if outside else []) + (["2.5"] if option in WHOLE else [])
        for value in bad:
            p = run(cmd, option, value)
            want = f"{program}: {option}: expected "
            if p.returncode != 2 or not p.stderr.startswith(want) or f"got '{value}'" not in p.stderr \
                    or p.stdout:
                failures.append(f"{program} {option} {value}: exit {p.returncode}, stderr {p.stderr!r}"
                                f" (want exit 2 and '{want}... got '{value}'')")
    # Unknown options and missing values are usage errors too.
    p = run(cmd, "--no-such-option")
    if p.returncode != 2 or "unknown option '--no-such-option'" not in p.stderr:
        failures.append(f"{program} --no-such-option: exit {p.returncode}, {p.stderr!r}")

# The message of the issue, exactly.
diff = os.path.join(bin_dir, "detkit-eval")
if os.path.exists(diff):
    p = run([diff, "diff"], "--iou", "abc")
    want = "detkit-eval diff: --iou: expected a number in [0,1], got 'abc' (not a number: --iou abc)\n"
    if p.stderr != want:
        failures.append(f"detkit-eval diff --iou abc: {p.stderr!r}, want {want!r}")

if skipped:
    print(f"not built, skipped: {', '.join(skipped)}")
if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"{checked} numeric options of {len(TABLES) - len(skipped)} programs: bad values exit 2 "
      "with the program, the option and the value")

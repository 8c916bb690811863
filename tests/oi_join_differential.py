"""Differential test of the detkit Open Images join (bench_join, 1 and 2 threads) against an
independent reference written with Python's csv module, on a 300,000-row synthetic train file
made at test time by bench/tools/gen_oi_csv.py (realistic layout: 13 columns, ImageID-sorted,
%.6f coordinates, -1 flags, near-miss class names). Checksum: unique images / sum XMax / sum
ClassID (rank of the class name among the sorted amenity names), as in bench/run_join_bench.sh.

  python3 oi_join_differential.py BENCH_JOIN SOURCE_DIR WORK_DIR
"""
import csv
import os
import struct
import subprocess
import sys


def main():
    bench_join, src, work = sys.argv[1:4]
    data = os.path.join(work, "oi_join_differential")
    os.makedirs(data, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(src, "bench/tools/gen_oi_csv.py"), "--rows", "300000",
                    "--seed", "7", "--only", "bbox,classes,extras", "--out-dir", data],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Reference: csv module, exact field comparisons.
    with open(os.path.join(data, "class-descriptions-boxable.csv"), newline="", encoding="utf-8") as f:
        name_of = {r[0]: r[1] for r in csv.reader(f)}
    targets = sorted(l.strip() for l in open(os.path.join(data, "amenity-classes.txt"), encoding="utf-8")
                     if l.strip())
    rank = {n: i for i, n in enumerate(targets)}
    ids = {l.strip() for l in open(os.path.join(data, "amenity-image-ids.txt")) if l.strip()}
    images, sum_xmax, sum_class, rows = set(), 0.0, 0, 0
    with open(os.path.join(data, "train-annotations-bbox.csv"), newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        col = {c: i for i, c in enumerate(header)}
        for row in r:
            name = name_of[row[col["LabelName"]]]
            if name in rank and row[col["ImageID"]] in ids:
                images.add(row[col["ImageID"]])
                # detkit stores float32 coordinates; sum them the same way
                sum_xmax += struct.unpack("f", struct.pack("f", float(row[col["XMax"]])))[0]
                sum_class += rank[name]
                rows += 1
    want = "%d/%.4f/%d" % (len(images), sum_xmax, sum_class)
    print("reference: rows %d checksum %s" % (rows, want))
    if rows == 0:
        print("the generated file has no amenity rows: the test would prove nothing")
        return 1
    failed = 0
    for threads in ("1", "2"):
        out = subprocess.run([bench_join, data, "--threads", threads], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        print(out.strip())
        got = out.split("checksum=")[1].split()[0]
        got_rows = int(out.split("rows_out=")[1].split()[0])
        if got != want or got_rows != rows:
            print("MISMATCH with %s threads: %s rows %d, want %s rows %d" % (threads, got, got_rows, want, rows))
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())

"""DuckDB peer of bench_join: the amenity join as one SQL query over read_csv with an explicit
schema (no sniffing), the class filter as a join DuckDB pushes into the scan, results
materialised to numpy. Threads: DUCKDB_THREADS (default: all cores).
Same three steps as detkit: parse + keep the 30 amenity classes (with their names) + keep the
listed images.

  python3 duckdb_join.py DATA_DIR

Prints: tool, seconds (work only, after `import duckdb`), rows out, checksum
unique images/sum XMax/sum ClassID (ClassID = rank of the name among the 30 sorted names).
"""
import os
import sys
import time


def main():
    d = sys.argv[1].rstrip("/")
    import duckdb
    import numpy as np
    t0 = time.perf_counter()
    con = duckdb.connect()
    threads = int(os.environ.get("DUCKDB_THREADS", os.cpu_count() or 1))
    con.execute("SET threads = %d" % threads)
    targets = sorted(l.strip() for l in open(d + "/amenity-classes.txt", encoding="utf-8") if l.strip())
    con.execute("CREATE TEMP TABLE ranks (ClassName VARCHAR, ClassID INTEGER)")
    con.executemany("INSERT INTO ranks VALUES (?, ?)", [(n, i) for i, n in enumerate(targets)])
    q = """
    WITH classes AS (
      SELECT c.LabelName, c.ClassName, r.ClassID
      FROM read_csv(?, header = false, columns = {'LabelName': 'VARCHAR', 'ClassName': 'VARCHAR'}) c
      JOIN ranks r USING (ClassName)),
    ids AS (SELECT * FROM read_csv(?, header = false, columns = {'ImageID': 'VARCHAR'}))
    SELECT b.ImageID, c.ClassName, c.ClassID, b.XMin, b.XMax, b.YMin, b.YMax,
           b.IsOccluded, b.IsTruncated, b.IsGroupOf, b.IsDepiction, b.IsInside
    FROM read_csv(?, header = true, columns = {
        'ImageID': 'VARCHAR', 'Source': 'VARCHAR', 'LabelName': 'VARCHAR', 'Confidence': 'TINYINT',
        'XMin': 'FLOAT', 'XMax': 'FLOAT', 'YMin': 'FLOAT', 'YMax': 'FLOAT',
        'IsOccluded': 'TINYINT', 'IsTruncated': 'TINYINT', 'IsGroupOf': 'TINYINT',
        'IsDepiction': 'TINYINT', 'IsInside': 'TINYINT'}) b
    JOIN classes c USING (LabelName)
    SEMI JOIN ids USING (ImageID)
    """
    res = con.execute(q, [d + "/class-descriptions-boxable.csv", d + "/amenity-image-ids.txt",
                          d + "/train-annotations-bbox.csv"]).fetchnumpy()
    t = time.perf_counter() - t0
    image_ids = np.asarray(res["ImageID"])
    chk = "%d/%.4f/%d" % (len(set(image_ids.tolist())), float(np.asarray(res["XMax"], dtype=np.float64).sum()),
                          int(np.asarray(res["ClassID"], dtype=np.int64).sum()))
    print("tool=duckdb threads=%d seconds=%.3f rows_out=%d checksum=%s version=%s"
          % (threads, t, len(image_ids), chk, duckdb.__version__))


if __name__ == "__main__":
    main()

"""polars peer of bench_join: the amenity join done polars' fastest idiomatic way (lazy scan_csv
with an explicit schema, predicate pushdown, multi-threaded; POLARS_MAX_THREADS sets threads).
Same three steps as detkit: parse + keep the 30 amenity classes (with their names) + keep the
listed images.

  python3 polars_join.py DATA_DIR

Prints: tool, seconds (work only, after `import polars`), rows out, checksum
unique images/sum XMax/sum ClassID (ClassID = rank of the name among the 30 sorted names).
"""
import sys
import time


def main():
    d = sys.argv[1].rstrip("/")
    import polars as pl
    t0 = time.perf_counter()
    targets = sorted(l.strip() for l in open(d + "/amenity-classes.txt", encoding="utf-8") if l.strip())
    classes = pl.read_csv(d + "/class-descriptions-boxable.csv", has_header=False,
                          new_columns=["LabelName", "ClassName"])
    ranks = pl.DataFrame({"ClassName": targets, "ClassID": list(range(len(targets)))},
                         schema={"ClassName": pl.String, "ClassID": pl.Int32})
    cls = classes.join(ranks, on="ClassName", how="inner")
    ids = pl.read_csv(d + "/amenity-image-ids.txt", has_header=False, new_columns=["ImageID"],
                      schema_overrides={"ImageID": pl.String})
    f32, i8 = pl.Float32, pl.Int8
    schema = {"ImageID": pl.String, "Source": pl.String, "LabelName": pl.String,
              "Confidence": i8, "XMin": f32, "XMax": f32, "YMin": f32, "YMax": f32,
              "IsOccluded": i8, "IsTruncated": i8, "IsGroupOf": i8, "IsDepiction": i8,
              "IsInside": i8}
    out = (pl.scan_csv(d + "/train-annotations-bbox.csv", schema=schema)
           .select(["ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax", "IsOccluded",
                    "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside"])
           .filter(pl.col("LabelName").is_in(cls["LabelName"].to_list()))
           .join(cls.lazy(), on="LabelName", how="inner")
           .join(ids.lazy(), on="ImageID", how="semi")
           .collect())
    t = time.perf_counter() - t0
    chk = "%d/%.4f/%d" % (out["ImageID"].n_unique(), float(out["XMax"].cast(pl.Float64).sum()),
                          int(out["ClassID"].cast(pl.Int64).sum()))
    print("tool=polars threads=%d seconds=%.3f rows_out=%d checksum=%s version=%s"
          % (pl.thread_pool_size(), t, out.height, chk, pl.__version__))


if __name__ == "__main__":
    main()

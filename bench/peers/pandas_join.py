"""pandas peer of bench_join: the amenity join done pandas' fastest idiomatic way (C engine,
usecols, dtype hints: pyarrow is not installed here). Same three steps as detkit:
parse + keep the 30 amenity classes (with their names) + keep the listed images.

  python3 pandas_join.py DATA_DIR

Prints: tool, seconds (work only, after `import pandas`), rows out, checksum
unique images/sum XMax/sum ClassID (ClassID = rank of the name among the 30 sorted names).
Mirrors ../shared/tools/pandas_baseline.py mode `merge`/`article` semantics.
"""
import sys
import time


def main():
    d = sys.argv[1].rstrip("/")
    import pandas as pd
    t0 = time.perf_counter()
    targets = sorted(l.strip() for l in open(d + "/amenity-classes.txt", encoding="utf-8") if l.strip())
    classes = pd.read_csv(d + "/class-descriptions-boxable.csv", names=["LabelName", "ClassName"])
    classes = classes[classes["ClassName"].isin(targets)].copy()
    classes["ClassID"] = classes["ClassName"].map({n: i for i, n in enumerate(targets)}).astype("int32")
    ids = pd.read_csv(d + "/amenity-image-ids.txt", names=["ImageID"], dtype={"ImageID": "str"})
    cols = ["ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax",
            "IsOccluded", "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside"]
    dtypes = {"ImageID": "str", "LabelName": "category"}
    dtypes.update({c: "float32" for c in ["XMin", "XMax", "YMin", "YMax"]})
    dtypes.update({c: "int8" for c in cols[6:]})
    df = pd.read_csv(d + "/train-annotations-bbox.csv", usecols=cols, dtype=dtypes)
    df = df[df["LabelName"].isin(classes["LabelName"])]
    df = df.merge(classes, on="LabelName", how="inner")
    df = df[df["ImageID"].isin(ids["ImageID"])]
    t = time.perf_counter() - t0
    chk = "%d/%.4f/%d" % (df["ImageID"].nunique(), float(df["XMax"].astype("float64").sum()),
                          int(df["ClassID"].astype("int64").sum()))
    print("tool=pandas threads=1 seconds=%.3f rows_out=%d checksum=%s version=%s"
          % (t, len(df), chk, pd.__version__))


if __name__ == "__main__":
    main()

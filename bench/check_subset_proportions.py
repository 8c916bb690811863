#!/usr/bin/env python3
"""Independent check of a detkit-subset stratified fraction (issue 8): DuckDB reads the bbox CSV
itself, keeps the 30 amenity MIDs, counts images per class in the full split and in the subset
(the ImageIDs the manifest lists), and reports each class's share of the images in both and the
kept fraction. Exit 1 when a share differs by more than the tolerance.

  python3 bench/check_subset_proportions.py BBOX_CSV MANIFEST TOLERANCE"""
import sys

import duckdb

AMENITY_MIDS = ["/m/03dnzn", "/m/03ssj5", "/m/04p0qw", "/m/03ldnb", "/m/07xyvk", "/m/02crq1",
                "/m/0b3fp9", "/m/0ky7b", "/m/03tw93", "/m/0220r2", "/m/02wv84t", "/m/065h6l",
                "/m/0h8n5zk", "/m/0fx9l", "/m/054_l", "/m/029bxz", "/m/034c16", "/m/04m6gz",
                "/m/040b_t", "/m/02f9f_", "/m/0130jx", "/m/03m3pdh", "/m/01lynh", "/m/0b_rs",
                "/m/07c52", "/m/09g1w", "/m/0162_1", "/m/02wg_p", "/m/0174k2", "/m/0271qf7"]


def main(csv, manifest, tol):
    ids = [l.split("\t")[1].strip() for l in open(manifest) if l.startswith("image\t")]
    con = duckdb.connect()
    con.execute("CREATE TABLE sub(ImageID VARCHAR)")
    con.executemany("INSERT INTO sub VALUES (?)", [(i,) for i in ids])
    con.execute(f"""CREATE TABLE boxes AS SELECT DISTINCT lower(ImageID) AS ImageID, LabelName
                    FROM read_csv_auto('{csv}', header=true, all_varchar=true)
                    WHERE LabelName IN ({",".join("'" + m + "'" for m in AMENITY_MIDS)})""")
    n_full = con.execute("SELECT count(DISTINCT ImageID) FROM boxes").fetchone()[0]
    n_sub = con.execute("SELECT count(DISTINCT b.ImageID) FROM boxes b JOIN sub USING (ImageID)").fetchone()[0]
    assert n_sub == len(ids), (n_sub, len(ids))  # every listed image has amenity boxes
    full = dict(con.execute("SELECT LabelName, count(*) FROM boxes GROUP BY 1").fetchall())
    sub = dict(con.execute("SELECT LabelName, count(*) FROM boxes JOIN sub USING (ImageID) GROUP BY 1").fetchall())
    worst = 0.0
    worst_rel = 0.0
    kept = []
    print(f"{'MID':<11} {'full':>7} {'subset':>7} {'share_full':>10} {'share_sub':>10} {'kept':>7}")
    for m in AMENITY_MIDS:
        f, s = full.get(m, 0), sub.get(m, 0)
        sf, ss = f / n_full, s / n_sub
        worst = max(worst, abs(ss - sf))
        worst_rel = max(worst_rel, abs(ss - sf) / sf if sf else 0.0)
        if f:
            kept.append(s / f)
        print(f"{m:<11} {f:>7} {s:>7} {sf:>10.5f} {ss:>10.5f} {s / f if f else 0:>7.4f}")
    print(f"images: full {n_full}, subset {n_sub} ({n_sub / n_full:.4f}); "
          f"max |share_sub - share_full| = {worst:.5f} (tolerance {tol}); "
          f"max relative share difference = {worst_rel:.4f}; "
          f"per-class kept fraction {min(kept):.4f}..{max(kept):.4f}")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))

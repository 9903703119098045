#!/usr/bin/env python3
"""Where in a series the false alarms fall, and what they cost: the early life of short series.

For a NAB-layout corpus and a detector's results, at the corpus' best standard-profile threshold:
  - false alarms (scores at or above it outside every window, after the probation) per 10,000 scored rows, by the
    row's position in its file (0-based: the number of points the detector had seen);
  - two bounds, not detectors: the NAB score when every out-of-window alarm before row --cut is removed (what a perfect
    early-life fix could gain), and when every score before --cut is removed (what silencing early life would cost,
    because early windows are detected too).
With --null, RESULTS is a folder of scored series without anomalies (bench/null_series.py): the share of rows scoring
at or above --threshold by position, to tell young calibrators (a higher early rate on normal data) from series that
change early.

usage: nab_early.py --nab NAB_ROOT --results DIR [--detector aiops] [--cut 1024] [--scorer ../shared/tools/nab_score.py]
       nab_early.py --null RESULTS [--threshold 0.5]
"""
import argparse
import csv
import glob
import importlib.util
import json
import os

EDGES = [0, 256, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192]


def bucket(i):
    b = 0
    while b + 1 < len(EDGES) and EDGES[b + 1] <= i:
        b += 1
    return b


def show(title, hits, rows):
    cells = [f"{EDGES[b]}+: {1e4 * hits[b] / rows[b]:.1f}" for b in range(len(EDGES)) if rows[b]]
    print(title)
    print("   " + "  ".join(cells))


def null_mode(results, thr):
    hits, rows = [0] * len(EDGES), [0] * len(EDGES)
    for path in sorted(glob.glob(os.path.join(results, "**", "*.csv"), recursive=True)):
        with open(path) as fh:
            r = csv.reader(fh)
            head = next(r)
            col = head.index("anomaly_score")
            for i, row in enumerate(r):
                b = bucket(i)
                rows[b] += 1
                hits[b] += float(row[col]) >= thr
    show(f"rows scoring >= {thr} per 10,000 rows, by position", hits, rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab")
    ap.add_argument("--results")
    ap.add_argument("--null")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--detector", default="aiops")
    ap.add_argument("--cut", type=int, default=1024)
    ap.add_argument("--scorer", default=os.path.join(here, "..", "..", "shared", "tools", "nab_score.py"))
    a = ap.parse_args()
    if a.null:
        null_mode(a.null, a.threshold)
        return
    if not (a.nab and a.results):
        ap.error("--nab and --results (or --null)")
    spec = importlib.util.spec_from_file_location("nab_score", a.scorer)
    ns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ns)
    files = ns.load_corpus(a.nab, os.path.join(a.nab, "labels", "combined_windows.json"), a.results, a.detector, set())
    with open(os.path.join(a.nab, "config", "profiles.json")) as fh:
        cost = json.load(fh)["standard"]["CostMatrix"]

    def score(scored):
        points, null = [], 0.0
        for rel, f in scored.items():
            pts = ns.weighted_points(rel, f["scores"], f["geom"], cost)
            points.extend(pts)
            null += ns.sweep_thresholds(pts, cost["fnWeight"])[0][1]
        perfect = cost["tpWeight"] * sum(f["n_windows"] for f in scored.values())
        thr, raw = ns.best_row(ns.sweep_thresholds(points, cost["fnWeight"]))[:2]
        return ns.normalise(raw, null, perfect), thr

    base, thr = score(files)
    hits, rows = [0] * len(EDGES), [0] * len(EDGES)
    for f in files.values():
        for i, (s, (_, wid, inside)) in enumerate(zip(f["scores"], f["geom"])):
            if wid == "P":
                continue  # probation: not scored by NAB
            b = bucket(i)
            rows[b] += 1
            hits[b] += s >= thr and not inside
    print(f"NAB standard {base:.2f} at threshold {thr:.4f}")
    show("false alarms per 10,000 scored rows, by position in the file", hits, rows)

    def without(keep):
        return {rel: dict(f, scores=[s if keep(i, g) else 0.0 for i, (s, g) in enumerate(zip(f["scores"], f["geom"]))])
                for rel, f in files.items()}
    fp_free, _ = score(without(lambda i, g: i >= a.cut or g[2]))
    silent, _ = score(without(lambda i, g: i >= a.cut))
    print(f"bound: out-of-window alarms before row {a.cut} removed: {fp_free:.2f} ({fp_free - base:+.2f})")
    print(f"bound: every score before row {a.cut} removed: {silent:.2f} ({silent - base:+.2f})")


if __name__ == "__main__":
    main()

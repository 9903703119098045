#!/usr/bin/env python3
"""Threshold-band NAB score: the standard-profile score averaged over the thresholds 0.30, 0.32, ..., 0.70.

NAB scores a detector at the one threshold that is best for the corpus. Near a detector's alarm level that optimum
jumps between neighbouring thresholds, so a small change to the detector can move the NAB score by several points
in either direction without changing what it detects. The band mean averages the score over the detector's working
range (its logistic maps surprise 4.1-4.9 onto 0.30-0.70) and moves less; it is used to compare two detectors on
the same corpus, next to the NAB score and the leave-one-category-out mean (bench/loco.py), never instead of them.

usage: nab_band.py --nab NAB_ROOT --results DIR [--detector aiops] [--profile standard] [--scorer ../shared/tools/nab_score.py]
"""
import argparse
import importlib.util
import json
import os


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--detector", default="aiops")
    ap.add_argument("--profile", default="standard")
    ap.add_argument("--scorer", default=os.path.join(here, "..", "..", "shared", "tools", "nab_score.py"))
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("nab_score", a.scorer)
    ns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ns)

    files = ns.load_corpus(a.nab, os.path.join(a.nab, "labels", "combined_windows.json"), a.results, a.detector, set())
    with open(os.path.join(a.nab, "config", "profiles.json")) as fh:
        cost = json.load(fh)[a.profile]["CostMatrix"]
    fn_w = cost["fnWeight"]
    points, null = [], 0.0
    for rel, f in files.items():
        pts = ns.weighted_points(rel, f["scores"], f["geom"], cost)
        points.extend(pts)
        null += ns.sweep_thresholds(pts, fn_w)[0][1]   # first row: nothing detected
    perfect = cost["tpWeight"] * sum(f["n_windows"] for f in files.values())
    rows = ns.sweep_thresholds(points, fn_w)
    band = [0.30 + 0.02 * i for i in range(21)]
    scores = [ns.normalise(ns.pick_row(rows, t)[1], null, perfect) for t in band]
    best = ns.best_row(rows)
    print(f"band mean {sum(scores) / len(scores):.2f} (thresholds 0.30-0.70); NAB {ns.normalise(best[1], null, perfect):.2f} at {best[0]:.4f}")


if __name__ == "__main__":
    main()

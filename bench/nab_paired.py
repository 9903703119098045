#!/usr/bin/env python3
"""Paired bootstrap over files: is detector B's NAB score different from detector A's beyond the luck of the files?

NAB scores a corpus at its own best threshold, and a small change to a detector moves that score by a few points in
either direction (bench/nab_band.py). This resamples the corpus' files with replacement, scores both detectors on
each resample exactly as NAB does (each picks its own best threshold on the resample, scores are normalised with the
resample's null and perfect scores), and reports the difference B - A: its value on the corpus, the mean over the
resamples, a 90 % interval, and the share of resamples on which B is better. An interval that contains 0 means the
corpus cannot tell the two apart.

usage: nab_paired.py --nab NAB_ROOT --a DIR_A --b DIR_B [--detector aiops] [--profile standard] [--resamples 300] [--seed 1]
"""
import argparse
import importlib.util
import json
import os
import random


def load(ns, nab, results, detector, cost):
    files = ns.load_corpus(nab, os.path.join(nab, "labels", "combined_windows.json"), results, detector, set())
    out = {}
    for rel, f in files.items():
        pts = ns.weighted_points(rel, f["scores"], f["geom"], cost)
        null = ns.sweep_thresholds(pts, cost["fnWeight"])[0][1]
        out[rel] = (pts, null, f["n_windows"])
    return out


def score(ns, per_file, picks, cost):
    points, null, windows = [], 0.0, 0
    for copy, rel in enumerate(picks):
        pts, n, w = per_file[rel]
        # a file drawn twice is two files: its windows get their own keys
        points.extend((s, v, None if key is None else (copy, key)) for s, v, key in pts)
        null += n
        windows += w
    best = ns.best_row(ns.sweep_thresholds(points, cost["fnWeight"]))
    return ns.normalise(best[1], null, cost["tpWeight"] * windows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab", required=True)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--detector", default="aiops")
    ap.add_argument("--profile", default="standard")
    ap.add_argument("--resamples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scorer", default=os.path.join(here, "..", "..", "shared", "tools", "nab_score.py"))
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("nab_score", a.scorer)
    ns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ns)
    with open(os.path.join(a.nab, "config", "profiles.json")) as fh:
        cost = json.load(fh)[a.profile]["CostMatrix"]
    fa = load(ns, a.nab, a.a, a.detector, cost)
    fb = load(ns, a.nab, a.b, a.detector, cost)
    rels = sorted(fa)
    if sorted(fb) != rels:
        raise SystemExit("the two result folders do not hold the same files")
    rng = random.Random(a.seed)
    whole = score(ns, fb, rels, cost) - score(ns, fa, rels, cost)
    diffs = []
    for _ in range(a.resamples):
        picks = [rng.choice(rels) for _ in rels]
        if sum(fa[r][2] for r in picks) == 0:
            continue
        diffs.append(score(ns, fb, picks, cost) - score(ns, fa, picks, cost))
    diffs.sort()
    lo, hi = diffs[int(0.05 * len(diffs))], diffs[int(0.95 * len(diffs)) - 1]
    better = sum(d > 0 for d in diffs) / len(diffs)
    print(f"B - A on the corpus {whole:+.2f}; over {len(diffs)} resamples of the files: mean {sum(diffs) / len(diffs):+.2f}, "
          f"90 % interval [{lo:+.2f}, {hi:+.2f}], B better on {100 * better:.0f} %")


if __name__ == "__main__":
    main()

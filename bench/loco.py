#!/usr/bin/env python3
"""Leave-one-category-out (LOCO) NAB scoring, standard library only.

NAB's own score optimises the detection threshold on the very corpus it then scores, so it measures fit.
Here every choice is made on three categories and the fourth is scored with it:

  for each held-out category H:
      for each profile: pick (variant, threshold) maximising the NAB raw score on the other categories
      score H with that variant and threshold (NAB normalisation of H alone)

A "variant" is one detector output folder (--detector may list several, comma-separated): any setting
chosen among variants is chosen on the training categories only, like the threshold.

A category without anomaly windows (artificialNoAnomaly) has no normalised score (perfect == null); its raw
score (the false-positive cost, 0 at best) is printed and it is left out of the mean of normalised scores.
"pooled" = sum of the held-out raw scores of all four folds, normalised with the whole corpus' null and
perfect scores (one number that includes the false-positive cost on artificialNoAnomaly).

usage: loco.py --nab NAB_ROOT --results DIR --detector NAME[,NAME...] [--scorer ../shared/tools/nab_score.py] [--json]
"""
import argparse
import importlib.util
import json
import math
import os
import sys


def load_scorer(path):
    spec = importlib.util.spec_from_file_location("nab_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--detector", required=True, help="one name, or several variants comma-separated")
    ap.add_argument("--scorer", default=os.path.join(here, "..", "..", "shared", "tools", "nab_score.py"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    ns = load_scorer(a.scorer)

    with open(os.path.join(a.nab, "config", "profiles.json")) as fh:
        profiles = json.load(fh)
    windows_path = os.path.join(a.nab, "labels", "combined_windows.json")
    variants = [v for v in a.detector.split(",") if v]
    corpora = {}
    for v in variants:
        rd = a.results
        if os.path.isdir(os.path.join(rd, v)):
            rd = os.path.join(rd, v)
        corpora[v] = ns.load_corpus(a.nab, windows_path, rd, v, set())
    first = corpora[variants[0]]
    cats = sorted(set(f["category"] for f in first.values()))

    out = {"variants": variants, "profiles": {}}
    for p in ns.PROFILE_ORDER:
        if p not in profiles:
            continue
        cost = profiles[p]["CostMatrix"]
        fn_w, tp_w = cost["fnWeight"], cost["tpWeight"]
        # per variant, per file: weighted points and the file's threshold-sweep rows
        pts = {v: {rel: ns.weighted_points(rel, f["scores"], f["geom"], cost) for rel, f in c.items()}
               for v, c in corpora.items()}
        rows = {v: {rel: ns.sweep_thresholds(pp, fn_w) for rel, pp in pts[v].items()} for v in variants}
        folds = {}
        pooled_raw = 0.0
        for held in cats:
            train = [r for r, f in first.items() if f["category"] != held]
            test = [r for r, f in first.items() if f["category"] == held]
            best = None
            for v in variants:
                allpts = [x for r in train for x in pts[v][r]]
                row = ns.best_row(ns.sweep_thresholds(allpts, fn_w))
                if best is None or row[1] > best[2]:
                    best = (v, row[0], row[1])
            v, thr, train_raw = best
            raw = sum(ns.pick_row(rows[v][r], thr)[1] for r in test)
            null = sum(rows[v][r][0][1] for r in test)
            perfect = tp_w * sum(first[r]["n_windows"] for r in test)
            train_null = sum(rows[v][r][0][1] for r in train)
            train_perfect = tp_w * sum(first[r]["n_windows"] for r in train)
            folds[held] = {"variant": v, "threshold": thr, "raw": raw,
                           "score": ns.normalise(raw, null, perfect),
                           "train_score": ns.normalise(train_raw, train_null, train_perfect)}
            pooled_raw += raw
        all_rels = list(first)
        null_all = sum(rows[variants[0]][r][0][1] for r in all_rels)
        perfect_all = tp_w * sum(first[r]["n_windows"] for r in all_rels)
        scored = [f["score"] for f in folds.values() if not math.isnan(f["score"])]
        out["profiles"][p] = {"folds": folds, "mean": sum(scored) / len(scored),
                              "pooled": ns.normalise(pooled_raw, null_all, perfect_all)}

    if a.json:
        print(json.dumps(ns._no_nan(out), indent=1))
        return
    for p, r in out["profiles"].items():
        print("%s LOCO mean %.2f pooled %.2f" % (p, r["mean"], r["pooled"]))
        for c, f in r["folds"].items():
            sc = "n/a" if math.isnan(f["score"]) else "%.2f" % f["score"]
            print("  held-out %-22s %6s (raw %.3f) thr=%.4f train=%.2f%s"
                  % (c, sc, f["raw"], f["threshold"], f["train_score"],
                     "" if len(variants) == 1 else " variant=" + f["variant"]))


if __name__ == "__main__":
    main()

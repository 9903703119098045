#!/usr/bin/env python3
"""A NAB-layout corpus of real hourly series the detector was never tuned on: M4 hourly with injected anomalies.

nab-dev is the only labelled data here, and every derived corpus (bench/nab_variants.py) reuses its series and its
anomalies. This one does not: the 207 hourly series of ../shared/data/m4-hourly-dev (train and test joined, 748 or
1,008 points each) are split by a seeded shuffle into six categories of
about 34 series. Five get one anomaly of their category's kind, the sixth none (false alarms only):

  m4Spike   one reading moved by 6-10 noise units, either sign
  m4Shift   a level shift of 4-8 noise units, either sign, to the end of the series
  m4Dip     3-12 hours at the series' minimum (a collector reporting its floor, a stalled job)
  m4Flat    one day at that day's mean (the daily profile lost)
  m4Noise   one day with added noise of 3 noise units (sd)
  m4None    no anomaly

The noise unit is 1.4826 x the median absolute seasonal difference (x[t] - x[t-24]) of the points before the anomaly:
the spread a seasonal-naive forecast leaves on that series. The anomaly starts at a uniform 45-85 % of the series (past
NAB's 15 % probation and the detector's first training). Its window follows NAB's rule: 10 % of the file's rows, centred
on the anomaly's first point. The magnitudes were set once, before any detector was scored on the corpus, as moderate
anomalies a reader would want reported; they are not tuned, and a change to them makes a new corpus.

Timestamps are hourly from 2016-01-04 00:00 (M4 gives none). Categories are anomaly kinds, so bench/loco.py on this
corpus chooses the threshold on four kinds and scores the fifth.

usage: m4_inject.py --m4 ../shared/data/m4-hourly-dev --out DIR [--seed N]
then:  aiops detect --input DIR/data --output OUT --name aiops
       python3 ../shared/tools/nab_score.py --nab DIR --results OUT --detector aiops
       python3 bench/loco.py --nab DIR --results OUT --detector aiops
"""
import argparse
import csv
import datetime
import json
import os
import random
import shutil

KINDS = ["m4Spike", "m4Shift", "m4Dip", "m4Flat", "m4Noise", "m4None"]
START = datetime.datetime(2016, 1, 4)
FMT = "%Y-%m-%d %H:%M:%S"


def load(m4):
    """Series name -> values, train and test joined."""
    series = {}
    for name in ("Hourly-train.csv", "Hourly-test.csv"):
        with open(os.path.join(m4, name)) as fh:
            rows = csv.reader(fh)
            next(rows)
            for row in rows:
                values = [float(x) for x in row[1:] if x.strip() != ""]
                series.setdefault(row[0], []).extend(values)
    return series


def noise_unit(x, upto):
    d = sorted(abs(x[t] - x[t - 24]) for t in range(24, upto))
    mad = d[len(d) // 2] if d else 0.0
    unit = 1.4826 * mad
    if unit <= 0:
        spread = max(x[:upto]) - min(x[:upto])
        unit = spread / 100 if spread > 0 else 1.0
    return unit


def inject(kind, x, rng):
    """Returns the anomaly's first index, or None for m4None; changes x in place."""
    n = len(x)
    if kind == "m4None":
        return None
    a = int(n * rng.uniform(0.45, 0.85))
    u = noise_unit(x, a)
    lo = min(x)
    sign = rng.choice((-1, 1))
    if kind == "m4Spike":
        x[a] = max(x[a] + sign * rng.uniform(6, 10) * u, lo - u)
    elif kind == "m4Shift":
        k = rng.uniform(4, 8) * u
        for t in range(a, n):
            x[t] = x[t] + sign * k
    elif kind == "m4Dip":
        for t in range(a, min(n, a + rng.randint(3, 12))):
            x[t] = lo
    elif kind == "m4Flat":
        day = x[a:a + 24]
        mean = sum(day) / len(day)
        for t in range(a, min(n, a + 24)):
            x[t] = mean
    elif kind == "m4Noise":
        for t in range(a, min(n, a + 24)):
            x[t] = x[t] + rng.gauss(0, 3 * u)
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--m4", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    series = load(args.m4)
    names = sorted(series, key=lambda s: int(s[1:]))
    rng.shuffle(names)
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(os.path.join(args.out, "labels"))
    os.makedirs(os.path.join(args.out, "config"))
    labels = {}
    counts = {k: 0 for k in KINDS}
    for i, name in enumerate(names):
        kind = KINDS[i % len(KINDS)]
        x = list(series[name])
        a = inject(kind, x, rng)
        n = len(x)
        ts = [(START + datetime.timedelta(hours=t)).strftime(FMT) for t in range(n)]
        rel = f"{kind}/{name}.csv"
        os.makedirs(os.path.join(args.out, "data", kind), exist_ok=True)
        with open(os.path.join(args.out, "data", rel), "w") as fh:
            fh.write("timestamp,value\n")
            for t in range(n):
                fh.write(f"{ts[t]},{x[t]:.6g}\n")
        windows = []
        if a is not None:
            half = max(1, n // 10) // 2
            windows.append([ts[max(0, a - half)] + ".000000", ts[min(n - 1, a + half)] + ".000000"])
        labels[rel] = windows
        counts[kind] += 1
    with open(os.path.join(args.out, "labels", "combined_windows.json"), "w") as fh:
        json.dump(labels, fh, indent=1)
    with open(os.path.join(args.out, "config", "profiles.json"), "w") as fh:
        json.dump({
            "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}},
            "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0}},
            "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0}},
        }, fh, indent=1)
    print("m4 inject: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {args.out}")


if __name__ == "__main__":
    main()

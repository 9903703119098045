#!/usr/bin/env python3
"""Sparse and deterministic normal series (standard library only): where does the detector alarm on them?

  sparse_series.py generate DIR [--seeds 5] [--points 6000]
      writes DIR/s/<family>_<seed>.csv (timestamp,value), 5-minute points, no anomalies:
        periodic30  0 except 20 at every 30th point (a job every 2.5 hours; no noise, the seed changes nothing)
        pois005     Poisson counts, rate 0.05 per point (rare errors)
        pois03      Poisson counts, rate 0.3 per point
        rand20      20 with probability 0.02, else 0 (random bursts)
  sparse_series.py summary RESULTS_DIR [--alarm 0.8] [--skip 300]
      reads the detector outputs and prints, per file, the points at or above --alarm after the first --skip.

  e.g.  python3 bench/sparse_series.py generate /tmp/sparse
        dotnet run -c Release --project src/AiOps.Cli -- detect --input /tmp/sparse --output /tmp/sparse-out --name aiops --alarm-score 0.8
        python3 bench/sparse_series.py summary /tmp/sparse-out
"""
import argparse
import csv
import datetime
import glob
import math
import os
import random


def poisson(rate, rng):
    # Knuth's method: fine for the small rates used here
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


FAMILIES = {
    "pois005": lambda rng, i: poisson(0.05, rng),
    "pois03": lambda rng, i: poisson(0.3, rng),
    "periodic30": lambda rng, i: 20.0 if i % 30 == 0 else 0.0,
    "rand20": lambda rng, i: 20.0 if rng.random() < 0.02 else 0.0,
}


def generate(out, seeds, n):
    os.makedirs(os.path.join(out, "s"), exist_ok=True)
    t0 = datetime.datetime(2024, 1, 1)
    for fam, gen in FAMILIES.items():
        for seed in range(seeds):
            rng = random.Random(seed * 7 + 1)
            with open(os.path.join(out, "s", f"{fam}_{seed}.csv"), "w") as f:
                f.write("timestamp,value\n")
                for i in range(n):
                    ts = (t0 + datetime.timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
                    f.write(f"{ts},{gen(rng, i)}\n")


def summary(results, alarm, skip):
    for path in sorted(glob.glob(os.path.join(results, "**", "*.csv"), recursive=True)):
        with open(path) as f:
            rows = list(csv.DictReader(f))
        points = [i for i, r in enumerate(rows) if i >= skip and float(r["anomaly_score"]) >= alarm]
        print(f"{os.path.basename(path):40s} alarm points {len(points):2d} {points[:8]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--seeds", type=int, default=5)
    g.add_argument("--points", type=int, default=6000)
    s = sub.add_parser("summary")
    s.add_argument("results")
    s.add_argument("--alarm", type=float, default=0.8)
    s.add_argument("--skip", type=int, default=300)
    a = ap.parse_args()
    if a.cmd == "generate":
        generate(a.dir, a.seeds, a.points)
    else:
        summary(a.results, a.alarm, a.skip)


if __name__ == "__main__":
    main()

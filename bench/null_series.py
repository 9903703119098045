#!/usr/bin/env python3
"""Synthetic series WITHOUT anomalies (standard library only): how often does the detector alarm on normal data?

  null_series.py generate DIR [--seeds 8] [--points 10000]
      writes DIR/<family>_<seed>.csv (timestamp,value) for four families of normal behaviour:
        stat    hourly, daily sine (amplitude 20) + Gaussian noise (sd 2)
        drift   hourly, daily sine + Gaussian noise whose sd grows linearly from 1 to 4
        spend   hourly spend: 0 with probability 0.25, else the daily level 40 +- 20 times a lognormal factor (sd 0.2)
        walk5m  5-minute, random-walk level (step sd 0.2) + daily sine (amplitude 10) + noise (sd 1)
  null_series.py summary RESULTS_DIR [--alarm 0.8] [--skip 1500]
      reads the detector outputs (any *.csv with an anomaly_score column), prints per family the maximum score
      after the first --skip points and how many series reach the alarm score.
  null_series.py generate-sparse DIR [--seeds 5] [--points 6000]
      writes DIR/s/<family>_<seed>.csv, 5-minute points, sparse and deterministic normal series:
        periodic30  0 except 20 at every 30th point (a job every 2.5 hours; no noise, the seed changes nothing)
        pois005     Poisson counts, rate 0.05 per point (rare errors)
        pois03      Poisson counts, rate 0.3 per point
        rand20      20 with probability 0.02, else 0 (random bursts)
  null_series.py alarms RESULTS_DIR [--alarm 0.8] [--skip 300]
      prints, per file, the points at or above --alarm after the first --skip (where the detector alarms).

  e.g.  python3 bench/null_series.py generate /tmp/null
        dotnet run -c Release --project src/AiOps.Cli -- detect --input /tmp/null --output /tmp/null-out --name aiops
        python3 bench/null_series.py summary /tmp/null-out
        python3 bench/null_series.py generate-sparse /tmp/sparse
        dotnet run -c Release --project src/AiOps.Cli -- detect --input /tmp/sparse --output /tmp/sparse-out --name aiops --alarm-score 0.8
        python3 bench/null_series.py alarms /tmp/sparse-out
"""
import argparse
import csv
import datetime
import glob
import math
import os
import random


def generate(out, seeds, n):
    os.makedirs(out, exist_ok=True)
    t0 = datetime.datetime(2026, 1, 1)

    def write(name, vals, step_min):
        with open(os.path.join(out, name), "w") as f:
            f.write("timestamp,value\n")
            for t, v in enumerate(vals):
                ts = t0 + datetime.timedelta(minutes=step_min * t)
                f.write("%s,%.6f\n" % (ts.strftime("%Y-%m-%d %H:%M:%S"), v))

    for seed in range(1, seeds + 1):
        r = random.Random(1000 + seed)
        write("stat_%d.csv" % seed, [100 + 20 * math.sin(2 * math.pi * t / 24) + 2 * r.gauss(0, 1) for t in range(n)], 60)
        write("drift_%d.csv" % seed, [100 + 20 * math.sin(2 * math.pi * t / 24) + (1 + 3 * t / (n - 1)) * r.gauss(0, 1)
                                       for t in range(n)], 60)
        write("spend_%d.csv" % seed, [0 if r.random() < 0.25 else
                                       (40 + 20 * math.sin(2 * math.pi * t / 24)) * math.exp(0.2 * r.gauss(0, 1))
                                       for t in range(n)], 60)
        level, vals = 50.0, []
        for t in range(n):
            level += 0.2 * r.gauss(0, 1)
            vals.append(level + 10 * math.sin(2 * math.pi * t / 288) + r.gauss(0, 1))
        write("walk5m_%d.csv" % seed, vals, 5)


def poisson(rate, rng):
    # Knuth's method: fine for the small rates used here
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


SPARSE = {
    "pois005": lambda rng, i: poisson(0.05, rng),
    "pois03": lambda rng, i: poisson(0.3, rng),
    "periodic30": lambda rng, i: 20.0 if i % 30 == 0 else 0.0,
    "rand20": lambda rng, i: 20.0 if rng.random() < 0.02 else 0.0,
}


def generate_sparse(out, seeds, n):
    os.makedirs(os.path.join(out, "s"), exist_ok=True)
    t0 = datetime.datetime(2024, 1, 1)
    for fam, gen in SPARSE.items():
        for seed in range(seeds):
            rng = random.Random(seed * 7 + 1)
            with open(os.path.join(out, "s", "%s_%d.csv" % (fam, seed)), "w") as f:
                f.write("timestamp,value\n")
                for i in range(n):
                    ts = (t0 + datetime.timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
                    f.write("%s,%s\n" % (ts, gen(rng, i)))


def alarms(results, alarm, skip):
    for path in sorted(glob.glob(os.path.join(results, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or "anomaly_score" not in rows[0]:
            continue
        points = [i for i, r in enumerate(rows) if i >= skip and float(r["anomaly_score"]) >= alarm]
        print("%-40s alarm points %2d %s" % (os.path.basename(path), len(points), points[:8]))


def summary(results, alarm, skip):
    fam = {}
    for path in sorted(glob.glob(os.path.join(results, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or "anomaly_score" not in rows[0]:
            continue
        scores = [float(r["anomaly_score"]) for r in rows[skip:]]
        family = os.path.basename(path).rsplit("_", 2)[-2]
        fam.setdefault(family, []).append(max(scores))
    total = hit = 0
    for family, maxima in sorted(fam.items()):
        n_hit = sum(1 for m in maxima if m >= alarm)
        total += len(maxima)
        hit += n_hit
        print("%-7s series %2d, reaching %.2f: %2d; maxima %s" % (family, len(maxima), alarm, n_hit,
                                                                 " ".join("%.3f" % m for m in maxima)))
    print("all     series %2d, reaching %.2f: %2d" % (total, alarm, hit))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--seeds", type=int, default=8)
    g.add_argument("--points", type=int, default=10000)
    s = sub.add_parser("summary")
    s.add_argument("results")
    s.add_argument("--alarm", type=float, default=0.8)
    s.add_argument("--skip", type=int, default=1500)
    gs = sub.add_parser("generate-sparse")
    gs.add_argument("dir")
    gs.add_argument("--seeds", type=int, default=5)
    gs.add_argument("--points", type=int, default=6000)
    al = sub.add_parser("alarms")
    al.add_argument("results")
    al.add_argument("--alarm", type=float, default=0.8)
    al.add_argument("--skip", type=int, default=300)
    a = ap.parse_args()
    if a.cmd == "generate":
        generate(a.dir, a.seeds, a.points)
    elif a.cmd == "generate-sparse":
        generate_sparse(a.dir, a.seeds, a.points)
    elif a.cmd == "alarms":
        alarms(a.results, a.alarm, a.skip)
    else:
        summary(a.results, a.alarm, a.skip)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Derived copies of nab-dev that stress what the unseen NAB categories have and nab-dev lacks.

  pieces     long files cut into ~4,032-row pieces (--length) (most NAB files are 1,600-4,032 rows; 17 of nab-dev's 28 are
             longer). Each piece is scored as a new series with its own 15% probation, so the detector's early
             life (few points of history, young calibration) is scored about four times as often. A cut never
             splits a window; a window that would fall in a piece's probation is dropped from the labels (its
             anomaly stays in the data, as unlabelled history).
  irregular  irregular sampling: outside the anomaly windows each row is dropped with probability P (default
             0.3), plus bursts of 2-30 dropped rows (probability 0.002 per row); rows inside windows are kept so
             that the labelled anomalies are intact and only the sampling differs.
  gaps       long outages: three spans of 1-4 days per file (outside the anomaly windows) with no readings at all,
             as when a collector is down over a weekend; the rest of the file is untouched.
  glitch     one bad reading per file: the value at row 100 (inside NAB's probation) set to the file's maximum plus
             1,000 times its range, as a counter reset or a unit slip would write it.
  jitter     every timestamp moved by a random share of the file's median interval (uniform in +/- J, default
             0.4, below half a step so that the order is kept), independently per row: readings taken on a
             schedule but stamped when they arrive. The values and the window edges (moved with their rows) stay.
  coarser    the same series sampled K times more coarsely (--every K, default 4): each run of K rows becomes one
             row, the mean of their values at the first row's time (5-minute data becomes 20-minute data). The
             detector counts in points (history, trainings, refractory period), so this checks whether those
             counts still fit when a day is 72 points instead of 288. A window keeps its span in time: its edges move
             to the rows that hold them.

usage: nab_variants.py pieces|irregular|gaps|glitch|jitter|coarser --nab ../shared/data/nab-dev --out DIR [--length ROWS] [--drop P] [--jitter J] [--every K] [--seed N]
Then score as usual (the folder has data/, labels/ and config/ like NAB):
  aiops detect DIR/data OUT --name aiops; python3 ../shared/tools/nab_score.py --nab DIR --results OUT --detector aiops
  python3 bench/loco.py --nab DIR --results OUT --detector aiops
"""
import argparse
import datetime
import json
import os
import random
import shutil



def read(path):
    lines = open(path).read().splitlines()
    return lines[0], lines[1:]


def key(t):
    return t.split(".")[0]


def prepare(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "labels"))
    os.makedirs(os.path.join(dst, "config"))
    shutil.copy(os.path.join(src, "config", "profiles.json"), os.path.join(dst, "config"))
    with open(os.path.join(src, "labels", "combined_windows.json")) as fh:
        return json.load(fh)


def save_labels(dst, labels):
    with open(os.path.join(dst, "labels", "combined_windows.json"), "w") as fh:
        json.dump(labels, fh, indent=1)
    return labels


FMT = "%Y-%m-%d %H:%M:%S"


def when(t):
    return datetime.datetime.strptime(key(t), FMT)


def write(dst, rel, head, rows):
    os.makedirs(os.path.dirname(os.path.join(dst, "data", rel)), exist_ok=True)
    with open(os.path.join(dst, "data", rel), "w") as fh:
        fh.write(head + "\n" + "\n".join(rows) + "\n")


def pieces(src, dst, PIECE):
    windows = prepare(src, dst)
    labels = {}
    for rel, wins in sorted(windows.items()):
        head, rows = read(os.path.join(src, "data", rel))
        index = {key(r.split(",")[0]): i for i, r in enumerate(rows)}
        spans = [(index[key(a)], index[key(b)], a, b) for a, b in wins]
        n = len(rows)
        if n <= PIECE * 5 // 4:
            write(dst, rel, head, rows)
            labels[rel] = wins
            continue
        start, k = 0, 0
        while start < n:
            end = min(n, start + PIECE)
            if n - end < PIECE // 2:
                end = n
            for a, b, _, _ in spans:
                if a < end <= b:
                    end = min(n, b + 1)
            piece_rel = "%s_p%d.csv" % (rel[:-4], k)
            write(dst, piece_rel, head, rows[start:end])
            probation = min(int(0.15 * (end - start)), 750)
            labels[piece_rel] = [[A, B] for a, b, A, B in spans if a >= start + probation and b < end]
            start, k = end, k + 1
    return save_labels(dst, labels)


def irregular(src, dst, drop, seed):
    windows = prepare(src, dst)
    rng = random.Random(seed)
    for rel, wins in sorted(windows.items()):
        head, rows = read(os.path.join(src, "data", rel))
        spans = [(key(a), key(b)) for a, b in wins]
        kept, burst = [], 0
        for r in rows:
            t = key(r.split(",")[0])
            inside = any(a <= t <= b for a, b in spans)
            if burst > 0 and not inside:
                burst -= 1
                continue
            if inside or rng.random() >= drop:
                kept.append(r)
            if rng.random() < 0.002:
                burst = rng.randint(2, 30)
        write(dst, rel, head, kept)
    return save_labels(dst, windows)


def gaps(src, dst, seed):
    windows = prepare(src, dst)
    rng = random.Random(seed)
    for rel, wins in sorted(windows.items()):
        head, rows = read(os.path.join(src, "data", rel))
        times = [when(r.split(",")[0]) for r in rows]
        spans = [(when(a), when(b)) for a, b in wins]
        cut = set()
        for _ in range(3):
            for _try in range(50):
                start = rng.randrange(len(rows) // 5, len(rows))
                end_time = times[start] + datetime.timedelta(days=rng.uniform(1, 4))
                span = [i for i in range(start, len(rows)) if times[i] < end_time]
                if span and not any(a <= times[i] <= b for i in span for a, b in spans) and not cut & set(span):
                    cut.update(span)
                    break
        write(dst, rel, head, [r for i, r in enumerate(rows) if i not in cut])
    return save_labels(dst, windows)


def glitch(src, dst, row=100, times=1000.0):
    windows = prepare(src, dst)
    for rel in sorted(windows):
        head, rows = read(os.path.join(src, "data", rel))
        values = [float(r.split(",")[1]) for r in rows]
        spread = (max(values) - min(values)) or 1.0
        rows[row] = rows[row].split(",")[0] + "," + repr(max(values) + times * spread)
        write(dst, rel, head, rows)
    return save_labels(dst, windows)


def jitter(src, dst, share, seed):
    windows = prepare(src, dst)
    rng = random.Random(seed)
    labels = {}
    for rel, wins in sorted(windows.items()):
        head, rows = read(os.path.join(src, "data", rel))
        times = [when(r.split(",")[0]) for r in rows]
        steps = sorted((b - a).total_seconds() for a, b in zip(times, times[1:]))
        step = steps[len(steps) // 2]
        moved = {}
        out = []
        for t, r in zip(times, rows):
            u = t + datetime.timedelta(seconds=round(rng.uniform(-share, share) * step))
            moved[t.strftime(FMT)] = u.strftime(FMT)
            out.append(u.strftime(FMT) + "," + r.split(",", 1)[1])
        write(dst, rel, head, out)
        labels[rel] = [[moved[key(a)] + ".000000", moved[key(b)] + ".000000"] for a, b in wins]
    return save_labels(dst, labels)


def coarser(src, dst, every):
    windows = prepare(src, dst)
    labels = {}
    for rel, wins in sorted(windows.items()):
        head, rows = read(os.path.join(src, "data", rel))
        out, group_of = [], {}
        for g in range(0, len(rows), every):
            group = rows[g:g + every]
            values = [float(r.split(",")[1]) for r in group]
            stamp = group[0].split(",")[0]
            for r in group:
                group_of[key(r.split(",")[0])] = stamp
            out.append(stamp + "," + repr(sum(values) / len(values)))
        write(dst, rel, head, out)
        labels[rel] = [[group_of[key(a)], group_of[key(b)]] for a, b in wins]
    return save_labels(dst, labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variant", choices=["pieces", "irregular", "gaps", "glitch", "jitter", "coarser"])
    ap.add_argument("--nab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--drop", type=float, default=0.3)
    ap.add_argument("--length", type=int, default=4032, help="rows per piece (pieces)")
    ap.add_argument("--jitter", type=float, default=0.4, help="largest move as a share of the median interval (jitter)")
    ap.add_argument("--every", type=int, default=4, help="rows averaged into one (coarser)")
    ap.add_argument("--seed", type=int, default=20261130)
    a = ap.parse_args()
    if a.variant == "pieces":
        labels = pieces(a.nab, a.out, a.length)
    elif a.variant == "irregular":
        labels = irregular(a.nab, a.out, a.drop, a.seed)
    elif a.variant == "gaps":
        labels = gaps(a.nab, a.out, a.seed)
    elif a.variant == "glitch":
        labels = glitch(a.nab, a.out)
    elif a.variant == "coarser":
        labels = coarser(a.nab, a.out, a.every)
    else:
        labels = jitter(a.nab, a.out, a.jitter, a.seed)
    print("%s: %d files, %d windows -> %s" % (a.variant, len(labels), sum(len(v) for v in labels.values()), a.out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Which detector view finds NAB's windows, and which raises the false alarms.

Reads a NAB-layout results folder written by `aiops detect --explain` (columns timestamp, value, anomaly_score, reason)
and the corpus' labels/combined_windows.json. A window is found at the first point inside it at or above --threshold;
its reason is that point's. Points at or above the threshold outside every window (after the probationary period, as
NAB counts them: the first min(15 %, 750) rows) are counted as false alarm points by reason. Standard library only.

    python3 bench/nab_reasons.py --nab ../shared/data/nab-dev --results DIR [--detector aiops] [--threshold 0.8]
"""
import argparse, csv, json, os
from collections import Counter
from datetime import datetime


def ts(s):
    return datetime.fromisoformat(s.strip().replace(' ', 'T').split('.')[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nab', required=True)
    ap.add_argument('--results', required=True)
    ap.add_argument('--detector', default='aiops')
    ap.add_argument('--threshold', type=float, default=0.8)
    a = ap.parse_args()
    windows = json.load(open(os.path.join(a.nab, 'labels', 'combined_windows.json')))
    found, missed, false_alarms = Counter(), 0, Counter()
    for rel, wins in sorted(windows.items()):
        cat, name = os.path.split(rel)
        path = os.path.join(a.results, cat, f'{a.detector}_{name}')
        rows = list(csv.DictReader(open(path)))
        if 'reason' not in rows[0]:
            raise SystemExit(f'{path}: no reason column (run aiops detect with --explain)')
        spans = [(ts(w[0]), ts(w[1])) for w in wins]
        probation = min(len(rows) * 15 // 100, 750)
        first = [None] * len(spans)
        for i, r in enumerate(rows):
            t, s = ts(r['timestamp']), float(r['anomaly_score'])
            k = next((j for j, (lo, hi) in enumerate(spans) if lo <= t <= hi), None)
            if s < a.threshold:
                continue
            if k is None:
                if i >= probation:
                    false_alarms[r['reason'] or 'none'] += 1
            elif first[k] is None:
                first[k] = r['reason'] or 'none'
        for f in first:
            if f is None:
                missed += 1
            else:
                found[f] += 1
    total = sum(found.values()) + missed
    print(f'threshold {a.threshold}: {sum(found.values())} of {total} windows found; by the reason of their first alarm point: '
          + ', '.join(f'{k} {v}' for k, v in found.most_common()))
    print(f'false alarm points (outside windows, after probation): {sum(false_alarms.values())}; by reason: '
          + ', '.join(f'{k} {v}' for k, v in false_alarms.most_common()))


if __name__ == '__main__':
    main()

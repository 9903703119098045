#!/usr/bin/env python3
"""One NAB-layout corpus made of several: a check of whether one threshold fits series of different sampling and length.

NAB scores a corpus at the single threshold that is best for all of its files. The unseen NAB categories mix hourly
series of ~1,600 rows with 5-minute series of 2,500-4,032 rows, so a detector whose scores mean something different on
short or coarsely sampled series (a young calibration cannot yet reach a high surprise) loses there even when it does
well on each kind alone. Each corpus given with --part NAME=DIR keeps its files; its categories get NAME as a suffix
(realTweets from a part named H becomes realTweetsH), so bench/loco.py leaves out one category of one part at a time.
--only restricts a part to categories that start with a prefix (NAME=DIR:realKnownCause).

usage: nab_mix.py --out DIR --part =../nab-pieces --part H=../nab-c12 --part Q=../nab-p2500:realKnownCause
"""
import argparse
import json
import os
import shutil


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--part", action="append", required=True, help="SUFFIX=NAB_DIR[:CATEGORY_PREFIX]")
    a = ap.parse_args()
    if os.path.exists(a.out):
        raise SystemExit(f"{a.out} exists")
    labels, profiles = {}, None
    for spec in a.part:
        suffix, _, rest = spec.partition("=")
        root, _, prefix = rest.partition(":")
        windows = json.load(open(os.path.join(root, "labels", "combined_windows.json")))
        profiles = profiles or os.path.join(root, "config", "profiles.json")
        for key, spans in sorted(windows.items()):
            category, name = key.split("/")
            if prefix and not category.startswith(prefix):
                continue
            target = f"{category}{suffix}/{name}"
            if target in labels:
                raise SystemExit(f"{target} twice: give the parts different suffixes")
            os.makedirs(os.path.join(a.out, "data", category + suffix), exist_ok=True)
            shutil.copy(os.path.join(root, "data", category, name), os.path.join(a.out, "data", target))
            labels[target] = spans
    os.makedirs(os.path.join(a.out, "labels"))
    os.makedirs(os.path.join(a.out, "config"))
    shutil.copy(profiles, os.path.join(a.out, "config"))
    with open(os.path.join(a.out, "labels", "combined_windows.json"), "w") as fh:
        json.dump(labels, fh, indent=1, sort_keys=True)
    print(f"mix: {len(labels)} files, {sum(len(s) for s in labels.values())} windows -> {a.out}")


if __name__ == "__main__":
    main()

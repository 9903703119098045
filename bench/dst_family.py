#!/usr/bin/env python3
"""Daytime activity on a local clock, stamped in UTC, across the 2026 daylight-saving changes of Europe/Berlin.

    dst_family.py generate OUT [--seeds 40]      writes OUT/spring_S.csv, OUT/fall_S.csv (Berlin's clock) and
                                                 OUT/utc_S.csv (the same profile on a fixed UTC+1 clock)
    aiops detect --input OUT --output RES --name aiops --alarm-score 0.8 [--time-zone Europe/Berlin]
    dst_family.py summary RES [--seeds 40]       alarm points (score >= 0.8) in the two days after the change and on
                                                 the other days from day 7, per series-day

Each series: 5-minute readings from 21 days before the change to 9 days after it; level 10 at night, a ramp to 50
from 07:00 to 09:00 local time, 50 until 18:00, down to 10 by 20:00, Gaussian noise sd 1 (as
tests/AiOps.UnitTests/Synthetic.cs LocalDaytime, with Python's random numbers).
"""
import argparse, csv, datetime as dt, os, random, zoneinfo

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
CHANGES = {"spring": dt.datetime(2026, 3, 29, 1), "fall": dt.datetime(2026, 10, 25, 1), "utc": dt.datetime(2026, 3, 29, 1)}
STEP = dt.timedelta(minutes=5)
DAYS_BEFORE, DAYS_AFTER = 21, 9


def level(hour):
    if hour < 7 or hour >= 20:
        return 10.0
    if hour < 9:
        return 10 + 20 * (hour - 7)
    if hour < 18:
        return 50.0
    return 50 - 20 * (hour - 18)


def generate(out, seeds):
    os.makedirs(out, exist_ok=True)
    for kind, change in CHANGES.items():
        start = change - dt.timedelta(days=DAYS_BEFORE, hours=1)
        n = (DAYS_BEFORE + DAYS_AFTER) * 288
        for seed in range(1, seeds + 1):
            rng = random.Random(f"{kind}-{seed}")
            with open(os.path.join(out, f"{kind}_{seed}.csv"), "w") as f:
                f.write("timestamp,value\n")
                for i in range(n):
                    t = start + STEP * i
                    aware = t.replace(tzinfo=dt.timezone.utc)
                    local = aware.astimezone(BERLIN) if kind != "utc" else aware + dt.timedelta(hours=1)
                    f.write(f"{t:%Y-%m-%d %H:%M:%S},{level(local.hour + local.minute / 60) + rng.gauss(0, 1):.3f}\n")


def summary(results, seeds):
    for kind, change in CHANGES.items():
        start = change - dt.timedelta(days=DAYS_BEFORE, hours=1)
        near = other = series_near = 0
        for seed in range(1, seeds + 1):
            path = next(os.path.join(results, f) for f in os.listdir(results) if f.endswith(f"_{kind}_{seed}.csv"))
            hit = False
            for row in csv.DictReader(open(path)):
                t = dt.datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S")
                if float(row["anomaly_score"]) < 0.8 or t < start + dt.timedelta(days=7):
                    continue
                if change <= t < change + dt.timedelta(days=2):
                    near += 1
                    hit = True
                else:
                    other += 1
            series_near += hit
        other_days = seeds * (DAYS_BEFORE - 7 + DAYS_AFTER - 2)
        print(f"{kind:7} two days after the change: {near} alarm points ({near / (2 * seeds):.3f} per series-day), "
              f"{series_near} of {seeds} series; other days from day 7: {other} ({other / other_days:.3f} per series-day)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["generate", "summary"])
    ap.add_argument("path")
    ap.add_argument("--seeds", type=int, default=40)
    a = ap.parse_args()
    (generate if a.command == "generate" else summary)(a.path, a.seeds)

#!/usr/bin/env bash
# Leave-one-category-out with the detector's settings chosen inside the folds: scores a NAB-layout corpus with the
# default settings and each one-at-a-time change of the sensitivity table (docs/intelligence.md), one results folder
# per setting, then lets bench/loco.py choose the setting and the threshold on three categories and score the fourth.
#
# usage: bench/loco_settings.sh NAB_ROOT OUT_DIR        (from the repository root)
set -euo pipefail
nab=$1; out=$2
settings=("" CalibrationHalfLife=1500 CalibrationHalfLife=6000 SecondComponentWeight=0.25 SecondComponentWeight=1
  PersistenceWeight=0.15 PersistenceWeight=0.6 RefractoryPoints=75 RefractoryPoints=300 RefractoryMargin=0.75
  RefractoryMargin=3 RecordLevelBoost=1 RecordLevelBoost=4 ResidualScaleAlpha=0.005 ResidualScaleAlpha=0.02)
dotnet build -c Release src/AiOps.Cli -v q -nologo >/dev/null
cli=src/AiOps.Cli/bin/Release/net10.0/aiops.dll
rm -rf "$out"; mkdir -p "$out"
names=()
for i in "${!settings[@]}"; do
  s=${settings[$i]}; n=s$i; names+=("$n")
  echo "$n ${s:-default}" | tee -a "$out/settings.txt"
  dotnet "$cli" detect --input "$nab/data" --output "$out/$n" --name "$n" ${s:+--set "$s"} >/dev/null 2>&1
done
python3 bench/loco.py --nab "$nab" --results "$out" --detector "$(IFS=,; echo "${names[*]}")"

#!/usr/bin/env bash
# Builds today's server with the anomaly detector as issue 13 found it (commit b496827, before any detector change of
# that issue), for `AiOps.Bench detector-ab --baseline DIR`: the same ingestion, grains and storage, only the detector
# (src/AiOps.Intelligence's anomaly files) older. The background trainer is the same file in both.
#   bench/old_detector_server.sh [OUT_DIR]   (default /tmp/aiops-old-detector; the worktree goes to OUT_DIR.src)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/aiops-old-detector}
src="$out.src"
old=b496827
git -C "$repo" worktree remove --force "$src" 2>/dev/null || rm -rf "$src"
git -C "$repo" worktree add --detach -q "$src" HEAD
# Today's working tree of the bench's own sources is not needed: only src/ is built.
cd "$src/src/AiOps.Intelligence"
for f in AnomalyDetector.cs AnomalyDetectorOptions.cs Anomaly/PcaSubspace.cs Anomaly/ShapeModel.cs Anomaly/TailCalibrator.cs \
         Anomaly/WindowDataView.cs Internal/Robust.cs Internal/Seasonality.cs; do
  git -C "$repo" show "$old:src/AiOps.Intelligence/$f" > "$f"
done
rm -f Anomaly/ContextModel.cs   # a later member, off by default, absent then
sed -i 's/^public sealed class AnomalyDetector$/public sealed partial class AnomalyDetector/' AnomalyDetector.cs
cp "$repo/bench/old-detector/OldDetectorShim.cs" .
cd "$src"
dotnet build -c Release src/AiOps.Server -o "$out" -nologo -v q
echo "old-detector server: $out/AiOps.Server.dll (sources in $src; remove with: git worktree remove --force $src)"

#!/usr/bin/env bash
# AiOps build entry point.
#   ./build.sh test [dotnet test args...]  install missing system packages, then run the whole test suite (Release)
#   ./build.sh run  [server args...]       run the server in embedded mode (SQLite under ./data, http://localhost:5080)
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET SDK (see global.json) is not on PATH; install it from https://dot.net" >&2
  exit 1
fi

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  test)
    echo "build.sh: checking system packages for the tests"
    deploy/local/install-deps.sh test
    echo "build.sh: dotnet test AiOps.sln -c Release $*"
    exec dotnet test AiOps.sln -c Release "$@"
    ;;
  run)
    deploy/local/install-deps.sh runtime
    # Data under ./data of the checkout (dotnet run would otherwise resolve it in the project folder).
    exec dotnet run -c Release --project src/AiOps.Server -- --AiOps:DataDirectory="$PWD/data" "$@"
    ;;
  *)
    echo "usage: ./build.sh test [dotnet test args...] | ./build.sh run [server args...]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# A throwaway local cluster: a private PostgreSQL server under ./data/pg and N silo processes in cluster mode.
#
#   deploy/local/cluster.sh [start] [N] [F]  start PostgreSQL (if not running), migrate, start N silos (default 2)
#                                            and F API-only front ends (default 0; Orleans clients, AiOps:Role=FrontEnd)
#   deploy/local/cluster.sh stop          stop the silos (SIGTERM: they drain) and PostgreSQL
#   deploy/local/cluster.sh status        what is running
#   deploy/local/cluster.sh destroy       stop, then delete ./data/pg and ./data/cluster
#
# Ports: PostgreSQL on PG_PORT (default 55432, default max_connections 100: each silo holds at most 20, a front end 8);
# silo i (1..N) gets HTTP 5080+i, silo 11200+i, gateway 30100+i; front end j gets HTTP 5080+50+j
# (override the bases with HTTP_BASE, SILO_BASE, GATEWAY_BASE). Logs and pids are under ./data/cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

PG_PORT="${PG_PORT:-55432}"
HTTP_BASE="${HTTP_BASE:-5080}"
SILO_BASE="${SILO_BASE:-11200}"
GATEWAY_BASE="${GATEWAY_BASE:-30100}"
pg_dir="$root/data/pg"
run_dir="$root/data/cluster"
conn="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=aiops"

pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "cluster.sh: PostgreSQL server binaries (initdb, pg_ctl) not found; run deploy/local/install-deps.sh" >&2
    exit 1
  fi
  echo "$d"
}

# PostgreSQL refuses to run as root: as root, run its tools as the 'postgres' OS user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [ -f "$pg_dir/data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; }

start_pg() {
  local bin
  bin="$(pg_bin)"
  mkdir -p "$pg_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pg_dir"; fi
  if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
    echo "cluster.sh: initdb $pg_dir/data"
    as_pg "$bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$pg_dir/initdb.log"
  fi
  if pg_running; then
    echo "cluster.sh: PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    echo "cluster.sh: starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='aiops'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres aiops
  fi
}

stop_pg() {
  if pg_running; then
    echo "cluster.sh: stopping PostgreSQL"
    as_pg "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
  fi
}

silo_pids() { ls "$run_dir"/silo-*.pid "$run_dir"/frontend-*.pid 2>/dev/null || true; }

start() {
  local n="${1:-2}" f="${2:-0}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "cluster.sh: N must be a positive number, not '$n'" >&2; exit 2; }
  [[ "$f" =~ ^[0-9]+$ ]] || { echo "cluster.sh: F must be a number, not '$f'" >&2; exit 2; }
  if [ -n "$(silo_pids)" ]; then
    echo "cluster.sh: silos already running (see 'status'); run 'stop' first" >&2
    exit 1
  fi
  start_pg
  mkdir -p "$run_dir"

  echo "cluster.sh: building and migrating the schema (aiops db migrate)"
  dotnet build -c Release src/AiOps.Server -v quiet -nologo >/dev/null
  dotnet run -c Release --project src/AiOps.Cli -- db migrate --postgres "$conn"

  local server="$root/src/AiOps.Server/bin/Release/net10.0/AiOps.Server.dll"
  for i in $(seq 1 "$n"); do
    local http=$((HTTP_BASE + i)) silo=$((SILO_BASE + i)) gateway=$((GATEWAY_BASE + i))
    # All silos share one data folder here, so the bootstrap key lands in one place whichever silo writes it.
    (
      cd "$run_dir"
      AiOps__Mode=Cluster AiOps__PostgresConnectionString="$conn" AiOps__DataDirectory="$run_dir" \
      AiOps__SiloPort="$silo" AiOps__GatewayPort="$gateway" ASPNETCORE_ENVIRONMENT=Production \
        nohup dotnet "$server" --urls "http://127.0.0.1:$http" >"$run_dir/silo-$i.log" 2>&1 &
      echo $! >"$run_dir/silo-$i.pid"
    )
    echo "$http" >"$run_dir/silo-$i.port"
  done

  for j in $(seq 1 "$f"); do
    local http=$((HTTP_BASE + 50 + j))
    (
      cd "$run_dir"
      AiOps__Mode=Cluster AiOps__Role=FrontEnd AiOps__PostgresConnectionString="$conn" AiOps__DataDirectory="$run_dir" \
      AiOps__SiloPort=0 ASPNETCORE_ENVIRONMENT=Production \
        nohup dotnet "$server" --urls "http://127.0.0.1:$http" >"$run_dir/frontend-$j.log" 2>&1 &
      echo $! >"$run_dir/frontend-$j.pid"
    )
    echo "$http" >"$run_dir/frontend-$j.port"
  done

  echo "cluster.sh: waiting for /health/ready"
  local names=()
  for i in $(seq 1 "$n"); do names+=("silo-$i"); done
  for j in $(seq 1 "$f"); do names+=("frontend-$j"); done
  for name in "${names[@]}"; do
    local http
    http="$(cat "$run_dir/$name.port")"
    local ok=
    for _ in $(seq 1 120); do
      if curl -sf "http://127.0.0.1:$http/health/ready" >/dev/null 2>&1; then ok=1; break; fi
      kill -0 "$(cat "$run_dir/$name.pid")" 2>/dev/null || break
      sleep 1
    done
    if [ -z "$ok" ]; then
      echo "cluster.sh: $name did not become ready; last log lines:" >&2
      tail -20 "$run_dir/$name.log" >&2
      exit 1
    fi
    echo "  $name: http://127.0.0.1:$http  (log $run_dir/$name.log)"
  done
  echo "  PostgreSQL: $conn"
  echo "  bootstrap admin key (written on the first start of a new database): $run_dir/bootstrap-admin.key"
  echo "  stop with: deploy/local/cluster.sh stop"
}

stop() {
  local f pid
  for f in $(silo_pids); do
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      echo "cluster.sh: stopping silo pid $pid"
      kill -TERM "$pid"
    fi
  done
  for f in $(silo_pids); do
    pid="$(cat "$f")"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { echo "cluster.sh: silo pid $pid still running after 120 s; killing it"; kill -KILL "$pid"; }
    rm -f "$f" "${f%.pid}.port"
  done
  stop_pg
}

status() {
  local f pid
  for f in $(silo_pids); do
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then state=running; else state=exited; fi
    echo "$(basename "$f" .pid): pid $pid $state, http://127.0.0.1:$(cat "${f%.pid}.port")"
  done
  if pg_running; then echo "PostgreSQL: running, $conn"; else echo "PostgreSQL: not running"; fi
}

case "${1:-start}" in
  start) start "${2:-2}" "${3:-0}" ;;
  [0-9]*) start "$1" "${2:-0}" ;;
  stop) stop ;;
  status) status ;;
  destroy) stop; rm -rf "$pg_dir" "$run_dir"; echo "cluster.sh: removed $pg_dir and $run_dir" ;;
  *) echo "usage: $0 [start [N [F]] | N [F] | stop | status | destroy]" >&2; exit 2 ;;
esac

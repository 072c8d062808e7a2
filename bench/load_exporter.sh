#!/usr/bin/env bash
# One-task PI/s with and without the SQLite exporter: starts `tandem dev` in a
# fresh directory with exporters.sqlite.enabled false, then true (alternating,
# ROUNDS times, so machine noise hits both alike), runs bench/load against it
# and prints one line per run.
#   bench/load_exporter.sh [BUILD_DIR] [ROUNDS] [extra bench/load arguments]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rounds=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
for ((i = 0; i < rounds; i++)); do
  for enabled in false true; do
    dir=$(mktemp -d)
    (cd "$dir" && TANDEM_EXPORTERS_SQLITE_ENABLED=$enabled TANDEM_API_REST_PORT=28080 \
      TANDEM_MANAGEMENT_PORT=29600 TANDEM_API_GRPC_PORT=28500 TANDEM_NETWORK_INTERNALAPI_PORT=28502 \
      TANDEM_LOGGING_LEVEL=warn exec "$build/tandem" dev >log 2>&1) &
    pid=$!
    for _ in $(seq 50); do
      curl -sf http://127.0.0.1:29600/actuator/health/readiness >/dev/null && break
      sleep 0.1
    done
    result=$("$build/bench/load" --url http://127.0.0.1:28080 --seconds 15 --creators 16 \
      --workers 32 --jobs-per-poll 2 "$@" | grep "completed PI/s")
    lag=$(curl -s http://127.0.0.1:29600/actuator/exporters | grep -o "\"state\":\"[a-z]*\"\|\"lag\":[0-9]*" | head -2 | tr "\n" " ")
    echo "exporter=$enabled $result ($lag at the end)"
    kill "$pid" || { echo "broker exited early:"; cat "$dir/log"; }
    wait "$pid" || true
    rm -rf "$dir"
  done
done

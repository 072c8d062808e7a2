# Shared helpers of the process-level tests: ports of their own, a broker
# started and stopped by pid, and cleanup on exit. Source it; set BUILD first
# (default build/).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TANDEM=$BUILD/tandem
TANDEMCTL=$BUILD/tandemctl
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-ptest-XXXXXX")
BROKER_PID=""

cleanup() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -9 "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$WORK/broker.log" ]; then
    echo "--- broker log (tail)" >&2
    tail -30 "$WORK/broker.log" >&2
  fi
  exit 1
}

# A free TCP port on loopback, not one a test already took.
TAKEN_PORTS=""
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    case " $TAKEN_PORTS " in *" $p "*) continue ;; esac
    if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
      TAKEN_PORTS="$TAKEN_PORTS $p"
      echo "$p"
      return 0
    fi
  done
  fail "no free port found"
}

# Starts the broker with config $1 in the background, logging to $WORK/broker.log.
start_broker() {
  "$TANDEM" broker --config "$1" >>"$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
}

# Waits until GET $1 answers 200 (at most $2 seconds, default 30).
wait_http_ok() {
  local url=$1 limit=${2:-30} i
  for i in $(seq 1 $((limit * 10))); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      return 0
    fi
    if [ -n "$BROKER_PID" ] && ! kill -0 "$BROKER_PID" 2>/dev/null; then
      fail "broker exited while waiting for $url"
    fi
    sleep 0.1
  done
  fail "$url did not answer 200 within ${limit}s"
}

# Sends SIGTERM to the broker and expects a clean exit (status 0) within 30 s.
stop_broker() {
  kill -TERM "$BROKER_PID"
  local i
  for i in $(seq 1 300); do
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$BROKER_PID" 2>/dev/null && fail "broker did not stop within 30s of SIGTERM"
  local status=0
  wait "$BROKER_PID" || status=$?
  BROKER_PID=""
  [ "$status" -eq 0 ] || fail "broker exited with status $status after SIGTERM"
}

# Writes a single-broker configuration: $1 file, $2 cluster name, $3
# management port; further arguments are extra lines for the data: section.
write_config() {
  local file=$1 cluster=$2 mport=$3
  shift 3
  {
    printf 'cluster:\n  clusterName: %s\n' "$cluster"
    printf 'data:\n  directory: %s\n' "$WORK/data"
    local line
    for line in "$@"; do printf '  %s\n' "$line"; done
    printf 'network:\n  internalApi:\n    port: %s\n' "$(free_port)"
    printf 'api:\n  rest:\n    port: %s\n  grpc:\n    port: %s\n' "$(free_port)" "$(free_port)"
    printf 'management:\n  port: %s\n  journalProbe: true\n' "$mport"
  } >"$file"
}

# Runs a command to completion with output in $WORK/$1.log and sets STATUS to
# its exit status (the tests check failures on purpose).
run_status() {
  local name=$1
  shift
  STATUS=0
  "$@" >"$WORK/$name.log" 2>&1 || STATUS=$?
}

#!/usr/bin/env bash
# kill -9 of a broker appending in a loop; after a restart every append the
# broker acknowledged is present, at the index it was acknowledged with.
# (A kill cannot catch a missing fsync — the page cache survives it — the
# power-loss tests of test_journal_crash do; this one checks the whole write
# path of the real process: HTTP, queue, I/O thread, group commit, recovery.)
source "$(dirname "$0")/lib.sh"

ROUNDS=${KILL9_ROUNDS:-3}
WRITERS=4
MPORT=$(free_port)
write_config "$WORK/tandem.yaml" kill9test "$MPORT" "logSegmentSize: 256KiB" "entrySizeMax: 64KiB"
BASE=http://127.0.0.1:$MPORT

writer() { # $1 writer id, $2 round; appends until the broker dies
  local n=0 out
  while :; do
    n=$((n + 1))
    out=$(curl -sS --max-time 10 -X POST --data-binary "w$1-r$2-n$n" \
      "$BASE/actuator/journal/append?partition=1" 2>/dev/null) || return 0
    case "$out" in
      *'"index":'*) echo "$out w$1-r$2-n$n" >>"$WORK/acked" ;;
      *) return 0 ;;
    esac
  done
}

: >"$WORK/acked"
for round in $(seq 1 "$ROUNDS"); do
  start_broker "$WORK/tandem.yaml"
  wait_http_ok "$BASE/actuator/health/readiness"
  pids=""
  for w in $(seq 1 $WRITERS); do
    writer "$w" "$round" &
    pids="$pids $!"
  done
  sleep "0.$((3 + RANDOM % 7))"
  sleep $((RANDOM % 2))
  kill -9 "$BROKER_PID"
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
  for p in $pids; do wait "$p" || true; done
  echo "round $round: $(wc -l <"$WORK/acked") appends acknowledged so far"
done

# Restart once more: recovery must succeed, then a clean stop.
start_broker "$WORK/tandem.yaml"
wait_http_ok "$BASE/actuator/health/readiness"
curl -fsS "$BASE/actuator/partitions" >"$WORK/partitions.json"
stop_broker

acked=$(wc -l <"$WORK/acked")
[ "$acked" -gt 20 ] || fail "only $acked appends were acknowledged: the test did not exercise anything"

"$TANDEMCTL" journal inspect "$WORK/data/partition-1" >"$WORK/inspect.txt" ||
  fail "tandemctl journal inspect refused the journal"

# Every acknowledged payload is in the journal, in the entry with the acknowledged index.
missing=0
while read -r json payload; do
  index=$(echo "$json" | sed -n 's/.*"index":\([0-9]*\).*/\1/p')
  hex=$(printf '%s' "$payload" | od -An -tx1 | tr -d ' \n')
  if ! awk -v idx="$index" -v hex="$hex" '
        $1 == "entry" && $2 == idx { inentry = 1; next }
        $1 == "entry" { inentry = 0 }
        inentry && index($0, hex) { found = 1 }
        END { exit found ? 0 : 1 }' "$WORK/inspect.txt" &&
     ! grep -A3 "^  entry $index " "$WORK/inspect.txt" | grep -q -- "$payload"; then
    echo "missing: index $index payload $payload" >&2
    missing=$((missing + 1))
  fi
done <"$WORK/acked"
[ "$missing" -eq 0 ] || { grep -c "entry" "$WORK/inspect.txt" >&2; fail "$missing acknowledged appends are missing after kill -9"; }
echo "ok: $acked acknowledged appends all present after $ROUNDS kill -9 rounds"

#!/usr/bin/env bash
# The broker process end to end: start, health, metrics, a second broker on
# the same data directory refused, clean SIGTERM stop, restart into a new term
# with the same incarnation, configuration errors naming the key, another
# cluster's directory refused, and a corrupted journal refused with file and
# offset (by the broker and by tandemctl).
source "$(dirname "$0")/lib.sh"

MPORT=$(free_port)
write_config "$WORK/a.yaml" lifecycle "$MPORT"
BASE=http://127.0.0.1:$MPORT

start_broker "$WORK/a.yaml"
wait_http_ok "$BASE/actuator/health/readiness"
curl -fsS "$BASE/actuator/health" | grep -q '"status":"UP"' || fail "health is not UP"
curl -fsS "$BASE/actuator/health/liveness" | grep -q '"status":"UP"' || fail "liveness is not UP"
for i in 1 2 3; do
  curl -fsS -X POST --data "probe-$i" "$BASE/actuator/journal/append" >/dev/null || fail "append $i"
done
metrics=$(curl -fsS "$BASE/actuator/prometheus")
echo "$metrics" | grep -q '^tandem_journal_appends_total 3$' || fail "appends counter is not 3"
echo "$metrics" | grep -q '^tandem_partition_applied_index{partition="1"} ' || fail "no applied gauge"
parts=$(curl -fsS "$BASE/actuator/partitions")
term1=$(echo "$parts" | sed -n 's/.*"term":\([0-9]*\).*/\1/p')
inc1=$(echo "$parts" | sed -n 's/.*"incarnation":"\([0-9a-f]*\)".*/\1/p')
[ -n "$term1" ] && [ ${#inc1} -eq 32 ] || fail "partitions answer without term/incarnation: $parts"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "$BASE/actuator/journal/append?partition=7")
[ "$status" = 404 ] || fail "append to a partition this broker does not hold gave $status, not 404"

# A second broker on the same data directory is refused.
write_config "$WORK/b.yaml" lifecycle "$(free_port)"
run_status second "$TANDEM" broker --config "$WORK/b.yaml"
[ "$STATUS" -eq 1 ] || fail "second broker on the same directory exited $STATUS, not 1"
grep -q "is in use by another tandem broker (pid $BROKER_PID)" "$WORK/second.log" ||
  fail "second broker: unexpected message: $(cat "$WORK/second.log")"

stop_broker
grep -q 'msg="broker stopped"' "$WORK/broker.log" || fail "no clean stop logged"

# Restart: the same incarnation, a new term, the probes still there.
start_broker "$WORK/a.yaml"
wait_http_ok "$BASE/actuator/health/readiness"
parts=$(curl -fsS "$BASE/actuator/partitions")
term2=$(echo "$parts" | sed -n 's/.*"term":\([0-9]*\).*/\1/p')
inc2=$(echo "$parts" | sed -n 's/.*"incarnation":"\([0-9a-f]*\)".*/\1/p')
[ "$inc2" = "$inc1" ] || fail "incarnation changed across a restart: $inc1 -> $inc2"
[ "$term2" -gt "$term1" ] || fail "term did not advance across a restart: $term1 -> $term2"
stop_broker
"$TANDEMCTL" journal inspect "$WORK/data/partition-1" >"$WORK/inspect.txt" || fail "inspect refused a clean journal"
for i in 1 2 3; do
  grep -q "$(printf 'probe-%s' "$i" | od -An -tx1 | tr -d ' \n')" "$WORK/inspect.txt" ||
    fail "probe-$i not in the journal"
done

# Configuration errors name the key and the rule; exit status 2.
printf 'cluster:\n  clusterSize: 3\n  replicationFactor: 4\n' >"$WORK/bad.yaml"
run_status bad "$TANDEM" broker --config "$WORK/bad.yaml"
[ "$STATUS" -eq 2 ] || fail "invalid configuration exited $STATUS, not 2"
grep -q "cluster.replicationFactor" "$WORK/bad.log" || fail "message does not name the key: $(cat "$WORK/bad.log")"
printf 'cluster:\n  clustersize: 3\n' >"$WORK/unknown.yaml"
run_status unknown "$TANDEM" broker --config "$WORK/unknown.yaml"
[ "$STATUS" -eq 2 ] || fail "unknown key exited $STATUS, not 2"
grep -q 'unknown key "cluster.clustersize"' "$WORK/unknown.log" || fail "unknown key not reported: $(cat "$WORK/unknown.log")"

# Another cluster's data directory is refused.
write_config "$WORK/other.yaml" othercluster "$(free_port)"
run_status other "$TANDEM" broker --config "$WORK/other.yaml"
[ "$STATUS" -eq 1 ] || fail "another cluster's directory: exit $STATUS, not 1"
grep -q "othercluster" "$WORK/other.log" && grep -q "lifecycle" "$WORK/other.log" ||
  fail "message does not name both clusters: $(cat "$WORK/other.log")"

# A flipped byte inside an entry that later entries prove durable: refused, naming file and offset.
seg=$(ls "$WORK"/data/partition-1/journal/journal-*.seg | head -1)
offset=$(grep -m1 "kind data" "$WORK/inspect.txt" | sed -n 's/.* offset \([0-9]*\) .*/\1/p')
[ -n "$offset" ] || fail "no data entry offset in the inspect output"
pos=$((offset + 40))
byte=$(od -An -tu1 -j "$pos" -N1 "$seg" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte ^ 1) & 255)))" | dd of="$seg" bs=1 seek="$pos" conv=notrunc status=none
run_status corrupt "$TANDEM" broker --config "$WORK/a.yaml"
[ "$STATUS" -eq 1 ] || fail "broker started on a corrupted journal (exit $STATUS)"
grep -q "$(basename "$seg")" "$WORK/corrupt.log" && grep -q "offset" "$WORK/corrupt.log" ||
  fail "corruption message does not name file and offset: $(cat "$WORK/corrupt.log")"
run_status inspect2 "$TANDEMCTL" journal inspect "$WORK/data/partition-1"
[ "$STATUS" -eq 1 ] || fail "tandemctl journal inspect exited $STATUS on a corrupted journal"
echo "corruption refused: $(grep -m1 "tandem:" "$WORK/corrupt.log")"
echo "ok: broker life cycle"

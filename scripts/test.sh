#!/usr/bin/env bash
# Runs every test of tandem; called by `make test` after the builds.
#   1. unit tests under ASan+UBSan (each test its own process, with a timeout)
#   2. each libFuzzer target briefly over its seed corpus
#   3. process-level tests of test/process/ against the plain build
#   4. end-to-end tests of test/e2e/ (Node's test runner, the real Camunda clients)
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# A fixed seed makes the brief fuzz runs of `make test` the same on every
# run, so a red CI is reproducible; longer fuzzing with other seeds is done
# by hand (FUZZ_SEED=0 lets libFuzzer pick one).
FUZZ_SEED=${FUZZ_SEED:-1}

echo "== format check"
make -s format-check

echo "== unit tests (ASan+UBSan)"
ctest --test-dir build-asan --output-on-failure -j 2

echo "== fuzz targets (${FUZZ_SECONDS}s each)"
for f in build-fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=test/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "-- $name"
  "$f" -seed="$FUZZ_SEED" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "$work" 2>"$work.log" || { tail -50 "$work.log"; rm -rf "$work" "$work.log"; exit 1; }
  grep -E "^#[0-9]+.*DONE" "$work.log" || tail -2 "$work.log"
  rm -rf "$work" "$work.log"
done

echo "== FEEL differential test against feelin"; node test/e2e/feel/run.mjs build/tandemctl

echo "== process tests"
for t in test/process/*.sh; do
  [ "$(basename "$t")" = lib.sh ] && continue
  [ -f "$t" ] || continue
  echo "-- $t"
  timeout 600 bash "$t"
done
echo "== end-to-end tests with the Camunda clients (test/e2e)"
(cd test && node --test --test-concurrency=1 e2e/)

echo "== all tests passed"

#!/usr/bin/env bash
# Runs each test binary as its own process with a timeout and reports a
# summary. Exit status is non-zero if any binary failed or timed out.
# A failed binary's cmocka failure lines are printed again after the
# summary: CI often keeps only the end of the output.
set -u
timeout_s=${TEST_TIMEOUT_S:-300}
logs=${BUILD:-build}/test-logs
mkdir -p "$logs"
failed=()
for t in "$@"; do
    echo "=== $t"
    log="$logs/$(basename "$t").log"
    timeout --signal=KILL "$timeout_s" "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [ $rc -ne 0 ]; then
        echo "exit status $rc" >>"$log"
        failed+=("$t")
    fi
done
echo
for t in "${failed[@]}"; do
    log="$logs/$(basename "$t").log"
    echo "--- $t: what failed (whole output in $log)"
    grep -E '^\[ +(RUN|ERROR|LINE|FAILED) +\]|^exit status' "$log" |
        grep -B1 -v -E '^\[ +RUN +\]' | grep -v '^--$' | tail -40
done
echo "tests: $# binaries, ${#failed[@]} failed"
for t in "${failed[@]}"; do
    echo "FAILED: $t"
done
[ ${#failed[@]} -eq 0 ]

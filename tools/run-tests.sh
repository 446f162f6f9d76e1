#!/usr/bin/env bash
# Runs each test binary as its own process with a timeout and reports a
# summary. Exit status is non-zero if any binary failed or timed out.
set -u
timeout_s=${TEST_TIMEOUT_S:-300}
failed=()
for t in "$@"; do
    echo "=== $t"
    if ! timeout --signal=KILL "$timeout_s" "$t"; then
        failed+=("$t")
    fi
done
echo
echo "tests: $# binaries, ${#failed[@]} failed"
for t in "${failed[@]}"; do
    echo "FAILED: $t"
done
[ ${#failed[@]} -eq 0 ]

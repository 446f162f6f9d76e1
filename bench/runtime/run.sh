#!/usr/bin/env bash
# make bench-runtime: our echo function and the same echo on AWS's Node.js
# runtime interface client, one after the other against the same fake Runtime
# API, in one run. Last line: the headline figures.
set -euo pipefail
build=${1:-build}
invocations=${BENCH_INVOCATIONS:-5000}
cold_starts=${BENCH_COLD_STARTS:-21}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/runtime/bench_runtime"
echo_bin="$(cd "$build/bench/echo" && pwd)/bootstrap"

peer=$(bash "$here/../../tools/node-ric.sh" "$build/bench/node")

ours=$("$bench" c "$invocations" "$cold_starts" . -- "$echo_bin")
node=$("$bench" node "$invocations" "$cold_starts" "$peer" -- "$(command -v node)" \
    "$peer/node_modules/aws-lambda-ric/index.mjs" index.handler)
floor_plain=$("$bench" floor-plain 0 "$cold_starts" . -- "$build/bench/floor/plain")
floor_curl=$("$bench" floor-with-libcurl 0 "$cold_starts" . -- "$build/bench/floor/with-curl")
echo "$ours"
echo "$node"
echo "$floor_plain   (raw-socket /next, no libraries)"
echo "$floor_curl   (the same, linked with libcurl, libyajl, libuuid)"

field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
bootstrap_kb=$(( ($(stat -c %s "$echo_bin") + 1023) / 1024 ))
echo "node $(node --version), aws-lambda-ric $(node -p "require('$peer/node_modules/aws-lambda-ric/package.json').version")," \
     "$invocations invocations after 500 warm-up, cold start median of $cold_starts"
echo "runtime: first_next_ms=$(field "$ours" first_next_ms) overhead_p50_us=$(field "$ours" overhead_p50_us)" \
     "overhead_p99_us=$(field "$ours" overhead_p99_us) rss_kb=$(field "$ours" rss_kb) anon_kb=$(field "$ours" anon_kb)" \
     "bootstrap_kb=$bootstrap_kb node_first_next_ms=$(field "$node" first_next_ms)" \
     "node_overhead_p50_us=$(field "$node" overhead_p50_us) node_overhead_p99_us=$(field "$node" overhead_p99_us)" \
     "node_rss_kb=$(field "$node" rss_kb) node_anon_kb=$(field "$node" anon_kb)"

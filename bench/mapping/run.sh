#!/usr/bin/env bash
# make bench-mapping: 10,000 generated Shopify orders mapped to an ERP sales
# order by our pipeline and by the Node.js peer with the same config, plus the
# bare JSON parse of the same corpus, in one run. Both pipelines' outputs are
# compared order by order first: a faster wrong answer does not count.
# Last line: the headline figures.
set -euo pipefail
build=${1:-build}
orders=${BENCH_ORDERS:-10000}
passes=${BENCH_PASSES:-5}
here=$(cd "$(dirname "$0")" && pwd)
dir="$build/bench/mapping"
bench="$dir/bench_mapping"
command -v node >/dev/null || { echo "bench-mapping: node is required for the peer" >&2; exit 1; }

node "$here/gen.mjs" "$dir" "$orders" 42
"$bench" check "$dir/corpus.jsonl" "$dir/config.json" 1
c=$("$bench" both "$dir/corpus.jsonl" "$dir/config.json" "$passes" "$dir/c-out.jsonl")
n=$(node "$here/node/map.mjs" both "$dir/corpus.jsonl" "$dir/config.json" "$passes" "$dir/node-out.jsonl")
node "$here/compare.mjs" "$dir/c-out.jsonl" "$dir/node-out.jsonl"
echo "$c" | sed 's/^/c    /'
echo "$n" | sed 's/^/node /'

field() { grep "^$2 " <<<"$1" | tr ' ' '\n' | sed -n "s/^$3=//p"; }
c_map=$(field "$c" map orders_per_s)
c_parse=$(field "$c" parse orders_per_s)
n_map=$(field "$n" map orders_per_s)

# Instruction counts do not move with the machine's load: the same split of
# work between parsing and the rest, counted by callgrind on 2,000 orders.
instr_fraction=n/a
if command -v valgrind >/dev/null; then
    head -2000 "$dir/corpus.jsonl" > "$dir/small.jsonl"
    count() {
        valgrind --tool=callgrind --callgrind-out-file="$dir/cg-$1.out" \
            "$bench" "$1" "$dir/small.jsonl" "$dir/config.json" 1 >/dev/null 2>&1
        callgrind_annotate --inclusive=yes "$dir/cg-$1.out" | grep 'run_pass \[' | awk '{gsub(",","",$1); print $1}'
    }
    parse_ir=$(count parse)
    map_ir=$(count map)
    instr_fraction=$(awk -v p="$parse_ir" -v m="$map_ir" 'BEGIN { printf "%.3f", p / m }')
    echo "callgrind, 2,000 orders: parse ${parse_ir} instructions, map ${map_ir}"
fi
awk -v cm="$c_map" -v cp="$c_parse" -v nm="$n_map" -v rss="$(field "$c" map peak_rss_kb)" \
    -v nrss="$(field "$n" map peak_rss_kb)" -v ifr="$instr_fraction" 'BEGIN {
    printf "mapping: orders_per_s=%d node_orders_per_s=%d ratio=%.2f parse_only_orders_per_s=%d parse_fraction=%.3f instr_parse_fraction=%s peak_rss_kb=%d node_peak_rss_kb=%d\n",
        cm, nm, cm / nm, cp, cm / cp, ifr, rss, nrss }'

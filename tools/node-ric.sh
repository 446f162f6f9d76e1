#!/usr/bin/env bash
# Installs AWS's Node.js runtime interface client with the echo function of
# bench/runtime/node into DIR (once; it builds a native addon, about a
# minute) and prints DIR's absolute path. Used by make bench-runtime and by
# the emulator's Node test.
set -euo pipefail
dir=$1
src=$(cd "$(dirname "$0")/../bench/runtime/node" && pwd)
command -v node >/dev/null || { echo "node-ric: node is required" >&2; exit 1; }
if [ ! -f "$dir/node_modules/aws-lambda-ric/index.mjs" ]; then
    echo "node-ric: installing aws-lambda-ric into $dir (builds its native addon, about a minute)" >&2
    mkdir -p "$dir"
    cp "$src/package.json" "$src/index.mjs" "$dir/"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
cp "$src/index.mjs" "$dir/"
cd "$dir" && pwd

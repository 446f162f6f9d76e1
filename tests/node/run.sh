#!/usr/bin/env bash
# AWS's Node.js runtime interface client (aws-lambda-ric) under the emulator:
# the echo function answers through the Invoke API, warm and cold.
set -euo pipefail
build=${1:-build}
emulator="$(cd "$build/bin" && pwd)/emulator"
ric=$(bash "$(dirname "$0")/../../tools/node-ric.sh" "$build/bench/node")
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/node"
cp "$ric/index.mjs" "$work/node/"
ln -s "$ric/node_modules" "$work/node/node_modules"
printf '#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/node_modules/aws-lambda-ric/index.mjs" "$_HANDLER"\n' \
    >"$work/node/bootstrap"
chmod +x "$work/node/bootstrap"
cat >"$work/template.yaml" <<'YAML'
Transform: AWS::Serverless-2016-10-31
Resources:
  NodeEcho:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: node-echo
      CodeUri: node
      Handler: index.handler
      Runtime: nodejs20.x
YAML
"$emulator" start --template "$work/template.yaml" --port 0 --state-dir "$work" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/log" | cut -d: -f3 || true)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "${port:-}" ] || { cat "$work/log" >&2; echo "node-ric: the emulator did not start" >&2; exit 1; }
for payload in '{"order":1}' '{"order":2,"note":"warm"}'; do
    got=$("$emulator" invoke --port "$port" --function node-echo --payload "$payload")
    if [ "$got" != "$payload" ]; then
        cat "$work/log" >&2
        echo "node-ric: sent $payload, got $got" >&2
        exit 1
    fi
done
grep -q 'Init Duration' "$work/log" || { echo "node-ric: no cold start REPORT" >&2; exit 1; }
echo "node-ric: aws-lambda-ric echo ran under the emulator (cold and warm)"

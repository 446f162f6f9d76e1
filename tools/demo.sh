#!/usr/bin/env bash
# make demo: the sandbox's Shopify shops and Exact MAX bridge, the emulator
# on the project's template.yaml, and the order-export function between
# them. Each shop's webhooks reach the order queue twice (Shopify retries),
# one order has SKUs with no MAX part number, and the summary table comes
# from the functions' own metric lines.
set -euo pipefail
BUILD=${BUILD:-build}
ORDERS_PER_SHOP=${ORDERS_PER_SHOP:-20}
secret=demo-webhook-secret
work=$(mktemp -d /tmp/cs-demo-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Starts a server with port 0; sets the variable named first to the
# address it announces.
start() {
    local var=$1 log=$2; shift 2
    "$@" >/dev/null 2>"$log" &
    pids+=($!)
    for _ in $(seq 100); do
        local url
        url=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3) || true
        if [ -n "$url" ]; then printf -v "$var" '%s' "$url"; return; fi
        sleep 0.1
    done
    echo "demo: $1 did not start:" >&2; cat "$log" >&2; exit 1
}

start sandbox "$work/sandbox.log" "$BUILD/bin/sandbox" --port 0
start emulator "$work/emulator.log" "$BUILD/bin/emulator" start --template template.yaml \
    --port 0 --state-dir "$work" --build-dir "$BUILD/sam" \
    --parameter "ExactMaxUrl=$sandbox/max/v1" --parameter ExactMaxKey=max-sandbox-key \
    --parameter "ShopifyWebhookSecret=$secret" --parameter "LocalStateDb=$work/state.db" \
    --parameter "LocalSnapshotDir=$work/snapshots"
queue="$emulator/000000000000/order-events"
echo "sandbox  $sandbox"
echo "emulator $emulator (order queue $queue)"

post() { curl -sf -X POST -H 'Content-Type: application/json' "$@" >/dev/null; }

started=$(date +%s%N)
for shop in us-store eu-store jp-store; do
    post -d "{\"address\":\"sqs:$queue\",\"secret\":\"$secret\",\"duplicates\":1}" \
        "$sandbox/_sandbox/shopify/$shop/webhooks"
done
for _ in $(seq "$ORDERS_PER_SHOP"); do
    for shop in us-store eu-store jp-store; do
        post -d '{}' "$sandbox/_sandbox/shopify/$shop/orders"
    done
done

# An order whose SKUs MAX does not know, signed as Shopify signs it.
body=$(tr -d '\n' <tests/fixtures/shopify/order-webhook.json)
hmac=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -binary | base64)
attr() { printf '"%s":{"DataType":"String","StringValue":"%s"}' "$1" "$2"; }
message=$(printf '{"QueueUrl":"%s","MessageBody":%s,"MessageAttributes":{%s,%s,%s,%s,%s}}' \
    "$queue" "\"$(printf '%s' "$body" | sed 's/\\/\\\\/g; s/"/\\"/g')\"" \
    "$(attr X-Shopify-Topic orders/create)" "$(attr X-Shopify-Hmac-Sha256 "$hmac")" \
    "$(attr X-Shopify-Shop-Domain us-store.myshopify.com)" \
    "$(attr X-Shopify-Webhook-Id demo-unmapped-order)" "$(attr X-Shopify-API-Version 2026-01)")
post -H 'X-Amz-Target: AmazonSQS.SendMessage' -H 'Content-Type: application/x-amz-json-1.0' \
    -d "$message" "$emulator/"

# Sums one counter over the function's metric lines.
metric() {
    grep -o "\"$1\":[0-9]*" "$work/emulator.log" | awk -F: '{n += $2} END {print n + 0}'
}
want=$((ORDERS_PER_SHOP * 3 * 2 + 1))
for _ in $(seq 600); do
    [ "$(metric RecordsIn)" -ge "$want" ] && break
    sleep 0.1
done
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))

printf '\n%-14s %10s %8s %11s %8s %8s %9s\n' flow records_in written duplicates failed retried time_ms
printf '%-14s %10s %8s %11s %8s %8s %9s\n' order-export "$(metric RecordsIn)" "$(metric Written)" \
    "$(metric DuplicatesSkipped)" "$(metric Failed)" "$(metric Retried)" "$elapsed"
echo
echo "MAX holds: $(curl -sf "$sandbox/_sandbox/exactmax/state")"
echo "error queue (with payload snapshots):"
grep '"result":"failed"' "$work/emulator.log" | grep -o '"correlationId":"[^"]*"\|"reason":"[^"]*' |
    paste - - | sed 's/"correlationId":/  /; s/"reason":"/ /' | cut -c1-160
[ "$(metric Written)" -eq $((ORDERS_PER_SHOP * 3)) ] && [ "$(metric Failed)" -ge 1 ]

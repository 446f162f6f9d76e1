#!/usr/bin/env bash
# make demo: the sandbox (Shopify shops, commercetools, the Exact MAX bridge)
# and the emulator on the project's template.yaml, running both
# integrations on seeded data:
# - shopify-exactmax: order webhooks delivered twice to webhook-ingress's
#   function URL, which verifies them onto the order queue (one order with
#   SKUs MAX does not know, one cancelled, one refunded, one unsigned),
#   a stock run, MAX's warehouse shipping, the fulfillment callback;
# - commercetools-exactmax: subscription messages duplicated and swapped,
#   the same stock, shipping and callback runs;
# - for each, a backfill of the last 70 days of storefront orders.
# The summary table comes from the functions' own metric lines.
set -euo pipefail
BUILD=${BUILD:-build}
ORDERS_PER_SHOP=${ORDERS_PER_SHOP:-20}
CT_ORDERS=${CT_ORDERS:-30}
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

post() { curl -sf -X POST -H 'Content-Type: application/json' "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

start sandbox "$work/sandbox.log" "$BUILD/bin/sandbox" --port 0
echo "sandbox  $sandbox"

# The emulator on the template with one integration's config; its log is
# $work/<integration>/emulator.log.
start_integration() {
    local name=$1 dir="$work/$1"
    mkdir -p "$dir"
    start emulator "$dir/emulator.log" "$BUILD/bin/emulator" start --template template.yaml \
        --port 0 --state-dir "$dir" --build-dir "$BUILD/sam" \
        --parameter "IntegrationConfig=config/$name.json" \
        --parameter "ExactMaxUrl=$sandbox/max/v1" \
        --parameter "ShopifyAdminUrl=$sandbox/shopify/{shop}" \
        --parameter "CommercetoolsAuthUrl=$sandbox/commercetools/oauth/token" \
        --parameter "CommercetoolsApiUrl=$sandbox/commercetools/cs-sandbox" \
        --parameter CommercetoolsClientId=sandbox-client \
        --secret ExactMaxKeySecret=max-sandbox-key --secret "ShopifyAppSecret=$secret" \
        --secret 'ShopifyTokensSecret={"us":"shpat_sandbox_us-store","eu":"shpat_sandbox_eu-store","jp":"shpat_sandbox_jp-store"}' \
        --secret CommercetoolsSecret=sandbox-secret \
        --parameter QueueVisibilityTimeout=2 \
        --parameter "LocalStateDb=$dir/state.db" --parameter "LocalSnapshotDir=$dir/snapshots"
    log="$dir/emulator.log"
    queue="$emulator/000000000000/order-events"
    ingress="$emulator/_url/webhook-ingress/"
    echo "emulator $emulator ($name)"
}

# Sums one counter over a flow's metric lines in the current log.
metric() {
    grep -o "\"Flow\":\"$1\",.*" "$log" | grep -o "\"$2\":[0-9]*" |
        awk -F: '{n += $2} END {print n + 0}'
}

# Waits until the flow has taken in at least n records.
wait_for() {
    for _ in $(seq 600); do
        [ "$(metric "$1" RecordsIn)" -ge "$2" ] && return
        sleep 0.1
    done
    echo "demo: $1 took in $(metric "$1" RecordsIn) records, not $2" >&2
    exit 1
}

invoke() { post -d '{}' "$emulator/2015-03-31/functions/$1/invocations" >/dev/null; }

rows=()
row() { # integration flow elapsed_ms
    rows+=("$(printf '%-24s %-21s %10s %8s %11s %8s %8s %8s' "$1" "$2" \
        "$(metric "$2" RecordsIn)" "$(metric "$2" Written)" "$(metric "$2" DuplicatesSkipped)" \
        "$(metric "$2" Failed)" "$(metric "$2" Retried)" "$3")")
}

# Stock, MAX's warehouse, the callback: the same for both integrations.
stock_ship_callback() {
    local t
    t=$(now_ms); invoke stock-update; row "$1" stock-update $(($(now_ms) - t))
    post -d '{}' "$sandbox/_sandbox/exactmax/warehouse" >/dev/null
    t=$(now_ms); invoke fulfillment-callback; invoke fulfillment-callback
    row "$1" fulfillment-callback $(($(now_ms) - t))
}

# A backfill of the last 70 days: the storefront's seeded orders (and the
# demo's own, as duplicates), invoked until its run is complete.
backfill() {
    local t from to answer
    t=$(now_ms)
    from=$(date -u -d '70 days ago' +%Y-%m-%dT%H:%M:%SZ)
    to=$(date -u -d '1 minute' +%Y-%m-%dT%H:%M:%SZ)
    for _ in $(seq 20); do
        answer=$(post -d "{\"run\":\"demo\",\"from\":\"$from\",\"to\":\"$to\",\"page_size\":100}" \
            "$emulator/2015-03-31/functions/backfill/invocations")
        case $answer in *'"complete":true'*) break ;; esac
    done
    row "$1" backfill $(($(now_ms) - t))
}

# ---- shopify-exactmax ----
start_integration shopify-exactmax
started=$(now_ms)
for shop in us-store eu-store jp-store; do
    post -d "{\"address\":\"$ingress\",\"secret\":\"$secret\",\"duplicates\":1}" \
        "$sandbox/_sandbox/shopify/$shop/webhooks" >/dev/null
done
ids=()
for _ in $(seq "$ORDERS_PER_SHOP"); do
    for shop in us-store eu-store jp-store; do
        ids+=("$shop/$(post -d '{}' "$sandbox/_sandbox/shopify/$shop/orders" |
            grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)")
    done
done

# An order whose SKUs MAX does not know, signed as Shopify signs it, and
# the same body unsigned, which the ingress turns away.
body=$(tr -d '\n' <tests/fixtures/shopify/order-webhook.json)
hmac=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -binary | base64)
shopify_post() {
    curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -H 'X-Shopify-Topic: orders/create' -H 'X-Shopify-Shop-Domain: us-store.myshopify.com' \
        -H "X-Shopify-Webhook-Id: $1" -H 'X-Shopify-API-Version: 2026-01' \
        -H "X-Shopify-Hmac-Sha256: $2" -d "$body" "$ingress"
}
[ "$(shopify_post demo-unmapped-order "$hmac")" = 200 ]
[ "$(shopify_post demo-unsigned-order "c2lnbmVkIGJ5IG5vYm9keQ==")" = 401 ]
orders=$((ORDERS_PER_SHOP * 3))
wait_for order-export $((orders * 2 + 1))
# The merchant cancels the first order and refunds the second (orders/cancelled
# and orders/updated, twice each; orders/updated).
post -d '' "$sandbox/_sandbox/shopify/${ids[0]%/*}/orders/${ids[0]#*/}/cancel" >/dev/null
post -d '' "$sandbox/_sandbox/shopify/${ids[1]%/*}/orders/${ids[1]#*/}/refund" >/dev/null
wait_for order-export $((orders * 2 + 1 + 6))
row shopify-exactmax webhook-ingress $(($(now_ms) - started))
row shopify-exactmax order-export $(($(now_ms) - started))
stock_ship_callback shopify-exactmax
shopify_log=$log shopify_emulator=$emulator
shopify_orders=$(metric order-export Written)

# ---- commercetools-exactmax ----
start_integration commercetools-exactmax
started=$(now_ms)
post -d "{\"queue_url\":\"$queue\",\"duplicates\":1,\"reorder\":true}" \
    "$sandbox/_sandbox/commercetools/subscription" >/dev/null
for _ in $(seq "$CT_ORDERS"); do
    post -d '{}' "$sandbox/_sandbox/commercetools/orders" >/dev/null
done
wait_for order-export $((CT_ORDERS * 2))
row commercetools-exactmax order-export $(($(now_ms) - started))
stock_ship_callback commercetools-exactmax
# The backfills last: MAX's warehouse would otherwise spend its stock on
# the seeded orders they load.
backfill commercetools-exactmax
log=$shopify_log emulator=$shopify_emulator
# Shopify's GraphQL bucket at Shopify Plus's restore rate (the fake's
# default, 50 points a second, would make the load wait ~20 s).
post -d '{"size":1000,"restore_rate":1000}' "$sandbox/_sandbox/shopify/bucket" >/dev/null
backfill shopify-exactmax

printf '\n%-24s %-21s %10s %8s %11s %8s %8s %8s\n' integration flow records_in written \
    duplicates failed retried time_ms
printf '%s\n' "${rows[@]}" | sort -s -r -k1,1
echo
echo "MAX holds: $(curl -sf "$sandbox/_sandbox/exactmax/state" | cut -c1-300)"
echo "error queue (with payload snapshots):"
grep -h '"result":"failed"' "$work"/*/emulator.log | grep -o '"correlationId":"[^"]*"\|"reason":"[^"]*' |
    paste - - | sed 's/"correlationId":/  /; s/"reason":"/ /' | cut -c1-160
log=$shopify_log
# 60 Shopify orders, a cancel and a credit memo written; the unmapped order failed.
[ "$shopify_orders" -eq $((ORDERS_PER_SHOP * 3 + 2)) ] && [ "$(metric order-export Failed)" -ge 1 ]

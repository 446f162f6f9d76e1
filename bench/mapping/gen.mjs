// Writes the mapping benchmark's inputs: a corpus of varied Shopify-shaped
// orders (one JSON object per line) and the integration config that maps
// them to an ERP sales order. Deterministic for a given seed.
//
//   node gen.mjs OUT_DIR [ORDERS] [SEED]
import { writeFileSync, mkdirSync } from 'node:fs';

const [outDir, countArg = '10000', seedArg = '42'] = process.argv.slice(2);
let seed = BigInt(seedArg) || 42n;
function rand() {
  // xorshift64*, so the corpus is the same on every machine.
  seed ^= seed >> 12n; seed ^= (seed << 25n) & 0xffffffffffffffffn; seed ^= seed >> 27n;
  return Number(((seed * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53;
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const stores = [
  { code: 'us', currency: 'USD', exp: 2, taxIncluded: false, rate: '0.0725', locale: 'en-US', country: 'US' },
  { code: 'eu', currency: 'EUR', exp: 2, taxIncluded: true, rate: '0.19', locale: 'de-DE', country: 'DE' },
  { code: 'uk', currency: 'GBP', exp: 2, taxIncluded: true, rate: '0.20', locale: 'en-GB', country: 'GB' },
  { code: 'jp', currency: 'JPY', exp: 0, taxIncluded: true, rate: '0.10', locale: 'ja-JP', country: 'JP' },
  { code: 'kw', currency: 'KWD', exp: 3, taxIncluded: false, rate: '0.05', locale: 'ar-KW', country: 'KW' },
];
const names = [
  ['Bob', 'Norman'], ['Jürgen', 'Müller'], ['Zoë', 'Ångström'], ['Ирина', 'Ковалёва'],
  ['太郎', '山田'], ['Siobhán', "O'Connell"], ['Łukasz', 'Wiśniewski'], ['Ana "Nina"', 'García'],
];
const products = Array.from({ length: 500 }, (_, i) => ({
  sku: `SKU-${String(i).padStart(4, '0')}`,
  title: pick(['T-Shirt', 'Becher', '抹茶セット', 'Kruka', 'Чашка', 'Mug "Classic"', 'Cap']) + ` ${i}`,
  price: int(100, 25000),
}));
const carriers = ['usps', 'ups', 'dhl', 'royal_mail', 'yamato', 'aramex'];

const fmt = (units, exp) => {
  const neg = units < 0; let s = String(Math.abs(units));
  if (exp === 0) return (neg ? '-' : '') + s;
  s = s.padStart(exp + 1, '0');
  return (neg ? '-' : '') + s.slice(0, -exp) + '.' + s.slice(-exp);
};
// Shares of total in proportion to weights, adding up exactly (largest remainder).
function allocate(total, weights) {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const shares = weights.map((w) => Math.floor((total * w) / sum));
  let left = total - shares.reduce((a, b) => a + b, 0);
  const rest = weights.map((w, i) => [total * w - shares[i] * sum, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) shares[rest[k][1]]++;
  return shares;
}
const scale = (units, exp) => Math.round(units / 10 ** (2 - exp)); // catalogue prices are in cents
const rateTimes = (units, rate) => Math.round(units * Number(rate));

function order(n) {
  const store = pick(stores);
  const [first, last] = pick(names);
  const guest = rand() < 0.25;
  const lines = Array.from({ length: int(1, 12) }, (_, i) => {
    const p = pick(products);
    return { id: 1000000 + n * 20 + i, product: p, quantity: int(1, 5), price: Math.max(1, scale(p.price, store.exp)) };
  });
  const gross = lines.map((l) => l.price * l.quantity);
  const discountTotal = rand() < 0.4 ? Math.floor(gross.reduce((a, b) => a + b, 0) * pick([0.05, 0.1, 0.15])) : 0;
  const shares = discountTotal ? allocate(discountTotal, gross) : gross.map(() => 0);
  const taxes = lines.map((l, i) => rateTimes(gross[i] - shares[i], store.rate));
  const shipping = Array.from({ length: rand() < 0.1 ? 2 : 1 }, () => scale(pick([0, 490, 999, 1500]), store.exp));
  const shipTotal = shipping.reduce((a, b) => a + b, 0);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const subtotal = sum(gross) - discountTotal;
  const taxTotal = sum(taxes);
  const total = subtotal + shipTotal + (store.taxIncluded ? 0 : taxTotal);
  const address = {
    first_name: first, last_name: last, address1: `${int(1, 200)} Main Street`, address2: rand() < 0.3 ? 'Apt 4' : '',
    city: pick(['Louisville', 'München', 'Москва', '東京', 'Kuwait City']), province_code: null,
    zip: String(int(10000, 99999)), country_code: store.country, phone: rand() < 0.5 ? `+1 555 ${int(1000, 9999)}` : null,
    company: rand() < 0.2 ? 'Acme GmbH' : null,
  };
  const created = new Date(Date.UTC(2024, int(0, 11), int(1, 28), int(0, 23), int(0, 59), int(0, 59))).toISOString();
  return {
    id: 5000000000 + n,
    admin_graphql_api_id: `gid://shopify/Order/${5000000000 + n}`,
    name: `#${1000 + n}`,
    order_number: 1000 + n,
    email: `${last.toLowerCase().replace(/[^a-z]/g, '') || 'customer'}${n}@example.com`,
    created_at: created,
    updated_at: created,
    cancelled_at: null,
    closed_at: null,
    currency: store.currency,
    presentment_currency: store.currency,
    customer_locale: store.locale,
    taxes_included: store.taxIncluded,
    financial_status: pick(['paid', 'paid', 'authorized', 'pending', 'partially_refunded']),
    fulfillment_status: pick([null, null, 'partial', 'fulfilled']),
    subtotal_price: fmt(subtotal, store.exp),
    total_discounts: fmt(discountTotal, store.exp),
    total_tax: fmt(taxTotal, store.exp),
    total_price: fmt(total, store.exp),
    total_shipping_price_set: { shop_money: { amount: fmt(shipTotal, store.exp), currency_code: store.currency } },
    payment_gateway_names: [pick(['shopify_payments', 'paypal', 'manual'])],
    note: rand() < 0.2 ? 'Please ring twice.\nThanks! "Fragile"' : null,
    customer: guest ? null : { id: 7000000000 + n, email: `c${n}@example.com`, first_name: first, last_name: last },
    billing_address: address,
    shipping_address: address,
    discount_applications: discountTotal ? [{ type: 'discount_code', value_type: 'percentage', allocation_method: 'across', target_type: 'line_item', code: 'SAVE' }] : [],
    discount_codes: discountTotal ? [{ code: 'SAVE', amount: fmt(discountTotal, store.exp), type: 'percentage' }] : [],
    line_items: lines.map((l, i) => ({
      id: l.id, variant_id: 40000000 + n, product_id: 60000000 + i, sku: l.product.sku, title: l.product.title,
      quantity: l.quantity, price: fmt(l.price, store.exp), taxable: true, requires_shipping: true,
      discount_allocations: shares[i] ? [{ amount: fmt(shares[i], store.exp), discount_application_index: 0 }] : [],
      tax_lines: [{ title: 'Tax', price: fmt(taxes[i], store.exp), rate: Number(store.rate) }],
    })),
    shipping_lines: shipping.map((price, i) => ({
      id: 90000000 + n * 2 + i, code: pick(['STANDARD', 'EXPRESS']), title: 'Shipping', price: fmt(price, store.exp),
      source: pick(carriers), tax_lines: [], discount_allocations: [],
    })),
  };
}

const count = Number(countArg);
mkdirSync(outDir, { recursive: true });
const out = [];
for (let n = 0; n < count; n++) out.push(JSON.stringify(order(n)));
writeFileSync(`${outDir}/corpus.jsonl`, out.join('\n') + '\n');

// 400 of the 500 SKUs have an ERP item code; the rest pass through as is.
const skuToItem = Object.fromEntries(products.slice(0, 400).map((p, i) => [p.sku, `P-${100000 + i}`]));
const config = {
  lookups: {
    carriers: { ignore_case: true, values: { USPS: 'USPS', UPS: 'UPS', DHL: 'DHL', royal_mail: 'RM', yamato: 'YMT' } },
    sku_to_item: { values: skuToItem },
    stores: { values: Object.fromEntries(stores.map((s) => [s.code, { warehouse: `W-${s.code.toUpperCase()}`, tax_code: s.taxIncluded ? 'INCL' : 'EXCL' }])) },
  },
  maps: {
    erp_sales_order: {
      entity: 'order',
      fields: [
        { target: 'customer_id', from: ['customer.account_code', 'customer.ids.shopify'], fallback: { const: 'GUEST' } },
        { target: 'customer_po', from: 'number', transform: ['trim', 'truncate:20'] },
        { target: 'reference', format: '{store_code}-{ids.shopify}' },
        { target: 'order_date', from: 'created_at', transform: ['date:%Y-%m-%d'] },
        { target: 'stockroom', from: 'store_code', lookup: 'stores', column: 'warehouse' },
        { target: 'tax_code', from: 'store_code', lookup: 'stores', column: 'tax_code' },
        { target: 'ship_via', from: 'shipping_lines[0].carrier', lookup: 'carriers', default: 'BEST' },
        { target: 'currency', from: 'currency' },
        { target: 'status', from: 'payment_status', transform: ['upper'] },
        { target: 'comment', from: 'note', transform: ['truncate:60'], if_absent: 'null' },
        { target: 'ship_to', fields: [
          { target: 'name', format: '{shipping.first_name} {shipping.last_name}', transform: ['truncate:30'] },
          { target: 'address', from: 'shipping.line1' },
          { target: 'city', from: 'shipping.city', transform: ['upper'] },
          { target: 'zip', from: 'shipping.postal_code' },
          { target: 'country', from: 'shipping.country' },
          { target: 'phone', from: 'shipping.phone', transform: ['digits'] },
        ] },
        { target: 'lines', each: 'lines', fields: [
          { target: 'part_number', from: 'item_code', fallback: { from: 'sku', lookup: 'sku_to_item', on_unknown: 'pass' } },
          { target: 'description', from: 'title', transform: ['truncate:25'] },
          { target: 'quantity', from: 'quantity' },
          { target: 'price', from: 'unit_price', transform: ['decimal:2'] },
          { target: 'discount', from: 'discount', transform: ['decimal:2'] },
          { target: 'tax', from: 'tax', transform: ['decimal:2:half-up'] },
          { target: 'stockroom', from: '$.store_code', lookup: 'stores', column: 'warehouse' },
        ] },
        { target: 'freight', from: 'shipping_total', transform: ['decimal:2'] },
        { target: 'tax_total', from: 'tax_total', transform: ['decimal:2'] },
        { target: 'total', from: 'total' },
        { target: 'total_minor', from: 'total', transform: ['minor'] },
      ],
    },
  },
};
writeFileSync(`${outDir}/config.json`, JSON.stringify(config, null, 1) + '\n');

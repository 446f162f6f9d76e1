// The mapping benchmark's Node.js peer: the same pipeline as bench_mapping.c
// (parse a Shopify order, decode it to the canonical order, apply the
// "erp_sales_order" field map of the same config with the same semantics,
// write JSON), written the way a careful Node developer would: exact money
// as integer minor units parsed from the decimal strings, no floats.
//
//   node map.mjs both|parse|map CORPUS CONFIG PASSES [OUTPUT]
// (the same modes and output as bench_mapping.c)
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const EXPONENTS = { USD: 2, EUR: 2, GBP: 2, JPY: 0, KWD: 3 };
const STORES = { USD: 'us', EUR: 'eu', GBP: 'uk', JPY: 'jp', KWD: 'kw' };

// ---- exact decimals ----
function parseDecimal(text, exp) {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`bad decimal ${text}`);
  const frac = (m[3] || '');
  if (frac.length > exp && /[1-9]/.test(frac.slice(exp))) throw new Error(`too precise ${text}`);
  const units = Number(m[2] + frac.slice(0, exp).padEnd(exp, '0'));
  return m[1] ? -units : units;
}
function formatDecimal(units, exp) {
  const neg = units < 0; let s = String(Math.abs(units));
  if (exp === 0) return (neg ? '-' : '') + s;
  s = s.padStart(exp + 1, '0');
  return (neg ? '-' : '') + s.slice(0, -exp) + '.' + s.slice(-exp);
}
function rescale(units, from, to, mode) {
  if (to >= from) return units * 10 ** (to - from);
  const div = 10 ** (from - to);
  const mag = Math.abs(units); let kept = Math.floor(mag / div); const rest = mag % div;
  const half = div / 2;
  if (mode === 'half-up' ? rest >= half : rest > half || (rest === half && kept % 2 === 1)) kept++;
  return units < 0 ? -kept : kept;
}
const money = (text, currency) => (text == null || text === '' ? null : { units: parseDecimal(String(text), EXPONENTS[currency]), currency });

// ---- Shopify order -> canonical order ----
function decode(o) {
  const cur = o.currency;
  const apps = o.discount_applications || [];
  const appName = (a) => { const app = apps[a.discount_application_index]; return app ? app.code || app.title : undefined; };
  const sum = (xs) => xs.reduce((t, x) => t + x.amount.units, 0);
  const address = (a) => a ? { first_name: a.first_name, last_name: a.last_name, company: a.company, line1: a.address1, line2: a.address2, city: a.city, region: a.province_code, postal_code: a.zip, country: a.country_code, phone: a.phone } : {};
  const id = o.id == null ? '' : String(o.id);
  return {
    meta: { source: 'shopify', source_id: id, correlation_id: `shopify:order:${id}` },
    ids: { shopify: id },
    number: o.name, store_code: STORES[cur], currency: cur, locale: o.customer_locale,
    created_at: Date.parse(o.created_at), updated_at: Date.parse(o.updated_at),
    order_status: o.cancelled_at ? 'cancelled' : o.closed_at ? 'closed' : 'open',
    payment_status: o.financial_status, fulfillment_status: o.fulfillment_status || 'unfulfilled',
    taxes_included: !!o.taxes_included, guest: !o.customer, note: o.note,
    customer: { ids: { shopify: o.customer ? String(o.customer.id) : undefined }, email: o.email || (o.customer && o.customer.email) },
    billing: address(o.billing_address), shipping: address(o.shipping_address),
    payment_method: (o.payment_gateway_names || [])[0],
    lines: (o.line_items || []).map((li) => {
      const discounts = (li.discount_allocations || []).map((a) => ({ code: appName(a), amount: money(a.amount, cur) }));
      const tax_lines = (li.tax_lines || []).map((t) => ({ title: t.title, rate: String(t.rate), amount: money(t.price, cur) }));
      return {
        line_id: String(li.id), sku: li.sku, variant_id: String(li.variant_id), product_id: String(li.product_id), title: li.title,
        quantity: li.quantity, unit_price: money(li.price, cur),
        discount: { units: sum(discounts), currency: cur }, discounts,
        tax: { units: sum(tax_lines), currency: cur }, tax_lines,
      };
    }),
    shipping_lines: (o.shipping_lines || []).map((s) => ({ code: s.code, title: s.title, carrier: s.source, price: money(s.price, cur) })),
    subtotal: money(o.subtotal_price, cur), discount_total: money(o.total_discounts, cur),
    tax_total: money(o.total_tax, cur), total: money(o.total_price, cur),
    shipping_total: money(o.total_shipping_price_set && o.total_shipping_price_set.shop_money.amount, cur),
  };
}

// ---- field maps, with the semantics of shared/mapping/fieldmap.h ----
const TIME_FIELDS = new Set(['created_at', 'updated_at', 'cancelled_at', 'processed_at']);
function compilePath(text) {
  const fromRoot = text.startsWith('$.');
  const steps = [];
  for (const part of (fromRoot ? text.slice(2) : text).split('.')) {
    const m = /^([^[]+)(?:\[(\d*)\])?$/.exec(part);
    steps.push(m[1]); if (m[2]) steps.push(Number(m[2]));
  }
  return { fromRoot, steps, time: TIME_FIELDS.has(steps[steps.length - 1]) };
}
function read(path, root, current) {
  let v = path.fromRoot ? root : current;
  for (const s of path.steps) { if (v == null) return undefined; v = v[s]; }
  if (v === '' || v === null || (path.time && !v)) return undefined;
  return path.time ? { time: v } : v;
}
const isMoney = (v) => v !== null && typeof v === 'object' && 'units' in v;
const isTime = (v) => v !== null && typeof v === 'object' && 'time' in v;
function text(v) {
  if (isMoney(v)) return formatDecimal(v.units, EXPONENTS[v.currency]);
  if (isTime(v)) return new Date(v.time).toISOString();
  return String(v);
}
function compileLookup(t) {
  const map = new Map();
  for (const [k, v] of Object.entries(t.values)) map.set(t.ignore_case ? k.toLowerCase() : k, v);
  return { map, ignoreCase: !!t.ignore_case };
}
function upper(s) { return s.replace(/[a-zà-þā-žα-ωа-яѐ-џ]/g, (c) => (c === 'ß' || c === 'ÿ' ? c : c.toUpperCase())); }
function lower(s) { return s.replace(/[A-ZÀ-ÞĀ-ŽΑ-ΩА-ЯЀ-Џ]/g, (c) => c.toLowerCase()); }
function transform(spec, v) {
  const [name, ...args] = spec.split(':');
  switch (name) {
    case 'trim': return v.trim();
    case 'upper': return upper(v);
    case 'lower': return lower(v);
    case 'truncate': return Array.from(v).slice(0, Number(args[0])).join('');
    case 'digits': return v.replace(/[^0-9]/g, '');
    case 'minor': return v.units;
    case 'decimal': {
      const [units, exp] = isMoney(v) ? [v.units, EXPONENTS[v.currency]] : [v, 0];
      return formatDecimal(rescale(units, exp, Number(args[0]), args[1] || 'half-even'), Number(args[0]));
    }
    case 'date': {
      const iso = new Date(v.time).toISOString();
      return args.join(':').replace(/%([YmdHMSL%])/g, (_, d) => ({ Y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10), H: iso.slice(11, 13), M: iso.slice(14, 16), S: iso.slice(17, 19), L: iso.slice(20, 23), '%': '%' })[d]);
    }
    default: throw new Error(`unknown transform ${spec}`);
  }
}
function compileRule(r, lookups) {
  const rule = { ...r };
  if (r.from !== undefined) rule.paths = (Array.isArray(r.from) ? r.from : [r.from]).map(compilePath);
  if (r.format !== undefined) rule.parts = r.format.split(/(\{[^}]*\})/).filter(Boolean).map((p) => (p[0] === '{' ? compilePath(p.slice(1, -1)) : p));
  if (r.each !== undefined) rule.eachPath = compilePath(r.each);
  if (r.fields) rule.children = r.fields.map((f) => compileRule(f, lookups));
  if (r.lookup) rule.table = lookups[r.lookup];
  if (r.fallback) rule.fallback = compileRule(r.fallback, lookups);
  rule.unknown = r.on_unknown || (r.default !== undefined ? 'default' : 'fail');
  return rule;
}
function evaluate(rule, root, current, problems, path) {
  let v;
  if (rule.paths) { for (const p of rule.paths) { v = read(p, root, current); if (v !== undefined) break; } }
  else if (rule.const !== undefined) v = rule.const === null ? undefined : rule.const;
  else if (rule.parts) {
    let s = '';
    for (const p of rule.parts) { if (typeof p === 'string') s += p; else { const pv = read(p, root, current); if (pv === undefined) return undefined; s += text(pv); } }
    v = s === '' ? undefined : s;
  }
  if (v !== undefined && rule.table) {
    const key = text(v);
    const row = rule.table.map.get(rule.table.ignoreCase ? key.toLowerCase() : key);
    const found = row === undefined ? undefined : rule.column ? row[rule.column] : row;
    if (found !== undefined) v = found === '' ? undefined : found;
    else if (rule.unknown === 'fail') { problems.push(`${path}: lookup: no entry for '${key}' in lookup '${rule.lookup}'`); return undefined; }
    else if (rule.unknown === 'pass') v = key;
    else if (rule.unknown === 'default') v = rule.default;
    else v = undefined;
  }
  for (const t of rule.transform || []) { if (v === undefined) break; v = transform(t, v); if (v === '') v = undefined; }
  if (v === undefined && rule.fallback) return evaluate(rule.fallback, root, current, problems, path);
  return v;
}
function output(rule, v) {
  if (rule.as === 'number') return Number(text(v));
  if (rule.as === 'string') return text(v);
  if (typeof v === 'boolean' || typeof v === 'number') return v;
  return text(v);
}
function apply(rules, root, current, problems, prefix) {
  const out = {};
  for (const rule of rules) {
    const path = prefix ? `${prefix}.${rule.target}` : rule.target;
    if (rule.eachPath) {
      const elements = read(rule.eachPath, root, current) || [];
      out[rule.target] = elements.map((e, i) => apply(rule.children, root, e, problems, `${path}[${i}]`));
    } else if (rule.children) {
      out[rule.target] = apply(rule.children, root, current, problems, path);
    } else {
      const v = evaluate(rule, root, current, problems, path);
      if (v === undefined) {
        if (rule.required) problems.push(`${path}: required: no value`);
        else if (rule.if_absent === 'null') out[rule.target] = null;
      } else out[rule.target] = output(rule, v);
    }
  }
  return out;
}

// ---- the benchmark ----
const [mode, corpusPath, configPath, passesArg, outputPath] = process.argv.slice(2);
const orders = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const lookups = Object.fromEntries(Object.entries(config.lookups).map(([k, t]) => [k, compileLookup(t)]));
const rules = config.maps.erp_sales_order.fields.map((f) => compileRule(f, lookups));
const bytes = orders.reduce((t, o) => t + Buffer.byteLength(o) + 1, 0);

function pass(which, collect) {
  const results = collect ? [] : null;
  const start = performance.now();
  for (const text of orders) {
    const parsed = JSON.parse(text);
    if (which === 'parse') continue;
    const problems = [];
    const order = decode(parsed);
    const out = apply(rules, order, order, problems, '');
    if (problems.length) throw new Error(problems.join('; '));
    const json = JSON.stringify(out);
    if (results) results.push(json);
  }
  return [(performance.now() - start) / 1000, results];
}
const which = mode === 'both' ? ['parse', 'map'] : [mode];
if (outputPath && which.includes('map')) writeFileSync(outputPath, pass('map', true)[1].join('\n') + '\n');
const best = {};
for (let p = 0; p < Number(passesArg); p++) {
  for (const w of which) best[w] = Math.min(best[w] ?? Infinity, pass(w, false)[0]);
}
const rss = process.resourceUsage().maxRSS;
for (const w of which) {
  console.log(`${w} orders=${orders.length} seconds=${best[w].toFixed(3)} orders_per_s=${(orders.length / best[w]).toFixed(0)} mb_per_s=${(bytes / 1e6 / best[w]).toFixed(1)} peak_rss_kb=${rss}`);
}

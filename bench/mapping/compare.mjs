// Compares the C and Node outputs of the mapping benchmark, order by order,
// as JSON values (so 19.90 and 19.9 are the same number). Exits 1 and shows
// the first difference if any.
import { readFileSync } from 'node:fs';

const [a, b] = process.argv.slice(2).map((p) => readFileSync(p, 'utf8').split('\n').filter(Boolean));
if (a.length !== b.length) {
  console.error(`different counts: ${a.length} vs ${b.length}`);
  process.exit(1);
}
for (let i = 0; i < a.length; i++) {
  const x = JSON.stringify(JSON.parse(a[i]));
  const y = JSON.stringify(JSON.parse(b[i]));
  if (x !== y) {
    console.error(`order ${i} differs:\n${x}\n${y}`);
    process.exit(1);
  }
}
console.log(`compare: ${a.length} outputs identical`);

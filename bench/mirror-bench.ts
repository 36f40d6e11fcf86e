/**
 * Mirror benchmarks (issue targets): export of 100,000 keys (≤ 1 s), rewrites
 * from a burst of 1,000 sets in one process (≤ 5), and get/set throughput
 * with the mirror on. Prints a table and saves bench/results/mirror-latest.json.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rows: Array<{ measure: string; result: string; target: string; verdict: string }> = [];
const json: Record<string, unknown> = { when: new Date().toISOString(), loadavg: loadavg() };

function row(measure: string, result: string, target: string, pass: boolean | undefined): void {
  rows.push({ measure, result, target, verdict: pass === undefined ? 'info' : pass ? 'PASS' : 'MISS' });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'psmc-mbench-'));
}

// 1. Export of 100,000 keys: a fresh store written in one batch, then the first export (full render).
{
  const dir = tmp();
  const s = openStore({ dir, env: {}, mirror: false });
  const changes = [];
  for (let i = 0; i < 100_000; i++)
    changes.push({ op: 'set' as const, key: `plant.k${i}`, value: { n: i, label: `sensor ${i}` } });
  s.batch(changes);
  s.close();
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    rmSync(join(dir, 'config.json'), { force: true });
    const t0 = performance.now();
    const m = openStore({ dir, env: {} }); // opening finds no file and exports all 100,000 keys
    times.push(performance.now() - t0);
    m.close();
  }
  const best = Math.min(...times);
  const bytes = statSync(join(dir, 'config.json')).size;
  json['export100k'] = { ms: times, bytes };
  row(
    'export of 100,000 keys (open + full export)',
    `${best.toFixed(0)} ms best of 3 (${(bytes / 1e6).toFixed(1)} MB)`,
    '≤ 1,000 ms',
    best <= 1000,
  );
  rmSync(dir, { recursive: true, force: true });
}

// 2. Rewrites from a burst of 1,000 sets in one process.
{
  const dir = tmp();
  const s = openStore({ dir, env: {}, durability: 'normal' });
  s.set('seed', 0);
  s.syncMirror();
  const file = join(dir, 'config.json');
  let rewrites = 0;
  let last = statSync(file).ino;
  const poll = setInterval(() => {
    const ino = statSync(file).ino; // every atomic rewrite is a rename: a new inode
    if (ino !== last) {
      rewrites++;
      last = ino;
    }
  }, 1);
  for (let i = 0; i < 1000; i++) s.set(`burst.k${i}`, i);
  await new Promise((r) => setTimeout(r, 400));
  clearInterval(poll);
  json['burstRewrites'] = rewrites;
  row('rewrites from a burst of 1,000 sets', String(rewrites), '≤ 5', rewrites <= 5);
  s.close();
  rmSync(dir, { recursive: true, force: true });
}

// 3. get/set throughput with the mirror on, at 10 and 100,000 keys.
for (const n of [10, 100_000]) {
  const dir = tmp();
  const s = openStore({ dir, env: {} });
  const changes = [];
  for (let i = 0; i < n; i++) changes.push({ op: 'set' as const, key: `k.n${i}`, value: i });
  s.batch(changes);
  s.syncMirror();
  const keys = Array.from({ length: 1024 }, (_, i) => `k.n${(i * 7919) % n}`);
  for (let i = 0; i < 200_000; i++) s.get(keys[i & 1023] as string);
  const N = 2_000_000;
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) s.get(keys[i & 1023] as string);
  const getNs = Number(process.hrtime.bigint() - t) / N;
  const M = 300;
  t = process.hrtime.bigint();
  for (let i = 0; i < M; i++) s.set('k.n1', i + 0.5);
  const setUs = Number(process.hrtime.bigint() - t) / M / 1000;
  json[`withMirror${n}`] = { getNs, setUs };
  row(
    `get with the mirror on @${n.toLocaleString('en')} keys`,
    `${(1e9 / getNs).toLocaleString('en', { maximumFractionDigits: 0 })} ops/s (${getNs.toFixed(0)} ns)`,
    '≥ 1,000,000/s',
    1e9 / getNs >= 1e6,
  );
  row(
    `set (durable) with the mirror on @${n.toLocaleString('en')} keys`,
    `${(1e6 / setUs).toFixed(0)} ops/s (${setUs.toFixed(0)} µs)`,
    'as without the mirror (see bench.js)',
    undefined,
  );
  s.close();
  rmSync(dir, { recursive: true, force: true });
}

const w = [
  Math.max(...rows.map((r) => r.measure.length)),
  Math.max(...rows.map((r) => r.result.length)),
  Math.max(...rows.map((r) => r.target.length)),
];
process.stdout.write(
  `mirror bench · load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
for (const r of rows)
  process.stdout.write(
    `${r.measure.padEnd(w[0] ?? 0)} | ${r.result.padEnd(w[1] ?? 0)} | ${r.target.padEnd(w[2] ?? 0)} | ${r.verdict}\n`,
  );
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'mirror-latest.json'), JSON.stringify({ ...json, rows }, null, 2) + '\n');

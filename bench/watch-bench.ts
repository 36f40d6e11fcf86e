/**
 * Watcher latency benchmark: `node dist/bench/watch-bench.js` (after `npm run build`).
 * A script, not a test: it measures, prints a table with targets and PASS/MISS,
 * and saves the numbers to bench/results/watch-latest.json.
 *
 * - remote: a set() in process A → the event in a Watcher in process B (this
 *   one). A writes `performance.timeOrigin + performance.now()` into the value
 *   just before set(); B subtracts it from its own clock on receipt. So the
 *   figure includes A's commit (durability 'full': an fsync) and B's scan.
 *   200 samples, one set every ~5 ms, after 20 warm-up sets.
 * - local (information): the same within one process (the local-commit hook).
 * - hand edit: a save of the mirror file → the event (source `file`) in a
 *   watching process. Only when the store has a mirror (Store.syncMirror).
 *
 * Usage: node dist/bench/watch-bench.js [--samples N]
 * (the script forks itself as the writer: `watch-bench.js writer <dir>`).
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type ChangeRecord } from '../src/index.js';
import { Watcher } from '../src/watch/watcher.js';
import { watchHostOf } from '../src/watch/host.js';
import { spread } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const SELF = fileURLToPath(import.meta.url);
const KEY = 'bench.latency';
const WARMUP = 20;
const SPACING_MS = 5;
const EDIT_SAMPLES = 20;

const epochNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

interface Stats {
  n: number;
  median: number;
  p90: number;
  max: number;
  min: number;
}

/** The common spread, with its nearest-rank p50 under the name this bench's table and JSON use. */
function stats(xs: readonly number[]): Stats {
  const { n, p50, p90, max, min } = spread(xs);
  return { n, median: p50, p90, max, min };
}

// ---------------------------------------------------------------------------
// Writer process (A)

async function writer(dir: string, count: number): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('the writer is forked with an IPC channel');
  const store = openStore({ dir, env: {}, source: 'bench-writer' });
  await new Promise<void>((res) => process.once('message', () => res()));
  const commitMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = epochNow();
    store.set(KEY, { t, i });
    commitMs.push(epochNow() - t);
    await sleep(SPACING_MS);
  }
  store.close();
  send({ type: 'done', commitMs }, () => process.exit(0));
}

// ---------------------------------------------------------------------------
// Measurements (B)

function withWatcher(
  dir: string,
  onEvent: (e: ChangeRecord, receivedAt: number) => void,
  mirrorHook = true,
): { close(): void; store: ReturnType<typeof openStore>; errors: unknown[] } {
  const store = openStore({ dir, env: {}, source: 'bench-watcher' });
  const errors: unknown[] = [];
  const { syncMirror, ...rest } = watchHostOf(store);
  const host = mirrorHook && syncMirror !== undefined ? { ...rest, syncMirror } : rest;
  const w = new Watcher(host, { onError: (e) => errors.push(e) }, (e) => onEvent(e, epochNow()));
  return {
    store,
    errors,
    close() {
      w.close();
      store.close();
    },
  };
}

interface Remote {
  /** From just before A's set() to B's receipt. */
  latency: Stats;
  /** From the end of A's set() (the commit is durable) to B's receipt. */
  afterCommit: Stats;
  /** A's set() alone. */
  commit: Stats;
  received: number;
  errors: number;
}

async function remote(dir: string, samples: number, mirrorHook: boolean): Promise<Remote> {
  const latencies = new Map<number, number>();
  let received = 0;
  const watching = withWatcher(
    dir,
    (e, at) => {
      if (e.key !== KEY) return;
      const v = e.newValue as { t: number; i: number };
      received++;
      if (v.i >= WARMUP) latencies.set(v.i, at - v.t);
    },
    mirrorHook,
  );
  const total = WARMUP + samples;
  const child = fork(SELF, ['writer', dir, String(total)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const done = new Promise<{ commitMs: number[] }>((res, rej) => {
    child.on('message', (m: { type?: string; commitMs?: number[] }) => {
      if (m.type === 'done') res(m as { commitMs: number[] });
    });
    child.once('exit', (code) => (code === 0 ? undefined : rej(new Error(`writer exited ${code}`))));
  });
  await sleep(200); // the writer opens the store
  child.send('go');
  const { commitMs } = await done;
  const deadline = Date.now() + 5000;
  while (received < total && Date.now() < deadline) await sleep(10);
  watching.close();
  const after = [...latencies].map(([i, ms]) => ms - (commitMs[i] ?? 0));
  return {
    latency: stats([...latencies.values()]),
    afterCommit: stats(after),
    commit: stats(commitMs.slice(WARMUP)),
    received,
    errors: watching.errors.length,
  };
}

async function local(dir: string, samples: number): Promise<Stats> {
  const init = openStore({ dir, env: {}, source: 'bench' });
  init.set('init', true); // the store exists, so the Watcher subscribes to local commits at once
  init.close();
  const latencies: number[] = [];
  const watching = withWatcher(dir, (e, at) => {
    if (e.key === `${KEY}.local`) latencies.push(at - (e.newValue as { t: number }).t);
  });
  for (let i = 0; i < WARMUP + samples; i++) {
    if (i === WARMUP) latencies.length = 0;
    watching.store.set(`${KEY}.local`, { t: epochNow(), i });
    await sleep(SPACING_MS);
  }
  await sleep(50);
  watching.close();
  return stats(latencies);
}

async function handEdit(dir: string): Promise<Stats | undefined> {
  const file = join(dir, 'config.json');
  const probe = openStore({ dir, env: {}, source: 'bench' });
  const hasMirror = watchHostOf(probe).syncMirror !== undefined;
  probe.set('edit.n', 0);
  probe.close(); // flushes the mirror export
  if (!hasMirror || !existsSync(file)) return undefined;
  const latencies: number[] = [];
  let pending: ((at: number) => void) | undefined;
  const watching = withWatcher(dir, (e, at) => {
    if (e.key === 'edit.n' && e.source === 'file') pending?.(at);
  });
  for (let i = 1; i <= EDIT_SAMPLES; i++) {
    const text = readFileSync(file, 'utf8');
    const next = text.replace(/"edit\.n": -?\d+/, `"edit.n": ${i}`);
    if (next === text) throw new Error(`cannot find "edit.n" in ${file}:\n${text}`);
    const got = new Promise<number>((res) => (pending = res));
    const t0 = epochNow();
    writeFileSync(file, next); // as an editor saves it
    const at = await Promise.race([got, sleep(5000).then(() => NaN)]);
    pending = undefined;
    latencies.push(at - t0);
    await sleep(150);
  }
  watching.close();
  return stats(latencies.filter((x) => !Number.isNaN(x)));
}

// ---------------------------------------------------------------------------

function fmt(ms: number): string {
  return Number.isNaN(ms) ? 'n/a' : `${ms.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const si = argv.indexOf('--samples');
  const samples = si >= 0 ? Number(argv[si + 1]) : 200;
  if (!(Number.isSafeInteger(samples) && samples > 0)) throw new Error('--samples must be a positive whole number');
  const root = mkdtempSync(join(tmpdir(), 'psmc-bench-watch-'));
  try {
    const dir = join(root, 'store');
    const init = openStore({ dir, env: {}, source: 'bench' });
    init.set('init', true);
    init.close();

    const r = await remote(dir, samples, true);
    const bare = await remote(dir, samples, false);
    const l = await local(join(root, 'local'), samples);
    const h = await handEdit(join(root, 'edit'));

    const row = (
      name: string,
      x: Stats | undefined,
      target: string,
    ): [string, string, string, string, string, string] => [
      name,
      String(x?.n ?? 0),
      fmt(x?.median ?? NaN),
      fmt(x?.p90 ?? NaN),
      fmt(x?.max ?? NaN),
      target,
    ];
    const rows = [
      row('remote: set() in A → event in B', r.latency, 'median ≤ 20 ms, max ≤ 100 ms'),
      row('  from the end of the set()', r.afterCommit, 'information'),
      row('  the set() alone (fsync)', r.commit, 'information'),
      row('remote, B without the mirror hook', bare.latency, 'information'),
      row('  from the end of the set()', bare.afterCommit, 'information'),
      row('local: set() → event, same process', l, 'information'),
      row('hand edit saved → event', h, h === undefined ? 'no mirror yet' : 'max ≤ 300 ms'),
    ];
    const remotePass = r.received === WARMUP + samples && r.latency.median <= 20 && r.latency.max <= 100;
    const editPass = h === undefined ? undefined : h.n === EDIT_SAMPLES && h.max <= 300;
    const header = ['measure', 'n', 'median', 'p90', 'max', 'target'];
    const widths = header.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]?.length ?? 0)));
    const line = (cells: readonly string[]): string =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    console.log(
      `psmc watch bench — ${platform()} ${release()}, ${cpus()[0]?.model ?? '?'} ×${cpus().length}, node ${process.version}, load ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log(
      `remote: ${r.received}/${WARMUP + samples} events received, ${r.errors} watcher errors — ${remotePass ? 'PASS' : 'MISS'}`,
    );
    if (editPass !== undefined) console.log(`hand edit: ${h?.n}/${EDIT_SAMPLES} — ${editPass ? 'PASS' : 'MISS'}`);

    const result = {
      date: new Date().toISOString(),
      platform: platform(),
      release: release(),
      cpu: cpus()[0]?.model,
      cpus: cpus().length,
      node: process.version,
      samples,
      spacingMs: SPACING_MS,
      loadavg: loadavg(),
      remote: { ...r, targets: { medianMs: 20, maxMs: 100 }, pass: remotePass },
      remoteWithoutMirrorHook: bare,
      local: l,
      handEdit: h === undefined ? null : { ...h, targets: { maxMs: 300 }, pass: editPass },
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'watch-latest.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`saved ${join('bench', 'results', 'watch-latest.json')}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'writer') {
  await writer(process.argv[3] ?? '', Number(process.argv[4]));
} else {
  await main();
}

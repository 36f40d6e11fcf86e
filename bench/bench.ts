/**
 * psmc benchmark (`npm run bench`). A script, not a test: it measures, prints
 * a table with targets and PASS/MISS, and saves the numbers as JSON to
 * bench/results/bench-<ISO date>.json and bench/results/latest.json.
 *
 * Measures (see the table for targets):
 * - get() on a warm handle at 10 / 1,000 / 10,000 / 100,000 keys (default
 *   freshnessMs 5, plus freshnessMs 0 for information);
 * - set() with durability 'full' (synchronous=FULL) at the same sizes, against
 *   a raw better-sqlite3 baseline with the same layout and the same pragmas,
 *   interleaved in the same run; durability 'normal' for information;
 * - one batch() of 100,000 keys;
 * - `psmc get KEY` cold start vs `node -e ""`;
 * - 4 processes × 500 compare-and-set increments of one key.
 *
 * Everything runs in temp dirs under os.tmpdir(), removed afterwards.
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../src/index.js';
import type { ChangeRequest } from '../src/core/change.js';
import { MIGRATIONS } from '../src/storage/sqlite/migrations.js';

// ---------------------------------------------------------------------------
// Setup

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const CLI = join(ROOT, 'bin', 'psmc.cjs');
const WORKER = join(HERE, 'increment-worker.js');

const SIZES = [10, 1_000, 10_000, 100_000] as const;
const GET_OPS = 2_000_000;
const GET_ROUNDS = 3;
const GET_OPS_INFO = 1_000_000; // hot set and plain-Map floor
const GET_OPS_FRESH0 = 100_000;
const HOT_KEYS = 1_000;
const SET_OPS = 2_000;
const SET_BLOCKS = 20; // the contenders alternate in blocks of SET_OPS / SET_BLOCKS
const SET_OPS_NORMAL = 2_000;
const SET_BUDGET_MS = 12_000; // per size, for the durable sets (psmc + raw); 'normal' gets half
const BATCH_KEYS = 100_000;
const BATCH_RUNS = 2; // each of psmc and raw, interleaved
const CLI_RUNS = 20;
const INC_PROCS = 4;
const INC_PER_PROC = 500;

const tempDirs: string[] = [];
function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `psmc-bench-${tag}-`));
  tempDirs.push(d);
  return d;
}
function cleanup(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

const now = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(now() - t0) / 1e6;

/** Deterministic PRNG (xorshift32) so every run reads the same key sequence. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function makeKeys(n: number): string[] {
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = `group${i % 97}.item${i}`;
  return keys;
}

function randomKeys(keys: readonly string[], n: number, seed: number): string[] {
  const r = rng(seed);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = keys[Math.floor(r() * keys.length)] as string;
  return out;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmt = (n: number, d = 1): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

type Verdict = 'PASS' | 'MISS' | 'info' | 'ERROR' | 'n/a';
interface Row {
  measure: string;
  result: string;
  target: string;
  verdict: Verdict;
}
const rows: Row[] = [];
function row(measure: string, result: string, target = '', verdict: Verdict = 'info'): void {
  rows.push({ measure, result, target, verdict });
}
const pass = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// get()

/** Wall and CPU time (user + system of this process) per op, in ns. CPU time is what other processes' load distorts least. */
interface Timing {
  wall: number;
  cpu: number;
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function timeGets(store: Store, seq: readonly string[]): Timing {
  let found = 0;
  const c0 = cpuNs();
  const t0 = now();
  for (let i = 0; i < seq.length; i++) {
    if (store.get(seq[i] as string) !== undefined) found++;
  }
  const ns = Number(now() - t0);
  const cpu = cpuNs() - c0;
  if (found !== seq.length) throw new Error(`get() missed ${seq.length - found} keys that exist`);
  return { wall: ns / seq.length, cpu: cpu / seq.length };
}

function medianTiming(ts: readonly Timing[]): Timing {
  return { wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) };
}

function timeMap(m: Map<string, { value: number }>, seq: readonly string[]): Timing {
  let found = 0;
  const c0 = cpuNs();
  const t0 = now();
  for (let i = 0; i < seq.length; i++) {
    if (m.get(seq[i] as string)?.value !== undefined) found++;
  }
  const ns = Number(now() - t0);
  const cpu = cpuNs() - c0;
  if (found !== seq.length) throw new Error('plain Map missed keys');
  return { wall: ns / seq.length, cpu: cpu / seq.length };
}

/** What one monotonic clock read costs here (get() does one per call to honour freshnessMs). */
function clockCost(): number {
  let x = 0;
  for (let i = 0; i < 100_000; i++) x += performance.now();
  const t0 = now();
  for (let i = 0; i < 1_000_000; i++) x += performance.now();
  const ns = Number(now() - t0) / 1_000_000;
  return x > 0 ? ns : ns;
}

// ---------------------------------------------------------------------------
// set(): psmc vs raw better-sqlite3

const UPSERT_SQL = `INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (@key, @value, @type, @revision, @updatedAt, @source)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, type = excluded.type, revision = excluded.revision,
    updated_at = excluded.updated_at, source = excluded.source`;
const HISTORY_SQL = `INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
  VALUES (@revision, @seq, @key, 'set', @oldValue, @newValue, @source, @at, NULL)`;

/** A raw better-sqlite3 database with psmc's table layout (migrations.ts), WAL and synchronous=FULL. */
function openRaw(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(MIGRATIONS[0] as string);
  db.prepare("INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 0, '0', 'raw', '')").run();
  return db;
}

/** The raw baseline for set(): one hand-written transaction per op. */
class RawBaseline {
  readonly db: Database.Database;
  #revision = 0;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #hist: Database.Statement;
  readonly #state: Database.Statement;

  constructor(file: string, keys: readonly string[]) {
    const db = openRaw(file);
    this.db = db;
    this.#upsert = db.prepare(UPSERT_SQL);
    this.#hist = db.prepare(HISTORY_SQL);
    this.#state = db.prepare('UPDATE state SET revision = ?, clock = ? WHERE id = 1');
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    // Populate like psmc's batch: one transaction, one revision, a history row per key.
    this.#revision = 1;
    const at = new Date().toISOString();
    db.transaction(() => {
      keys.forEach((key, seq) => {
        const value = String(seq);
        this.#upsert.run({ key, value, type: 'number', revision: 1, updatedAt: at, source: 'bench' });
        this.#hist.run({ revision: 1, seq, key, oldValue: null, newValue: value, source: 'bench', at });
      });
    }).immediate();
  }

  synchronous(level: 'FULL' | 'NORMAL'): void {
    this.db.pragma(`synchronous = ${level}`);
  }

  /** BEGIN IMMEDIATE; UPSERT entry; INSERT history; [UPDATE state;] COMMIT. */
  set(key: string, value: string, withState = false): void {
    const revision = ++this.#revision;
    const at = new Date().toISOString();
    this.#begin.run();
    try {
      this.#upsert.run({ key, value, type: 'number', revision, updatedAt: at, source: 'bench' });
      this.#hist.run({ revision, seq: 0, key, oldValue: null, newValue: value, source: 'bench', at });
      if (withState) this.#state.run(revision, at);
      this.#commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }
}

/** The raw baseline for batch(): one transaction; per key a row read (for the old value), an upsert and a history row. */
function rawBatch(file: string, keys: readonly string[], value: (i: number) => unknown): number {
  const db = openRaw(file);
  const read = db.prepare('SELECT key, value, type, revision, updated_at, source FROM entries WHERE key = ?');
  const upsert = db.prepare(UPSERT_SQL);
  const hist = db.prepare(HISTORY_SQL);
  const state = db.prepare('UPDATE state SET revision = ?, clock = ? WHERE id = 1');
  const t0 = now();
  const at = new Date().toISOString();
  db.transaction(() => {
    keys.forEach((key, seq) => {
      const old = read.get(key) as { value: string } | undefined;
      const text = JSON.stringify(value(seq));
      upsert.run({ key, value: text, type: 'object', revision: 1, updatedAt: at, source: 'bench' });
      hist.run({ revision: 1, seq, key, oldValue: old?.value ?? null, newValue: text, source: 'bench', at });
    });
    state.run(1, at);
  }).immediate();
  const ms = msSince(t0);
  db.close();
  return ms;
}

let valueCounter = 1_000_000; // every set writes a value never written before, so no set is a no-op

type Setter = (key: string) => void;

/**
 * Runs the setters over `seq` interleaved in blocks (rotating which goes first); returns µs/op for each, and
 * `opsEach`. Stops early (after at least 4 blocks) once `budgetMs` is spent, so slow fsyncs cannot blow the run time.
 */
function timeSets(
  setters: Record<string, Setter>,
  seq: readonly string[],
  blocks: number,
  budgetMs = Infinity,
): Record<string, number> {
  const names = Object.keys(setters);
  const per = Math.floor(seq.length / blocks);
  const ns: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const start = now();
  let done = 0;
  for (let b = 0; b < blocks; b++) {
    if (b >= 4 && msSince(start) > budgetMs) break;
    done++;
    const part = seq.slice(b * per, (b + 1) * per);
    for (let j = 0; j < names.length; j++) {
      const name = names[(b + j) % names.length] as string;
      const fn = setters[name] as Setter;
      const t0 = now();
      for (const k of part) fn(k);
      ns[name] = (ns[name] as number) + Number(now() - t0);
    }
  }
  return { ...Object.fromEntries(names.map((n) => [n, (ns[n] as number) / (per * done) / 1e3])), opsEach: per * done };
}

// ---------------------------------------------------------------------------
// CLI cold start

function coldStart(dir: string, key: string): Record<string, unknown> {
  if (!existsSync(CLI)) {
    row('cli: psmc get cold start @100k', 'CLI missing (bin/psmc.cjs)', 'ratio ≤ 1.5 vs node -e ""', 'n/a');
    return { status: 'CLI missing' };
  }
  const runPsmc = (): { ms: number; ok: boolean; out: string; err: string } => {
    const t0 = now();
    const r = spawnSync(process.execPath, ['bin/psmc.cjs', 'get', key, '--store', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const ms = msSince(t0);
    return { ms, ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? r.error?.message ?? '' };
  };
  const runNode = (): number => {
    const t0 = now();
    spawnSync(process.execPath, ['-e', ''], { cwd: ROOT });
    return msSince(t0);
  };
  // Warm-up (page cache, the node binary, the store files).
  const probe = runPsmc();
  runNode();
  if (!probe.ok) {
    const why = (probe.err || probe.out).trim().split('\n').slice(0, 3).join(' | ');
    row('cli: psmc get cold start @100k', `CLI failed: ${why.slice(0, 120)}`, 'ratio ≤ 1.5 vs node -e ""', 'ERROR');
    return { status: 'CLI failed', stderr: probe.err, stdout: probe.out };
  }
  runPsmc();
  runNode();
  const psmcMs: number[] = [];
  const nodeMs: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    if (i % 2 === 0) {
      nodeMs.push(runNode());
      const p = runPsmc();
      if (!p.ok) throw new Error(`psmc get failed on run ${i}: ${p.err}`);
      psmcMs.push(p.ms);
    } else {
      const p = runPsmc();
      if (!p.ok) throw new Error(`psmc get failed on run ${i}: ${p.err}`);
      psmcMs.push(p.ms);
      nodeMs.push(runNode());
    }
  }
  const res = {
    status: 'ok',
    runs: CLI_RUNS,
    output: probe.out.trim().slice(0, 200),
    psmc: { medianMs: median(psmcMs), p90Ms: percentile(psmcMs, 90), samples: psmcMs },
    node: { medianMs: median(nodeMs), p90Ms: percentile(nodeMs, 90), samples: nodeMs },
    ratioMedian: median(psmcMs) / median(nodeMs),
    ratioP90: percentile(psmcMs, 90) / percentile(nodeMs, 90),
  };
  row('cli: node -e "" (baseline)', `median ${fmt(res.node.medianMs)} ms, p90 ${fmt(res.node.p90Ms)} ms`);
  row('cli: psmc get KEY @100k keys', `median ${fmt(res.psmc.medianMs)} ms, p90 ${fmt(res.psmc.p90Ms)} ms`);
  row(
    'cli: ratio psmc / node (median)',
    `${fmt(res.ratioMedian, 2)} (p90 ${fmt(res.ratioP90, 2)})`,
    '≤ 1.5',
    pass(res.ratioMedian <= 1.5),
  );
  return res;
}

// ---------------------------------------------------------------------------
// 4-process increment

interface WorkerReport {
  type: 'done';
  successes: number;
  conflicts: number;
  retries: number;
  errors: number;
  errorMessages: string[];
  elapsedMs: number;
}

async function incrementTest(freshnessMs: number | undefined): Promise<Record<string, unknown>> {
  const dir = tempDir('inc');
  const setup = openStore({ dir, env: {} });
  setup.set('counter', 0);
  setup.close();
  const children = Array.from({ length: INC_PROCS }, () =>
    fork(WORKER, [dir, String(INC_PER_PROC), ...(freshnessMs === undefined ? [] : [String(freshnessMs)])], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    }),
  );
  const ready = children.map(
    (c) =>
      new Promise<void>((res, rej) => {
        c.once('error', rej);
        c.on('message', (m: { type?: string }) => {
          if (m?.type === 'ready') res();
        });
        c.once('exit', (code) => rej(new Error(`worker exited early with ${code}`)));
      }),
  );
  await Promise.all(ready);
  const done = children.map(
    (c) =>
      new Promise<WorkerReport>((res, rej) => {
        c.on('message', (m: WorkerReport) => {
          if (m?.type === 'done') res(m);
        });
        c.once('exit', (code) => {
          if (code !== 0) rej(new Error(`worker exited with ${code}`));
        });
      }),
  );
  const t0 = now();
  for (const c of children) c.send('go');
  const reports = await Promise.all(done);
  const wallMs = msSince(t0);
  await Promise.all(
    children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))),
  );

  const check = openStore({ dir, env: {}, freshnessMs: 0 });
  const final = check.get('counter');
  const sets = check.history('counter').filter((r) => r.op === 'set').length;
  const integrity = check.checkIntegrity();
  check.close();
  const successes = reports.reduce((a, r) => a + r.successes, 0);
  const errors = reports.reduce((a, r) => a + r.errors, 0);
  const retries = reports.reduce((a, r) => a + r.retries, 0);
  const conflicts = reports.reduce((a, r) => a + r.conflicts, 0);
  const finalNum = typeof final === 'number' ? final : Number.NaN;
  return {
    freshnessMs: freshnessMs ?? 5,
    processes: INC_PROCS,
    perProcess: INC_PER_PROC,
    finalValue: final,
    expected: INC_PROCS * INC_PER_PROC,
    reportedSuccesses: successes,
    lostUpdates: successes - finalNum,
    errors,
    retries,
    conflicts,
    errorMessages: reports.flatMap((r) => r.errorMessages).slice(0, 20),
    historySetRecords: sets,
    integrity: integrity.length === 0 ? 'ok' : integrity,
    wallMs,
    incrementsPerSec: (successes / wallMs) * 1000,
  };
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const started = now();
  const mem = new Database(':memory:');
  const sqliteVersion = mem.prepare('SELECT sqlite_version()').pluck().get() as string;
  mem.close();
  let tmpFs = 'unknown';
  try {
    const t = statfsSync(tmpdir()).type;
    tmpFs =
      t === 0xef53
        ? 'ext2/3/4'
        : t === 0x01021994
          ? 'tmpfs'
          : t === 0x794c7630
            ? 'overlayfs'
            : t === 0x58465342
              ? 'xfs'
              : t === 0x9123683e
                ? 'btrfs'
                : `0x${t.toString(16)}`;
  } catch {
    /* statfs is not everywhere */
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()}`,
    node: process.version,
    sqlite: sqliteVersion,
    tmpdir: tmpdir(),
    tmpdirFs: tmpFs,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  log(`machine: ${JSON.stringify(machine)}`);

  const results: Record<string, unknown> = { machine };
  const getRes: Record<string, unknown>[] = [];
  const setRes: Record<string, unknown>[] = [];
  let bigDir = '';
  let bigKey = '';

  const clockNs = clockCost();
  results['clockReadNs'] = clockNs;

  for (const n of SIZES) {
    log(`size ${fmtInt(n)}: populate`);
    const dir = tempDir(`n${n}`);
    const keys = makeKeys(n);
    const store = openStore({ dir, env: {} });
    const changes: ChangeRequest[] = keys.map((key, i) => ({ op: 'set', key, value: i }));
    const tp = now();
    store.batch(changes, { source: 'bench' });
    const populateMs = msSince(tp);

    // get(): default freshness (5 ms), uniform random over all N keys.
    log(`size ${fmtInt(n)}: get`);
    const seq = randomKeys(keys, GET_OPS, 0x9e3779b9 ^ n);
    timeGets(store, seq.slice(0, 300_000)); // warm-up: JIT and caches
    const rounds: Timing[] = [];
    for (let r = 0; r < GET_ROUNDS; r++) rounds.push(timeGets(store, seq));
    const get = medianTiming(rounds);

    // Information: a plain Map of the same N entries read with the same sequence (the memory floor of any
    // in-process cache), and get() over a hot set of min(N, 1,000) keys of the same store (the code path alone).
    const floor = new Map(keys.map((k, i) => [k, { value: i }]));
    timeMap(floor, seq.slice(0, 300_000));
    const mapT = timeMap(floor, seq.slice(0, GET_OPS_INFO));
    const hot = randomKeys(keys, Math.min(n, HOT_KEYS), 0x27d4eb2f ^ n);
    const hotSeq = randomKeys(hot, GET_OPS_INFO, 0x165667b1 ^ n);
    timeGets(store, hotSeq.slice(0, 300_000));
    const hotT = timeGets(store, hotSeq);

    // get(): freshnessMs 0 (a PRAGMA data_version per read), information only.
    const fresh0 = openStore({ dir, env: {}, freshnessMs: 0 });
    const seq0 = seq.slice(0, GET_OPS_FRESH0);
    timeGets(fresh0, seq0.slice(0, 20_000));
    const get0 = timeGets(fresh0, seq0);
    fresh0.close();
    getRes.push({
      keys: n,
      ops: GET_OPS,
      nsPerOp: get.wall,
      cpuNsPerOp: get.cpu,
      rounds: rounds,
      opsPerSec: 1e9 / get.wall,
      cpuOpsPerSec: 1e9 / get.cpu,
      plainMap: { ops: GET_OPS_INFO, nsPerOp: mapT.wall, cpuNsPerOp: mapT.cpu },
      hotSet: {
        ops: GET_OPS_INFO,
        keys: hot.length,
        nsPerOp: hotT.wall,
        cpuNsPerOp: hotT.cpu,
        opsPerSec: 1e9 / hotT.wall,
      },
      fresh0: { ops: GET_OPS_FRESH0, nsPerOp: get0.wall, cpuNsPerOp: get0.cpu, opsPerSec: 1e9 / get0.wall },
      populateMs,
    });

    // set(): durable (synchronous=FULL) vs raw better-sqlite3, interleaved.
    log(`size ${fmtInt(n)}: set (full) vs raw`);
    const raw = new RawBaseline(join(dir, 'raw-baseline.db'), keys);
    const fullSetters: Record<string, Setter> = {
      psmc: (k) => void store.set(k, valueCounter++),
      raw: (k) => raw.set(k, String(valueCounter++)),
    };
    timeSets(fullSetters, randomKeys(keys, 100, 7 ^ n), 2); // warm-up
    const full = timeSets(fullSetters, randomKeys(keys, SET_OPS, 0x85ebca6b ^ n), SET_BLOCKS, SET_BUDGET_MS);
    store.close();

    // set(): durability 'normal', information only. A new handle: the shared connection is per file and per
    // process, so the 'full' handle has to be closed first (see report). Also raw + the state-row update psmc does.
    log(`size ${fmtInt(n)}: set (normal) vs raw`);
    const normalStore = openStore({ dir, env: {}, durability: 'normal' });
    raw.synchronous('NORMAL');
    const normalSetters: Record<string, Setter> = {
      psmc: (k) => void normalStore.set(k, valueCounter++),
      raw: (k) => raw.set(k, String(valueCounter++)),
      rawState: (k) => raw.set(k, String(valueCounter++), true),
    };
    timeSets(normalSetters, randomKeys(keys, 150, 11 ^ n), 3);
    const normal = timeSets(normalSetters, randomKeys(keys, SET_OPS_NORMAL, 13 ^ n), SET_BLOCKS, SET_BUDGET_MS / 2);
    normalStore.close();
    raw.close();
    setRes.push({ keys: n, ops: SET_OPS, full, normal });
    if (n === 100_000) {
      bigDir = dir;
      bigKey = keys[54_321] as string;
    }
  }
  results['get'] = getRes;
  results['set'] = setRes;

  // --- get rows (verdicts on wall time; CPU time shown alongside, since other processes' load inflates wall time)
  type GetR = {
    nsPerOp: number;
    cpuNsPerOp: number;
    opsPerSec: number;
    cpuOpsPerSec: number;
    plainMap: { nsPerOp: number; cpuNsPerOp: number };
    hotSet: { keys: number; nsPerOp: number; cpuNsPerOp: number; opsPerSec: number };
    fresh0: { nsPerOp: number; cpuNsPerOp: number; opsPerSec: number };
  };
  const getAt = (n: number) => getRes.find((g) => g['keys'] === n) as unknown as GetR;
  for (const n of SIZES) {
    const g = getAt(n);
    row(
      `get @${fmtInt(n)} keys (freshnessMs 5)`,
      `${fmtInt(g.opsPerSec)} ops/s, ${fmt(g.nsPerOp)} ns/op (cpu ${fmt(g.cpuNsPerOp)} ns)`,
      '≥ 1,000,000 ops/s',
      pass(g.opsPerSec >= 1_000_000),
    );
  }
  const getRatio = getAt(100_000).nsPerOp / getAt(10).nsPerOp;
  const getRatioCpu = getAt(100_000).cpuNsPerOp / getAt(10).cpuNsPerOp;
  row('get cost ratio @100k / @10', `${fmt(getRatio, 2)} (cpu ${fmt(getRatioCpu, 2)})`, '≤ 1.3', pass(getRatio <= 1.3));
  for (const n of SIZES) {
    const g = getAt(n);
    row(
      `  info: get @${fmtInt(n)}, hot set of ${fmtInt(g.hotSet.keys)} keys`,
      `${fmt(g.hotSet.nsPerOp)} ns/op (cpu ${fmt(g.hotSet.cpuNsPerOp)} ns)`,
    );
  }
  const hotRatio = getAt(100_000).hotSet.cpuNsPerOp / getAt(10).hotSet.cpuNsPerOp;
  row('  info: get hot-set cost ratio @100k / @10 (cpu)', fmt(hotRatio, 2));
  for (const n of SIZES) {
    const g = getAt(n);
    row(
      `  info: plain Map.get floor @${fmtInt(n)}, same keys`,
      `${fmt(g.plainMap.nsPerOp)} ns/op (cpu ${fmt(g.plainMap.cpuNsPerOp)} ns; get − floor ${fmt(g.cpuNsPerOp - g.plainMap.cpuNsPerOp)} ns cpu)`,
    );
  }
  const mapRatio = getAt(100_000).plainMap.cpuNsPerOp / getAt(10).plainMap.cpuNsPerOp;
  row('  info: plain Map.get cost ratio @100k / @10 (cpu)', fmt(mapRatio, 2));
  row('  info: one clock read (performance.now)', `${fmt(clockNs)} ns (get() does one per call)`);
  for (const n of SIZES) {
    const g = getAt(n);
    row(
      `  info: get @${fmtInt(n)} (freshnessMs 0)`,
      `${fmtInt(g.fresh0.opsPerSec)} ops/s, ${fmt(g.fresh0.nsPerOp)} ns/op`,
    );
  }
  results['getRatio100kOver10'] = {
    uniform: getRatio,
    uniformCpu: getRatioCpu,
    hotSetCpu: hotRatio,
    plainMapCpu: mapRatio,
  };

  // --- set rows
  type SetR = { keys: number; full: Record<string, number>; normal: Record<string, number> };
  const setAt = (n: number) => setRes.find((s) => s['keys'] === n) as unknown as SetR;
  const us = (r: Record<string, number>, k: string): number => r[k] as number;
  for (const n of SIZES) {
    const f = setAt(n).full;
    const ratio = us(f, 'raw') / us(f, 'psmc');
    row(
      `set full @${fmtInt(n)}: psmc vs raw ops/s`,
      `${fmtInt(1e6 / us(f, 'psmc'))} vs ${fmtInt(1e6 / us(f, 'raw'))} (${fmt(us(f, 'psmc'))} vs ${fmt(us(f, 'raw'))} µs/op, ${fmtInt(us(f, 'opsEach'))} each)`,
    );
    row(`set full @${fmtInt(n)}: ratio psmc/raw`, fmt(ratio, 2), '≥ 0.8', pass(ratio >= 0.8));
  }
  const setFlat = us(setAt(100_000).full, 'psmc') / us(setAt(10).full, 'psmc');
  const rawFlat = us(setAt(100_000).full, 'raw') / us(setAt(10).full, 'raw');
  row(
    'set full cost ratio @100k / @10',
    `${fmt(setFlat, 2)} (raw: ${fmt(rawFlat, 2)})`,
    'flat (≤ 1.3)',
    pass(setFlat <= 1.3),
  );
  for (const n of SIZES) {
    const m = setAt(n).normal;
    row(
      `  info: set normal @${fmtInt(n)}: psmc / raw / raw+state`,
      `${fmtInt(1e6 / us(m, 'psmc'))} / ${fmtInt(1e6 / us(m, 'raw'))} / ${fmtInt(1e6 / us(m, 'rawState'))} ops/s (psmc/raw ${fmt(us(m, 'raw') / us(m, 'psmc'), 2)})`,
    );
  }
  const relFlat = setFlat / rawFlat;
  row('  info: set full flatness relative to raw (psmc ratio ÷ raw ratio)', fmt(relFlat, 2));
  results['setFlatness100kOver10'] = { psmc: setFlat, raw: rawFlat, psmcOverRaw: relFlat };

  // --- batch: psmc and raw interleaved, each into a fresh store
  log('batch of 100,000 keys');
  const batchMs: number[] = [];
  const rawBatchMs: number[] = [];
  const batchCpuMs: number[] = [];
  const bkeys = makeKeys(BATCH_KEYS);
  const bvalue = (i: number) => ({ n: i, label: `item ${i}` });
  for (let r = 0; r < BATCH_RUNS; r++) {
    const d = tempDir('batch');
    const runPsmc = (): void => {
      const st = openStore({ dir: join(d, 'psmc'), env: {} });
      const changes: ChangeRequest[] = bkeys.map((key, i) => ({ op: 'set', key, value: bvalue(i) }));
      const c0 = cpuNs();
      const t0 = now();
      st.batch(changes);
      batchMs.push(msSince(t0));
      batchCpuMs.push((cpuNs() - c0) / 1e6);
      st.close();
    };
    const runRaw = (): void => void rawBatchMs.push(rawBatch(join(d, 'raw.db'), bkeys, bvalue));
    if (r % 2 === 0) {
      runPsmc();
      runRaw();
    } else {
      runRaw();
      runPsmc();
    }
    rmSync(d, { recursive: true, force: true });
  }
  const batchMed = median(batchMs);
  const rawBatchMed = median(rawBatchMs);
  const batchRate = (BATCH_KEYS / batchMed) * 1000;
  const rawBatchRate = (BATCH_KEYS / rawBatchMed) * 1000;
  results['batch'] = {
    keys: BATCH_KEYS,
    runs: BATCH_RUNS,
    psmc: { ms: batchMs, cpuMs: batchCpuMs, medianMs: batchMed, keysPerSec: batchRate },
    raw: { ms: rawBatchMs, medianMs: rawBatchMed, keysPerSec: rawBatchRate },
  };
  row(
    'batch() 100,000 keys, one commit',
    `${fmtInt(batchRate)} keys/s (${fmtInt(batchMed)} ms wall, ${fmtInt(median(batchCpuMs))} ms cpu; median of ${BATCH_RUNS})`,
    '≥ 100,000 keys/s',
    pass(batchRate >= 100_000),
  );
  row(
    '  info: raw better-sqlite3, same 100,000 rows',
    `${fmtInt(rawBatchRate)} keys/s (${fmtInt(rawBatchMed)} ms; psmc/raw ${fmt(rawBatchMed / batchMed, 2)})`,
  );

  // --- CLI cold start
  log('cli cold start');
  try {
    results['cli'] = coldStart(bigDir, bigKey);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    row('cli: psmc get cold start @100k', `ERROR: ${msg.slice(0, 100)}`, '≤ 1.5', 'ERROR');
    results['cli'] = { status: 'error', message: msg };
  }

  // --- 4-process increment
  log('4-process increment');
  let inc: Record<string, unknown>;
  try {
    const r = await incrementTest(undefined);
    inc = r;
    const exact = r['finalValue'] === 2000 && r['lostUpdates'] === 0 && r['errors'] === 0;
    row(
      'increment 4 procs × 500 CAS: final value',
      `${String(r['finalValue'])} (lost ${String(r['lostUpdates'])}, errors ${String(r['errors'])}, history ${String(r['historySetRecords'])} sets)`,
      'exactly 2000, 0 lost, 0 errors',
      pass(exact),
    );
    row(
      'increment 4 procs × 500 CAS: throughput',
      `${fmtInt(r['incrementsPerSec'] as number)} incr/s, ${fmtInt(r['wallMs'] as number)} ms wall, ${fmtInt(r['retries'] as number)} retries`,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    row('increment 4 procs × 500 CAS', `ERROR: ${msg.slice(0, 100)}`, 'exactly 2000', 'ERROR');
    inc = { error: msg };
  }
  results['increment'] = inc;

  const totalS = msSince(started) / 1000;
  results['totalSeconds'] = totalS;
  results['loadAverageAtEnd'] = loadavg().map((x) => Math.round(x * 100) / 100);
  results['table'] = rows;

  // --- print
  const head: Row = { measure: 'measure', result: 'result', target: 'target', verdict: 'PASS' };
  const w = {
    measure: Math.max(head.measure.length, ...rows.map((r) => r.measure.length)),
    result: Math.max(head.result.length, ...rows.map((r) => r.result.length)),
    target: Math.max(head.target.length, ...rows.map((r) => r.target.length)),
  };
  const line = (m: string, r: string, t: string, v: string): string =>
    `${m.padEnd(w.measure)} | ${r.padEnd(w.result)} | ${t.padEnd(w.target)} | ${v}`;
  const out: string[] = [];
  out.push(`psmc bench — ${new Date().toISOString()}`);
  out.push(
    `cpu: ${machine.cpu} × ${machine.cores} · node ${machine.node} · sqlite ${machine.sqlite} · ${machine.platform} · tmp ${machine.tmpdir} (${machine.tmpdirFs})`,
  );
  const la = results['loadAverageAtEnd'] as number[];
  out.push(
    `load average: start ${machine.loadAverageAtStart.join(' ')} · end ${la.join(' ')}` +
      (Math.max(...machine.loadAverageAtStart, ...la) > machine.cores
        ? ` — WARNING: the machine was busy (load > ${machine.cores} cores); wall times are inflated, see the cpu figures`
        : ''),
  );
  out.push('');
  out.push(line('measure', 'result', 'target', 'pass/fail'));
  out.push(`${'-'.repeat(w.measure)}-+-${'-'.repeat(w.result)}-+-${'-'.repeat(w.target)}-+-${'-'.repeat(9)}`);
  for (const r of rows) out.push(line(r.measure, r.result, r.target, r.verdict));
  out.push('');
  const misses = rows.filter((r) => r.verdict === 'MISS' || r.verdict === 'ERROR').length;
  out.push(`${misses === 0 ? 'all targets met' : `${misses} target(s) MISSED`} · total ${fmt(totalS)} s`);
  console.log(out.join('\n'));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2);
  const file = join(RESULTS_DIR, `bench-${stamp}.json`);
  writeFileSync(file, json + '\n');
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json + '\n');
  console.log(`saved ${file} and bench/results/latest.json`);
}

try {
  await main();
} finally {
  cleanup();
}

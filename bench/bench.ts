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
import { rmSync, statfsSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../src/index.js';
import type { ChangeRequest } from '../src/core/change.js';
import {
  cleanup,
  fmt,
  fmtInt,
  log,
  makeKeys,
  median,
  msSince,
  now,
  pass,
  randomKeys,
  row,
  rows,
  saveResults,
  tableLines,
  tempDir,
} from './common.js';
import { RawBaseline, rawBatch } from './raw-baseline.js';
import { coldStart, incrementTest } from './processes.js';

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
  out.push(...tableLines(rows));
  out.push('');
  const misses = rows.filter((r) => r.verdict === 'MISS' || r.verdict === 'ERROR').length;
  out.push(`${misses === 0 ? 'all targets met' : `${misses} target(s) MISSED`} · total ${fmt(totalS)} s`);
  console.log(out.join('\n'));

  const file = saveResults('bench', results, 'latest.json');
  console.log(`saved ${file} and bench/results/latest.json`);
}

try {
  await main();
} finally {
  cleanup();
}

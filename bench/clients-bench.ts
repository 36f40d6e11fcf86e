/**
 * The cross-language client bench (part of `npm run bench`; alone: `npm run build && node
 * dist/bench/clients-bench.js [--quick]`). A script, not a test: it measures, prints a table with
 * the targets of issue 4 and saves JSON to bench/results/clients-<date>.json and
 * clients-latest.json.
 *
 * 1. Cold start, medians of interleaved runs on one store of 1,000 keys:
 *    `psmc get`, `python3 -m psmc get`, `psmc-rs get`, against `node -e ""`, `python3 -c pass`,
 *    the `sqlite3` CLI reading the same row (when installed) and `git config --get`.
 * 2. Warm-handle throughput, the same workload in each language (a fresh store, 1,000 keys; gets
 *    cycling over them; durable sets of one key, mirror on): the TypeScript library in this
 *    process, Python through bench/clients-bench.py, Rust through the example
 *    clients/rust/examples/clients_bench.rs. Rounds alternate the languages; the median round
 *    counts.
 *
 * Targets: psmc-rs get ≤ 10 ms median; python get ≤ 1.5 × python3 -c pass; Python and Rust
 * get/set ≥ 50% of TypeScript's. A missing python3 or cargo makes its rows n/a (the parity tests,
 * not the bench, insist on them).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/index.js';
import { childEnv, ensurePython, ensureRust, pythonExe, PY_SRC, TS_BIN } from '../test/parity/tools.js';
import {
  cleanup,
  fmt,
  fmtInt,
  log,
  median,
  msSince,
  now,
  pass,
  percentile,
  ROOT,
  row,
  rows,
  saveResults,
  tableLines,
  tempDir,
} from './common.js';

const QUICK = process.argv.includes('--quick');
const COLD_RUNS = QUICK ? 10 : 30;
const ROUNDS = QUICK ? 1 : 3;
const GET_OPS = QUICK ? 50_000 : 200_000;
const SET_OPS = QUICK ? 300 : 1_000;
const KEYS = 1000;
const KEY = 'display.units';

interface Cold {
  label: string;
  argv: [string, ...string[]];
  /** What stdout must be (trimmed), so a failing command is not timed as a fast one. */
  expect: string;
  /** Replaces the shared environment for this command. */
  env?: Record<string, string>;
}

interface ColdResult {
  medianMs: number;
  p90Ms: number;
  samples: number[];
}

function which(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.error === undefined;
}

function runOnce(c: Cold, env: Record<string, string>): number {
  const t0 = now();
  const r = spawnSync(c.argv[0], c.argv.slice(1), { env: c.env ?? env, encoding: 'utf8', cwd: ROOT });
  const ms = msSince(t0);
  if (r.error !== undefined || r.status !== 0 || r.stdout.trim() !== c.expect) {
    throw new Error(
      `${c.label}: exit ${String(r.status)}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, ` +
        `stderr ${JSON.stringify((r.stderr ?? r.error?.message ?? '').slice(0, 400))}`,
    );
  }
  return ms;
}

/** Interleaved cold starts: every round runs each command once, in a rotating order. */
function coldStarts(cmds: readonly Cold[], env: Record<string, string>): Map<string, ColdResult> {
  for (const c of cmds) for (let i = 0; i < 2; i++) runOnce(c, env); // warm-up: page cache, binaries
  const samples = new Map<string, number[]>(cmds.map((c) => [c.label, []]));
  for (let round = 0; round < COLD_RUNS; round++) {
    for (let j = 0; j < cmds.length; j++) {
      const c = cmds[(round + j) % cmds.length]!;
      samples.get(c.label)!.push(runOnce(c, env));
    }
  }
  return new Map(
    [...samples].map(([label, s]) => [label, { medianMs: median(s), p90Ms: percentile(s, 90), samples: s }]),
  );
}

interface Throughput {
  getOpsPerSec: number;
  setOpsPerSec: number;
}

function parseThroughput(label: string, stdout: string): Throughput {
  const m = JSON.parse(stdout.trim().split('\n').pop() ?? '') as {
    get: { ops: number; seconds: number };
    set: { ops: number; seconds: number };
  };
  if (m.get.ops !== GET_OPS || m.set.ops !== SET_OPS) throw new Error(`${label}: unexpected report ${stdout}`);
  return { getOpsPerSec: m.get.ops / m.get.seconds, setOpsPerSec: m.set.ops / m.set.seconds };
}

/** The TypeScript library, in this process: the workload of clients-bench.py and clients_bench.rs. */
function tsThroughput(dir: string): Throughput {
  const store = openStore({ dir, env: {} });
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `bench.k${i}`);
    store.batch(keys.map((key, i) => ({ op: 'set' as const, key, value: `value ${i}` })));
    let found = 0;
    let t0 = now();
    for (let i = 0; i < GET_OPS; i++) if (store.get(keys[i % KEYS]!) !== undefined) found++;
    const getS = msSince(t0) / 1000;
    if (found !== GET_OPS) throw new Error(`TS get missed ${GET_OPS - found} keys`);
    t0 = now();
    for (let i = 0; i < SET_OPS; i++) store.set('bench.counter', i);
    const setS = msSince(t0) / 1000;
    return { getOpsPerSec: GET_OPS / getS, setOpsPerSec: SET_OPS / setS };
  } finally {
    store.close();
  }
}

function childThroughput(label: string, argv: [string, ...string[]], env: Record<string, string>): Throughput {
  const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', timeout: 600_000 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${label}: exit ${String(r.status)} ${r.error?.message ?? ''}\n${r.stderr}`);
  }
  return parseThroughput(label, r.stdout);
}

function main(): void {
  const results: Record<string, unknown> = {
    machine: {
      platform: platform(),
      release: release(),
      cpus: cpus().length,
      loadavg: loadavg(),
      node: process.version,
    },
    settings: { quick: QUICK, coldRuns: COLD_RUNS, rounds: ROUNDS, getOps: GET_OPS, setOps: SET_OPS, keys: KEYS },
  };
  const home = tempDir('clients-home');
  const env = childEnv(home);

  let python: string | undefined;
  try {
    python = ensurePython();
  } catch (e) {
    results['python'] = { status: 'n/a', reason: (e as Error).message };
    log(`python: ${(e as Error).message}`);
  }
  let rust: { psmcRs: string; bench: string } | undefined;
  try {
    log('cargo build --release (psmc-rs, examples/clients_bench); up to date in seconds');
    const built = ensureRust({ examples: ['clients_bench'] });
    rust = { psmcRs: built.psmcRs, bench: built.examples['clients_bench']! };
  } catch (e) {
    results['rust'] = { status: 'n/a', reason: (e as Error).message };
    log(`rust: ${(e as Error).message}`);
  }

  // --- 1. Cold start ---------------------------------------------------------------------------
  const store = join(tempDir('clients-cold'), 'store');
  {
    const s = openStore({ dir: store, env: {} });
    s.batch(
      Array.from({ length: KEYS - 1 }, (_, i) => ({ op: 'set' as const, key: `bench.k${i}`, value: `value ${i}` })),
    );
    s.set(KEY, 'metric');
    s.close();
  }
  const gitConfig = join(home, 'gitconfig');
  writeFileSync(gitConfig, '[display]\n\tunits = metric\n');
  const cmds: Cold[] = [
    { label: 'node -e ""', argv: [process.execPath, '-e', ''], expect: '' },
    { label: 'psmc get', argv: [process.execPath, TS_BIN, 'get', KEY, '--store', store], expect: 'metric' },
    { label: 'git config --get', argv: ['git', 'config', '--file', gitConfig, '--get', KEY], expect: 'metric' },
  ];
  if (python !== undefined) {
    // As after `pip install`, which compiles every module: bytecode is cached (in a temp dir, so
    // the checkout stays clean), whatever PYTHONDONTWRITEBYTECODE says in the caller's shell.
    const { PYTHONDONTWRITEBYTECODE: _compileEveryStart, ...rest } = env;
    const installed = { ...rest, PYTHONPYCACHEPREFIX: tempDir('clients-pycache') };
    cmds.push({ label: 'python3 -c pass', argv: [pythonExe(), '-c', 'pass'], expect: '', env: installed });
    cmds.push({
      label: 'python3 -m psmc get',
      argv: [pythonExe(), '-m', 'psmc', 'get', KEY, '--store', store],
      expect: 'metric',
      env: installed,
    });
    // For reference: a source checkout under PYTHONDONTWRITEBYTECODE=1 compiles every module at every start.
    cmds.push({
      label: 'python3 -m psmc get (no .pyc)',
      argv: [pythonExe(), '-m', 'psmc', 'get', KEY, '--store', store],
      expect: 'metric',
    });
  }
  if (rust !== undefined)
    cmds.push({ label: 'psmc-rs get', argv: [rust.psmcRs, 'get', KEY, '--store', store], expect: 'metric' });
  const sqlite = which('sqlite3');
  if (sqlite) {
    cmds.push({
      label: 'sqlite3 (same row)',
      argv: ['sqlite3', join(store, 'psmc.db'), `SELECT json_extract(value, '$') FROM entries WHERE key = '${KEY}'`],
      expect: 'metric',
    });
  }
  log(`cold start: ${cmds.length} commands × ${COLD_RUNS} interleaved runs`);
  const cold = coldStarts(cmds, env);
  results['coldStart'] = Object.fromEntries(cold);
  results['coldStartNotes'] = { sqlite3: sqlite ? 'measured' : 'not installed', pythonPath: PY_SRC };
  const ms = (label: string): number | undefined => cold.get(label)?.medianMs;
  for (const c of cmds) {
    const r = cold.get(c.label)!;
    row(`cold: ${c.label}`, `median ${fmt(r.medianMs)} ms, p90 ${fmt(r.p90Ms)} ms`);
  }
  const rsMs = ms('psmc-rs get');
  row(
    'cold: psmc-rs get (median)',
    rsMs === undefined ? 'n/a (no cargo)' : `${fmt(rsMs, 2)} ms`,
    '≤ 10 ms',
    rsMs === undefined ? 'n/a' : pass(rsMs <= 10),
  );
  const sqMs = ms('sqlite3 (same row)');
  if (rsMs !== undefined && sqMs !== undefined) {
    // Load-independent reading of the 10 ms target: the reference is sqlite3 at 3.7 ms.
    row('cold: psmc-rs get / sqlite3 CLI', `${fmt(rsMs / sqMs, 2)}×`, '', 'info');
  }
  const pyMs = ms('python3 -m psmc get');
  const pyBase = ms('python3 -c pass');
  const pyRatio = pyMs !== undefined && pyBase !== undefined ? pyMs / pyBase : undefined;
  row(
    'cold: python get / python3 -c pass',
    pyRatio === undefined ? 'n/a (no python3)' : `${fmt(pyRatio, 2)}× (${fmt(pyMs!)} / ${fmt(pyBase!)} ms)`,
    '≤ 1.5×',
    pyRatio === undefined ? 'n/a' : pass(pyRatio <= 1.5),
  );
  const pyNoPyc = ms('python3 -m psmc get (no .pyc)');
  if (pyNoPyc !== undefined && pyBase !== undefined)
    row('cold: python get (no .pyc) / python3 -c pass', `${fmt(pyNoPyc / pyBase, 2)}×`, '', 'info');
  const tsMs = ms('psmc get');
  const nodeMs = ms('node -e ""');
  row('cold: psmc get / node -e ""', `${fmt(tsMs! / nodeMs!, 2)}×`, '', 'info');

  // --- 2. Warm-handle throughput -----------------------------------------------------------------
  const rounds: Record<string, Throughput[]> = { ts: [], python: [], rust: [] };
  for (let round = 0; round < ROUNDS; round++) {
    log(`warm throughput round ${round + 1}/${ROUNDS}: ${fmtInt(GET_OPS)} gets, ${fmtInt(SET_OPS)} durable sets each`);
    const order = ['ts', 'python', 'rust'].map((_, j, a) => a[(round + j) % a.length]!);
    for (const lang of order) {
      const dir = join(tempDir(`clients-warm-${lang}`), 'store');
      if (lang === 'ts') rounds['ts']!.push(tsThroughput(dir));
      else if (lang === 'python' && python !== undefined) {
        rounds['python']!.push(
          childThroughput(
            'python',
            [python, join(ROOT, 'bench', 'clients-bench.py'), dir, String(GET_OPS), String(SET_OPS)],
            env,
          ),
        );
      } else if (lang === 'rust' && rust !== undefined) {
        rounds['rust']!.push(childThroughput('rust', [rust.bench, dir, String(GET_OPS), String(SET_OPS)], env));
      }
    }
  }
  const med = (lang: string, k: keyof Throughput): number | undefined =>
    rounds[lang]!.length === 0 ? undefined : median(rounds[lang]!.map((t) => t[k]));
  const warm: Record<string, unknown> = {};
  for (const lang of ['ts', 'python', 'rust']) {
    warm[lang] = {
      rounds: rounds[lang],
      getOpsPerSec: med(lang, 'getOpsPerSec'),
      setOpsPerSec: med(lang, 'setOpsPerSec'),
    };
  }
  results['warm'] = warm;
  const tsGet = med('ts', 'getOpsPerSec')!;
  const tsSet = med('ts', 'setOpsPerSec')!;
  row('warm: TypeScript get', `${fmtInt(tsGet)} ops/s`);
  row('warm: TypeScript set (durable)', `${fmtInt(tsSet)} ops/s`);
  for (const [lang, name] of [
    ['python', 'Python'],
    ['rust', 'Rust'],
  ] as const) {
    for (const [k, what] of [
      ['getOpsPerSec', 'get'],
      ['setOpsPerSec', 'set (durable)'],
    ] as const) {
      const v = med(lang, k);
      const ts = k === 'getOpsPerSec' ? tsGet : tsSet;
      row(
        `warm: ${name} ${what}`,
        v === undefined ? 'n/a' : `${fmtInt(v)} ops/s = ${fmt((100 * v) / ts, 0)}% of TS`,
        '≥ 50% of TS',
        v === undefined ? 'n/a' : pass(v >= ts / 2),
      );
    }
  }
  results['table'] = rows;

  const lines = tableLines(rows);
  process.stdout.write(
    `\npsmc clients bench (${QUICK ? 'quick' : 'full'}; load ${loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')})\n`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  const file = saveResults('clients', results, 'clients-latest.json');
  process.stdout.write(`\nsaved ${file}\n`);
}

try {
  main();
} finally {
  cleanup();
}

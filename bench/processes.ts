/**
 * The bench's multi-process measures: `psmc get KEY` cold start against `node -e ""`, and N processes doing
 * compare-and-set increments of one key.
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/index.js';
import { fmt, median, msSince, now, pass, percentile, ROOT, row, tempDir } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const CLI = join(ROOT, 'bin', 'psmc.cjs');
const WORKER = join(HERE, 'increment-worker.js');
const CLI_RUNS = 20;
const INC_PROCS = 4;
const INC_PER_PROC = 500;

export function coldStart(dir: string, key: string): Record<string, unknown> {
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

export async function incrementTest(freshnessMs: number | undefined): Promise<Record<string, unknown>> {
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

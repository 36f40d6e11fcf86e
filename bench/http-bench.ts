/**
 * HTTP service benchmark: `node dist/bench/http-bench.js` (after `npm run build`; part of
 * `npm run bench`). A script, not a test: it measures, prints a table with the targets and
 * PASS/MISS, and saves the numbers to bench/results/http-latest.json.
 *
 * It starts the real `psmc serve --port 0 --json` (bin/psmc.cjs, the bundle) on a temp store, then:
 * - GET of one key over loopback with autocannon (10 connections, keep-alive, Bearer token);
 * - SSE fan-out: 50 clients on /api/v1/events, a writer process commits a burst of 1,000 changes;
 *   every client must get all 1,000 in order (missing / out of order counted);
 * - CLI change → SSE event: `psmc set` as a process, N times; latency = arrival of the event at
 *   the client − the commit's wall time (the change's `time`), plus spawn → event for information.
 *
 * Usage: node dist/bench/http-bench.js [--duration S] [--samples N]
 * (the script runs itself as the burst writer: `http-bench.js writer <dir> <count>`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/index.js';
import { spread } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const BIN = join(ROOT, 'bin', 'psmc.cjs');
const SELF = fileURLToPath(import.meta.url);

interface AutocannonResult {
  requests: { average: number; mean: number; total: number };
  latency: { p50: number; p99: number; max: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(what || `timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        res(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        rej(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const epochNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** An SSE client that calls `onChange` with each change's data and its arrival time. */
function sseClient(
  port: number,
  token: string,
  onChange: (data: { revision: number; key: string; time: string }, at: number) => void,
): { ready: Promise<void>; close: () => void } {
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((r) => (readyResolve = r));
  let buffer = '';
  const req = request(
    { host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${token}` }, agent: false },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = epochNow();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: status')) readyResolve();
          if (!block.includes('event: change')) continue;
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined)
            onChange(JSON.parse(data.slice(6)) as { revision: number; key: string; time: string }, at);
        }
      });
    },
  );
  req.on('error', () => {});
  req.end();
  return { ready, close: () => req.destroy() };
}

/** CPU seconds (user + system) used so far by a process, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
    const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return ticks / hz;
  } catch {
    return undefined;
  }
}

async function startServe(
  dir: string,
): Promise<{ port: number; pid: number; token: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, '--store', dir, 'serve', '--port', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PSMC_HOME: dir },
  });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout }).once('line', res);
    child.once('exit', (code) => rej(new Error(`psmc serve exited ${String(code)}`)));
  });
  const ready = JSON.parse(line) as { port: number; loginUrl: string; pid: number };
  return {
    port: ready.port,
    pid: ready.pid,
    token: new URL(ready.loginUrl).searchParams.get('token') ?? '',
    stop: () =>
      new Promise((res) => {
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const duration = argNumber('duration', 10);
  const samples = argNumber('samples', 40);
  const dir = mkdtempSync(join(tmpdir(), 'psmc-http-bench-'));
  try {
    const seed = openStore({ dir, env: {}, source: 'bench' });
    seed.set('display.units', 'metric');
    seed.close();
    const server = await startServe(dir);
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

    process.stderr.write(`GET /api/v1/keys/display.units for ${duration} s …\n`);
    // 1. GET of one key. The server's CPU time per request is measured too: on a shared, loaded
    // machine the wall-clock rate says more about the neighbours than about psmc.
    const cpuBefore = cpuSeconds(server.pid);
    const get = await new Promise<AutocannonResult>((res, rej) =>
      autocannon(
        {
          url: `http://127.0.0.1:${server.port}/api/v1/keys/display.units`,
          connections: 10,
          duration,
          headers: { authorization: `Bearer ${server.token}` },
        },
        (err, result) => (err === null ? res(result) : rej(err)),
      ),
    );

    const cpuAfter = cpuSeconds(server.pid);
    const cpuPerRequestUs =
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : ((cpuAfter - cpuBefore) / get.requests.total) * 1e6;
    const perCore = cpuPerRequestUs === undefined ? undefined : 1e6 / cpuPerRequestUs;

    process.stderr.write('SSE fan-out …\n');
    // 2. Fan-out: 50 clients, a 1,000-change burst from another process.
    const CLIENTS = 50;
    const BURST = 1000;
    const received: { revisions: number[]; last: number }[] = [];
    const clients = [];
    for (let i = 0; i < CLIENTS; i++) {
      const box = { revisions: [] as number[], last: 0 };
      received.push(box);
      clients.push(
        sseClient(server.port, server.token, (d, at) => {
          box.revisions.push(d.revision);
          box.last = at;
        }),
      );
    }
    await withTimeout(Promise.all(clients.map((c) => c.ready)), 60_000, 'the fan-out clients did not connect');
    const base = openStore({ dir, env: {} });
    const startRevision = base.revision();
    base.close();
    const burstStart = epochNow();
    const w = spawnSync(process.execPath, [SELF, 'writer', dir, String(BURST)], { stdio: 'inherit' });
    if (w.status !== 0) throw new Error('the burst writer failed');
    const writerDone = epochNow();
    const deadline = Date.now() + 60_000;
    while (received.some((r) => r.revisions.length < BURST) && Date.now() < deadline) await sleep(20);
    let missing = 0;
    let outOfOrder = 0;
    for (const r of received) {
      const want = new Set(Array.from({ length: BURST }, (_, j) => startRevision + 1 + j));
      for (let i = 0; i < r.revisions.length; i++) {
        want.delete(r.revisions[i] as number);
        if (i > 0 && (r.revisions[i] as number) <= (r.revisions[i - 1] as number)) outOfOrder++;
      }
      missing += want.size;
    }
    const lastArrival = Math.max(...received.map((r) => r.last));
    clients.forEach((c) => c.close());

    process.stderr.write(`CLI change → SSE event, ${samples} samples …\n`);
    // 3. CLI change → SSE event.
    const latencies: number[] = [];
    const endToEnd: number[] = [];
    let pending: { key: string; resolve: (v: { at: number; time: string }) => void } | undefined;
    const probe = sseClient(server.port, server.token, (d, at) => {
      if (pending !== undefined && d.key === pending.key) pending.resolve({ at, time: d.time });
    });
    await withTimeout(probe.ready, 30_000, 'the probe client did not connect');
    let missed = 0;
    for (let i = 0; i < samples + 3; i++) {
      const key = `bench.cli${i}`;
      const seen = new Promise<{ at: number; time: string }>((res) => (pending = { key, resolve: res }));
      const spawned = epochNow();
      const child = spawn(process.execPath, [BIN, '--store', dir, 'set', key, String(i)], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      // A change that never arrives is counted (and would be a bug), not waited for forever.
      const got = await withTimeout(seen, 10_000, '').catch(() => undefined);
      const code = await exited;
      if (got === undefined) {
        missed++;
        process.stderr.write(`no event for ${key} within 10 s (psmc set exited ${String(code)})\n`);
        continue;
      }
      const { at, time } = got;
      if (i >= 3) {
        latencies.push(at - Date.parse(time));
        endToEnd.push(at - spawned);
      }
      await sleep(20);
    }
    probe.close();
    await server.stop();

    const lat = spread(latencies);
    const e2e = spread(endToEnd);
    const rps = get.requests.average;
    const rows: [string, string, string, string][] = [
      [
        'GET one key (autocannon, 10 conns)',
        `${Math.round(rps)} req/s`,
        '≥ 5,000 req/s',
        rps >= 5000 ? 'PASS' : 'MISS',
      ],
      [
        '  server CPU per request → req/s per core',
        cpuPerRequestUs === undefined ? 'n/a' : `${cpuPerRequestUs.toFixed(0)} µs → ${Math.round(perCore ?? 0)} req/s`,
        '≥ 5,000 req/s',
        perCore === undefined ? '' : perCore >= 5000 ? 'PASS' : 'MISS',
      ],
      ['  latency p50 / p99 / max', `${get.latency.p50} / ${get.latency.p99} / ${get.latency.max} ms`, '', ''],
      [
        '  errors / non-2xx',
        `${get.errors + get.timeouts} / ${get.non2xx}`,
        '0 / 0',
        get.errors + get.timeouts + get.non2xx === 0 ? 'PASS' : 'MISS',
      ],
      [
        `SSE fan-out ${CLIENTS} clients × ${BURST} changes`,
        `${missing} missing, ${outOfOrder} out of order`,
        '0 missing, in order',
        missing === 0 && outOfOrder === 0 ? 'PASS' : 'MISS',
      ],
      [
        '  burst start → last client has all',
        `${Math.round(lastArrival - burstStart)} ms (writer ${Math.round(writerDone - burstStart)} ms)`,
        '',
        '',
      ],
      ['CLI change → SSE event, p50', `${lat.p50.toFixed(1)} ms`, '≤ 200 ms', lat.p50 <= 200 ? 'PASS' : 'MISS'],
      ['CLI change → SSE event, max', `${lat.max.toFixed(1)} ms`, '≤ 1,000 ms', lat.max <= 1000 ? 'PASS' : 'MISS'],
      ['CLI changes with no event within 10 s', String(missed), '0', missed === 0 ? 'PASS' : 'MISS'],
      ['  psmc set spawn → event, p50 / max (info)', `${e2e.p50.toFixed(0)} / ${e2e.max.toFixed(0)} ms`, '', ''],
    ];
    const width = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
    console.log(
      `\npsmc HTTP bench (${platform()} ${release()}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)})\n`,
    );
    for (const r of rows) console.log(r.map((x, i) => x.padEnd(width[i] ?? 0)).join('  '));
    const result = {
      date: new Date().toISOString(),
      machine: { platform: platform(), release: release(), cpus: cpus().length, load: loadavg() },
      node: process.version,
      get: {
        requestsPerSecond: rps,
        total: get.requests.total,
        durationS: get.duration,
        latencyMs: { p50: get.latency.p50, p99: get.latency.p99, max: get.latency.max, average: get.latency.average },
        errors: get.errors,
        timeouts: get.timeouts,
        non2xx: get.non2xx,
        serverCpuPerRequestUs: cpuPerRequestUs ?? null,
        requestsPerServerCoreSecond: perCore ?? null,
      },
      fanout: {
        clients: CLIENTS,
        changes: BURST,
        missing,
        outOfOrder,
        burstToAllMs: lastArrival - burstStart,
        writerMs: writerDone - burstStart,
      },
      cliToEvent: { commitToEventMs: lat, spawnToEventMs: e2e, missed },
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'http-latest.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`\nsaved ${join('bench', 'results', 'http-latest.json')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'writer') {
  const [, , , dir, count] = process.argv;
  const store = openStore({ dir: dir as string, env: {}, source: 'bench-burst' });
  for (let j = 0; j < Number(count); j++) store.set(`burst.k${j}`, j);
  store.close();
} else {
  await main();
}

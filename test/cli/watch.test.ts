/**
 * `psmc watch` as a real process: it streams the changes made by other
 * processes as lines (human or JSON Lines), filters by prefix, replays with
 * --since, and exits 0 on SIGINT/SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, sandbox, type Sandbox } from './harness.js';

interface Running {
  readonly lines: string[];
  stderr(): string;
  /** Resolves once the watcher says it is watching. */
  readonly ready: Promise<void>;
  /** Resolves with the exit code (or the signal name when killed by one). */
  readonly exit: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

function watchProcess(sb: Sandbox, args: readonly string[]): Running {
  const child = spawn(process.execPath, [BIN, 'watch', ...args], {
    cwd: sb.dir,
    env: sb.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((res) => (onReady = res));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.includes('Watching')) onReady();
  });
  const exit = new Promise<number | string>((res) => child.once('close', (code, signal) => res(code ?? signal ?? -1)));
  void exit.then(() => onReady());
  return { lines, stderr: () => err, ready, exit, kill: (s) => child.kill(s) };
}

function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

test(
  'psmc watch --json prints one JSON object per line for changes by other processes; SIGINT exits 0',
  { timeout: 60_000 },
  async (t) => {
    const sb = sandbox(t);
    // The store does not exist yet: the watcher waits for it without creating it.
    const w = watchProcess(sb, ['--json']);
    t.after(() => w.kill('SIGKILL'));
    await w.ready;
    sb.ok(['set', 'display.units', 'metric']);
    sb.ok(['set', 'display.units', 'imperial', '--source', 'gui']);
    sb.ok(['unset', 'display.units']);
    await until('3 lines', 20_000, () => w.lines.length >= 3);
    w.kill('SIGINT');
    assert.equal(await w.exit, 0, w.stderr());
    const events = w.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(events, [
      {
        revision: 1,
        seq: 0,
        key: 'display.units',
        op: 'set',
        newValue: 'metric',
        source: 'cli',
        at: events[0]?.['at'],
      },
      {
        revision: 2,
        seq: 0,
        key: 'display.units',
        op: 'set',
        oldValue: 'metric',
        newValue: 'imperial',
        source: 'gui',
        at: events[1]?.['at'],
      },
      {
        revision: 3,
        seq: 0,
        key: 'display.units',
        op: 'delete',
        oldValue: 'imperial',
        source: 'cli',
        at: events[2]?.['at'],
      },
    ]);
    for (const e of events) assert.match(String(e['at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-\d{4}$/);
    assert.doesNotMatch(w.stderr(), /error|at .+:\d+/i);
  },
);

test(
  'psmc watch <prefix> --since 0 replays history, then follows; human lines; SIGTERM exits 0',
  { timeout: 60_000 },
  async (t) => {
    const sb = sandbox(t);
    sb.ok(['set', 'display.units', 'metric']);
    sb.ok(['set', 'net.port', '80']);
    sb.ok(['set', 'displayx', '1']);
    const w = watchProcess(sb, ['display', '--since', '0']);
    t.after(() => w.kill('SIGKILL'));
    await w.ready;
    await until('the replayed line', 20_000, () => w.lines.length >= 1);
    sb.ok(['set', 'display.units', 'imperial']);
    sb.ok(['set', 'net.port', '81']);
    sb.ok(['set', 'display.theme', 'dark']);
    await until('3 lines', 20_000, () => w.lines.length >= 3);
    w.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.stderr());
    assert.equal(w.lines.length, 3, w.lines.join('\n'));
    assert.match(
      w.lines[0] ?? '',
      /^r1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cli {2}display\.units {2}\(unset\) → "metric"$/,
    );
    assert.match(w.lines[1] ?? '', /^r4 \S+ cli {2}display\.units {2}"metric" → "imperial"$/);
    assert.match(w.lines[2] ?? '', /^r6 \S+ cli {2}display\.theme {2}\(unset\) → "dark"$/);
    assert.match(w.stderr(), /Watching .+ \(keys under display\) after revision 0\./);
  },
);

test('psmc watch refuses a bad --since or prefix', (t) => {
  const sb = sandbox(t);
  const r1 = sb.run(['watch', '--since', 'x']);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /--since must be a whole number/);
  const r2 = sb.run(['watch', 'bad..key']);
  assert.equal(r2.status, 5);
  const r3 = sb.run(['watch', 'a', 'b']);
  assert.equal(r3.status, 2);
  const help = sb.run(['help', 'watch']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: psmc watch \[prefix\] \[--since <revision>\]/);
});

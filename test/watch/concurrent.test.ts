/**
 * The Watcher under concurrent writers in other processes (spec/sections/watch.md):
 * no gaps, no duplicates, (revision, seq) order, exact resume.
 *
 * 1. 4 processes × 100 sets while a Watcher in this process and a Watcher in
 *    another process collect: each sees all 400 changes exactly once, in
 *    order, with contiguous revisions.
 * 2. Resume under a concurrent writer: a Watcher closed mid-stream at revision
 *    R and a new one from R together receive every change exactly once.
 *
 * No timing assertions (the bench measures latency).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type ChangeRecord } from '../../src/index.js';
import { Watcher } from '../../src/watch/watcher.js';
import { watchHostOf } from '../../src/watch/host.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

/**
 * Cleanups of one test, run last-registered-first (node:test runs t.after
 * hooks in registration order): stores and watchers close before their
 * directory is removed.
 */
const cleanups = new WeakMap<object, (() => void)[]>();
function defer(t: { after(fn: () => void): void }, fn: () => void): void {
  let list = cleanups.get(t);
  if (list === undefined) {
    const fns: (() => void)[] = [];
    list = fns;
    cleanups.set(t, fns);
    t.after(() => {
      for (const f of fns.reverse()) f();
    });
  }
  list.push(fn);
}

function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'psmc-watch-'));
  defer(t, () => rmSync(d, { recursive: true, force: true }));
  return d;
}

interface Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly done: Promise<{ type: 'done'; errors: string[]; revision?: number }>;
  readonly exited: Promise<number | null>;
}

function spawnWorker(argv: string[]): Child {
  const proc = fork(WORKER, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  // 'close' (not 'exit'): it comes after the IPC channel closed, so every message was received first.
  const exited = new Promise<number | null>((res) => proc.once('close', (code) => res(code)));
  let onReady!: () => void;
  const ready = new Promise<void>((res) => (onReady = res));
  const done = new Promise<{ type: 'done'; errors: string[] }>((res, rej) => {
    proc.once('error', rej);
    proc.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') onReady();
      else if (m?.type === 'done') res(m as { type: 'done'; errors: string[] });
    });
    void exited.then((code) => rej(new Error(`worker ${argv.join(' ')} exited with ${code} before reporting`)));
  });
  done.catch(() => undefined);
  return { proc, ready, done, exited };
}

function until<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = check();
      if (v !== undefined) resolve(v);
      else if (Date.now() - start > ms) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

/** Checks events: (revision, seq) ascending, no duplicate, revisions contiguous from `from` to `to`. */
function assertStream(
  events: readonly { revision: number; seq: number; key: string }[],
  from: number,
  to: number,
  label: string,
): void {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    assert.ok(
      b.revision > a.revision || (b.revision === a.revision && b.seq > a.seq),
      `${label}: out of order or repeated at ${i}: ${a.revision}/${a.seq} then ${b.revision}/${b.seq}`,
    );
  }
  const revisions = [...new Set(events.map((e) => e.revision))];
  assert.deepEqual(
    revisions,
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
    `${label}: revisions must be exactly ${from}…${to}`,
  );
}

test(
  '4 writer processes × 100 sets: two watchers (this process and another) each get all 400 changes once, in order',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const store = openStore({ dir, env: {}, source: 'test' });
    defer(t, () => store.close());
    store.set('init', true); // revision 1: the store exists
    const start = store.revision();
    const total = 400;
    const last = start + total;

    const events: ChangeRecord[] = [];
    const errors: unknown[] = [];
    const w = new Watcher(watchHostOf(store), { onError: (e) => errors.push(e) }, (e) => events.push(e));
    defer(t, () => w.close());
    assert.equal(w.revision, start);

    const outFile = join(dir, 'received.txt');
    const remote = spawnWorker(['watch', dir, String(start), String(last), outFile]);
    const writers = [0, 1, 2, 3].map((i) => spawnWorker(['set', dir, String(i), '100']));
    await Promise.all([remote.ready, ...writers.map((c) => c.ready)]);
    for (const c of writers) c.proc.send('go');
    const reports = await Promise.all(writers.map((c) => c.done));
    for (const r of reports) assert.deepEqual(r.errors, []);
    assert.equal(store.revision(), last);

    await until('the watcher in this process to reach the last revision', 20_000, () =>
      w.revision >= last ? true : undefined,
    );
    assert.deepEqual(errors, []);
    assert.equal(events.length, total);
    assertStream(events, start + 1, last, 'this process');
    const keys = new Set(events.map((e) => e.key));
    assert.equal(keys.size, total, 'every key once');
    for (let i = 0; i < 4; i++) for (let j = 0; j < 100; j++) assert.ok(keys.has(`w${i}.k${j}`), `w${i}.k${j}`);
    for (const e of events) {
      assert.equal(e.op, 'set');
      assert.equal(e.newValue, Number(e.key.split('.k')[1]));
      assert.match(e.source, /^watch-worker-\d+$/);
    }
    // What history says is exactly what was delivered.
    const history = store.history(undefined, { sinceRevision: start }).reverse();
    assert.deepEqual(
      events.map((e) => [e.revision, e.seq, e.key]),
      history.map((e) => [e.revision, e.seq, e.key]),
    );

    const remoteReport = await remote.done;
    assert.deepEqual(remoteReport.errors, []);
    assert.equal(remoteReport.revision, last);
    const lines = readFileSync(outFile, 'utf8').trimEnd().split('\n');
    const remoteEvents = lines.map((l) => {
      const [revision, seq, key] = l.split(' ');
      return { revision: Number(revision), seq: Number(seq), key: key ?? '' };
    });
    assert.equal(remoteEvents.length, total);
    assertStream(remoteEvents, start + 1, last, 'the other process');
    assert.deepEqual(
      remoteEvents.map((e) => [e.revision, e.seq, e.key]),
      events.map((e) => [e.revision, e.seq, e.key]),
      'both watchers saw the same stream',
    );
    for (const c of [remote, ...writers]) assert.equal(await c.exited, 0);
  },
);

test(
  'resume under a concurrent writer: close at revision R mid-stream, reopen with since R, get exactly the rest',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const store = openStore({ dir, env: {}, source: 'test' });
    defer(t, () => store.close());
    store.set('init', true);
    const start = store.revision();
    const total = 300;
    const last = start + total;

    const first: ChangeRecord[] = [];
    const w1 = new Watcher(watchHostOf(store), {}, (e) => {
      first.push(e);
      if (first.length === 57) w1.close(); // mid-stream, from inside a callback
    });
    const writers = [0, 1, 2].map((i) => spawnWorker(['set', dir, String(i), '100']));
    await Promise.all(writers.map((c) => c.ready));
    for (const c of writers) c.proc.send('go');

    await until('the first watcher to close', 30_000, () => (w1.closed ? true : undefined));
    const r = w1.revision;
    assert.equal(first.length, 57);
    assert.equal(r, first.at(-1)?.revision, 'revision is the last delivered one');
    // A later event never reaches a closed watcher.
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(first.length, 57);

    const second: ChangeRecord[] = [];
    const w2 = new Watcher(watchHostOf(store), { since: r }, (e) => second.push(e));
    defer(t, () => w2.close());
    for (const rep of await Promise.all(writers.map((c) => c.done))) assert.deepEqual(rep.errors, []);
    await until('the second watcher to reach the last revision', 20_000, () =>
      w2.revision >= last ? true : undefined,
    );
    assert.equal(first.length + second.length, total);
    assertStream([...first, ...second], start + 1, last, 'first + second');
    assert.equal(second[0]?.revision, r + 1);
    for (const c of writers) assert.equal(await c.exited, 0);
  },
);

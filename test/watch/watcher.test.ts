/**
 * The Watcher in one process (spec/sections/watch.md): since/resume, prefix
 * filtering, batches, errors thrown by the callback, close() releasing every
 * handle, the async iterator, option checks, and that get()/set() never start
 * a watcher or a timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openStore, type ChangeRecord, type Store } from '../../src/index.js';
import { Watcher, type WatchOptions } from '../../src/watch/watcher.js';
import { watchHostOf, type WatchHost } from '../../src/watch/host.js';

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

function open(t: { after(fn: () => void): void }, dir = tempDir(t)): Store {
  const store = openStore({ dir, env: {}, source: 'test' });
  defer(t, () => store.close());
  return store;
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

/** A Watcher collecting into an array, closed after the test. */
function collect(
  t: { after(fn: () => void): void },
  store: Store,
  options: WatchOptions = {},
): { w: Watcher; events: ChangeRecord[]; errors: unknown[] } {
  const events: ChangeRecord[] = [];
  const errors: unknown[] = [];
  const w = new Watcher(watchHostOf(store), { onError: (e) => errors.push(e), ...options }, (e) => events.push(e));
  defer(t, () => w.close());
  return { w, events, errors };
}

/** Counts of the resource kinds that keep a process alive and come from watching or polling. */
function watchingResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'FSEventWrap' || r === 'StatWatcher' || r === 'Timeout' || r === 'Immediate')
      counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}

test('by default only new changes; since replays strictly after a revision; a since above the current revision waits', async (t) => {
  const store = open(t);
  store.set('a', 1); // r1
  store.set('b', 2); // r2
  const fresh = collect(t, store);
  const replay = collect(t, store, { since: 0 });
  const fromOne = collect(t, store, { since: 1 });
  const ahead = collect(t, store, { since: 4 });
  assert.equal(fresh.w.revision, 2);
  assert.equal(ahead.w.revision, 4);
  store.set('c', 3); // r3
  store.set('d', 4); // r4
  store.set('e', 5); // r5
  await until('every watcher at revision 5', 5000, () =>
    [fresh, replay, fromOne, ahead].every((c) => c.w.revision === 5) ? true : undefined,
  );
  assert.deepEqual(
    fresh.events.map((e) => e.key),
    ['c', 'd', 'e'],
  );
  assert.deepEqual(
    replay.events.map((e) => e.key),
    ['a', 'b', 'c', 'd', 'e'],
  );
  assert.deepEqual(
    fromOne.events.map((e) => e.key),
    ['b', 'c', 'd', 'e'],
  );
  assert.deepEqual(
    ahead.events.map((e) => e.key),
    ['e'],
  );
  for (const c of [fresh, replay, fromOne, ahead]) assert.deepEqual(c.errors, []);
  const e = replay.events[0];
  assert.deepEqual(
    {
      revision: e?.revision,
      seq: e?.seq,
      key: e?.key,
      op: e?.op,
      oldValue: e?.oldValue,
      newValue: e?.newValue,
      source: e?.source,
      note: e?.note,
    },
    { revision: 1, seq: 0, key: 'a', op: 'set', oldValue: undefined, newValue: 1, source: 'test', note: undefined },
  );
  assert.match(e?.at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-\d{4}$/);
});

test('replay of a long history reads it in pages and keeps the order (2,500 revisions, batches included)', async (t) => {
  const store = open(t);
  for (let i = 0; i < 2500; i++) {
    if (i % 100 === 0)
      store.batch([
        { op: 'set', key: `b${i}.x`, value: i },
        { op: 'set', key: `b${i}.y`, value: i },
      ]);
    else store.set(`k${i % 7}`, i);
  }
  const { w, events, errors } = collect(t, store, { since: 0 });
  await until('revision 2500', 10_000, () => (w.revision === 2500 ? true : undefined));
  assert.deepEqual(errors, []);
  assert.equal(events.length, 2525);
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    assert.ok(
      b.revision === a.revision + 1 ? b.seq === 0 : b.revision === a.revision && b.seq === a.seq + 1,
      `order at ${i}`,
    );
  }
});

test('prefix: only keys under it (not look-alikes, not @schema); the position still moves over other keys', async (t) => {
  const store = open(t);
  const display = collect(t, store, { prefix: 'display' });
  const dotted = collect(t, store, { prefix: 'display.' });
  const all = collect(t, store);
  store.set('display.units', 'metric');
  store.set('displayx', 1);
  store.set('net.port', 80);
  store.set('display', 'root');
  store.setSchema({ keys: { 'net.port': { type: 'integer' } } });
  store.delete('display.units');
  store.batch([
    { op: 'set', key: 'display.theme', value: 'dark' },
    { op: 'set', key: 'net.host', value: 'h' },
  ]);
  const last = store.revision();
  await until('all at the last revision', 5000, () =>
    [display, dotted, all].every((c) => c.w.revision === last) ? true : undefined,
  );
  const show = (c: { events: ChangeRecord[] }): string[] => c.events.map((e) => `${e.revision}:${e.op}:${e.key}`);
  assert.deepEqual(show(display), [
    '1:set:display.units',
    '4:set:display',
    '6:delete:display.units',
    '7:set:display.theme',
  ]);
  assert.deepEqual(show(dotted), show(display));
  assert.deepEqual(show(all), [
    '1:set:display.units',
    '2:set:displayx',
    '3:set:net.port',
    '4:set:display',
    '5:schema:@schema',
    '6:delete:display.units',
    '7:set:display.theme',
    '7:set:net.host',
  ]);
  assert.throws(() => new Watcher(watchHostOf(store), { prefix: 'bad..key' }), { code: 'PSMC_KEY_SYNTAX' });
});

test('close() inside a callback finishes the revision (batch) being delivered; resume from revision gets exactly the rest', async (t) => {
  const store = open(t);
  store.set('a', 0); // r1
  store.batch([0, 1, 2].map((i) => ({ op: 'set' as const, key: `b.k${i}`, value: i }))); // r2: 3 records
  store.set('c', 0); // r3
  const got: ChangeRecord[] = [];
  const w = new Watcher(watchHostOf(store), { since: 0 }, (e) => {
    got.push(e);
    if (e.revision === 2) w.close();
  });
  await until('closed', 5000, () => (w.closed ? true : undefined));
  assert.deepEqual(
    got.map((e) => `${e.revision}/${e.seq}`),
    ['1/0', '2/0', '2/1', '2/2'],
  );
  assert.equal(w.revision, 2);
  const rest = collect(t, store, { since: w.revision });
  await until('revision 3', 5000, () => (rest.w.revision === 3 ? true : undefined));
  assert.deepEqual(
    rest.events.map((e) => `${e.revision}/${e.seq}`),
    ['3/0'],
  );
});

test('a callback that throws: the error goes to onError, the event is not redelivered, delivery goes on', async (t) => {
  const store = open(t);
  const seen: number[] = [];
  const errors: unknown[] = [];
  const w = new Watcher(watchHostOf(store), { onError: (e) => errors.push(e) }, (e) => {
    seen.push(e.revision);
    if (e.revision % 2 === 0) throw new Error(`boom ${e.revision}`);
  });
  defer(t, () => w.close());
  for (let i = 0; i < 10; i++) store.set('k', i);
  await until('revision 10', 5000, () => (w.revision === 10 ? true : undefined));
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ['boom 2', 'boom 4', 'boom 6', 'boom 8', 'boom 10'],
  );
});

test('the default onError rethrows asynchronously (it surfaces as an uncaught exception)', async (t) => {
  const store = open(t);
  const caught: unknown[] = [];
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const onUncaught = (e: unknown): void => void caught.push(e);
  process.on('uncaughtException', onUncaught);
  t.after(() => {
    process.off('uncaughtException', onUncaught);
    for (const l of listeners) process.on('uncaughtException', l);
  });
  let calls = 0;
  const w = new Watcher(watchHostOf(store), {}, () => {
    calls++;
    throw new Error('from the callback');
  });
  defer(t, () => w.close());
  store.set('x', 1);
  store.set('x', 2);
  await until('two calls and two uncaught errors', 5000, () => (calls === 2 && caught.length === 2 ? true : undefined));
  assert.equal((caught[0] as Error).message, 'from the callback');
});

test('local commits arrive without waiting for a file event or the poll (a microtask after the commit)', async (t) => {
  const store = open(t);
  store.set('init', 1); // the store exists, so the Watcher subscribes to local commits at once
  if (!('onLocalCommit' in store)) {
    t.skip('Store.onLocalCommit is not there yet');
    return;
  }
  const { events } = collect(t, store, { pollMs: 60_000 });
  store.set('a', 1);
  assert.equal(events.length, 0, 'never inside set()');
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(
    events.map((e) => e.key),
    ['a'],
  );
});

test('other handles: a commit through a second Store on the same directory reaches the Watcher (file event or poll)', async (t) => {
  const dir = tempDir(t);
  const a = open(t, dir);
  a.set('init', 1);
  const { w, events } = collect(t, a, { pollMs: 20 });
  const b = openStore({ dir, env: {}, source: 'other' });
  b.set('k', 'v');
  b.close();
  await until('the event', 5000, () => (w.revision === 2 ? true : undefined));
  assert.deepEqual(
    events.map((e) => [e.key, e.source]),
    [['k', 'other']],
  );
});

test('a store that does not exist yet: watching creates nothing; the first write is delivered', async (t) => {
  const dir = join(tempDir(t), 'later');
  const store = open(t, dir);
  const { w, events, errors } = collect(t, store, { pollMs: 20 });
  await new Promise((res) => setTimeout(res, 60)); // a few polls
  assert.equal(existsSync(dir), false, 'the store was not created by watching');
  const writer = openStore({ dir, env: {}, source: 'writer' });
  writer.set('first', 1);
  writer.set('second', 2);
  writer.close();
  await until('revision 2', 5000, () => (w.revision === 2 ? true : undefined));
  assert.deepEqual(
    events.map((e) => e.key),
    ['first', 'second'],
  );
  assert.deepEqual(errors, []);
});

test('close() releases every handle and timer it held, and is safe to call twice', async (t) => {
  const store = open(t);
  store.set('init', 1);
  await new Promise((res) => setTimeout(res, 20)); // handles closed by earlier tests are gone
  const before = watchingResources();
  const w = new Watcher(watchHostOf(store), { pollMs: 15 }, () => undefined);
  const during = watchingResources();
  assert.ok((during['FSEventWrap'] ?? 0) > (before['FSEventWrap'] ?? 0), 'it watches the store directory');
  assert.ok((during['Timeout'] ?? 0) > (before['Timeout'] ?? 0), 'it has a fallback poll');
  store.set('a', 1);
  await new Promise((res) => setTimeout(res, 40));
  w.close();
  w.close();
  await nextTurn();
  await nextTurn();
  const after = watchingResources();
  // A handle closed by an earlier test may still be in `before` (handle closes finish asynchronously): at most as many.
  for (const kind of ['FSEventWrap', 'StatWatcher', 'Timeout', 'Immediate']) {
    assert.ok(
      (after[kind] ?? 0) <= (before[kind] ?? 0),
      `${kind}: ${after[kind] ?? 0} after close, ${before[kind] ?? 0} before`,
    );
  }
  assert.equal(w.closed, true);
  // Nothing reaches a closed watcher.
  const rev = w.revision;
  store.set('b', 2);
  await new Promise((res) => setTimeout(res, 40));
  assert.equal(w.revision, rev);
});

test('unref: the Watcher does not keep the process alive', async (t) => {
  const store = open(t);
  store.set('init', 1);
  await nextTurn();
  const before = watchingResources();
  const w = new Watcher(watchHostOf(store), { unref: true, pollMs: 15 }, () => undefined);
  defer(t, () => w.close());
  assert.deepEqual(watchingResources(), before);
});

test('get() and set() never start a file watcher or a timer (1,000 of each, no Watcher)', async (t) => {
  await nextTurn();
  const before = watchingResources();
  const store = open(t);
  for (let i = 0; i < 1000; i++) {
    store.set(`k${i % 50}`, i);
    assert.equal(store.get(`k${i % 50}`), i);
  }
  const b = openStore({ dir: store.info.user?.dir ?? '', env: {}, source: 'b' });
  for (let i = 0; i < 1000; i++) b.get(`k${i % 50}`);
  b.close();
  assert.deepEqual(watchingResources(), before);
});

test('async iterator: events in order; leaving the loop closes the Watcher', async (t) => {
  const store = open(t);
  store.set('a', 1);
  store.set('b', 2);
  const w = new Watcher(watchHostOf(store), { since: 0 });
  defer(t, () => w.close());
  setTimeout(() => store.set('c', 3), 20);
  const keys: string[] = [];
  for await (const e of w) {
    keys.push(e.key);
    if (e.key === 'c') break;
  }
  assert.deepEqual(keys, ['a', 'b', 'c']);
  assert.equal(w.closed, true);
});

test('bad options are refused with a clear error', (t) => {
  const store = open(t);
  const host = watchHostOf(store);
  assert.throws(() => new Watcher(host, { since: -1 }), RangeError);
  assert.throws(() => new Watcher(host, { since: 1.5 }), RangeError);
  assert.throws(() => new Watcher(host, { pollMs: 5 }), /pollMs must be between 10 and 3600000/);
  assert.throws(() => new Watcher(host, { sinse: 3 } as unknown as WatchOptions), /Unknown watch option "sinse"/);
  assert.throws(() => new Watcher(host, {}, 42 as unknown as () => void), TypeError);
});

test('a read error is reported once (not at every poll), and the Watcher goes on when the store recovers', async (t) => {
  const store = open(t);
  store.set('a', 1);
  const real = watchHostOf(store);
  let failing = false;
  const host: WatchHost = {
    dir: real.dir,
    revision: () => {
      if (failing) throw new Error('disk on fire');
      return real.revision();
    },
    history: (k, r) => real.history(k, r),
  };
  const events: ChangeRecord[] = [];
  const errors: unknown[] = [];
  const w = new Watcher(host, { pollMs: 10, onError: (e) => errors.push(e) }, (e) => events.push(e));
  defer(t, () => w.close());
  failing = true;
  await new Promise((res) => setTimeout(res, 80));
  assert.equal(errors.length, 1);
  failing = false;
  store.set('b', 2);
  await until('revision 2', 5000, () => (w.revision === 2 ? true : undefined));
  assert.deepEqual(
    events.map((e) => e.key),
    ['b'],
  );
});

test('a closed store closes its Watcher quietly', async (t) => {
  const dir = tempDir(t);
  const store = openStore({ dir, env: {}, source: 'test' });
  store.set('a', 1);
  const errors: unknown[] = [];
  const w = new Watcher(watchHostOf(store), { pollMs: 10, onError: (e) => errors.push(e) }, () => undefined);
  defer(t, () => w.close());
  store.close();
  await until('the watcher closed', 5000, () => (w.closed ? true : undefined));
  assert.deepEqual(errors, []);
});

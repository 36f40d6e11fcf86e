/**
 * The SSE change feed: exact resume (since and Last-Event-ID, ids inside a
 * batch), changes by another process, the status event, and the fan-out of a
 * 1,000-change burst to 50 clients, every event in order, none missing.
 * Correctness only: nothing here measures time (see bench/http-bench.ts).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { changes, inProcess, request, runWriter, sse, type Change, type Json, type SseClient } from './harness.js';

test('the feed starts with hello and status, replays from since=0, then goes live; ids mark whole revisions', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  s.store.batch([
    { op: 'set', key: 'b', value: 2 },
    { op: 'set', key: 'c', value: 3 },
  ]);
  const auth = { authorization: `Bearer ${s.token}` };
  const c = sse(s.server.port, '/api/v1/events?since=0', auth);
  t.after(() => c.close());
  assert.equal(await c.status, 200);
  await c.until((ev) => changes(ev).length === 3);
  assert.equal(c.events[0]?.event, 'hello');
  assert.deepEqual(JSON.parse(c.events[0]?.data ?? ''), { since: 0, revision: 2 });
  assert.equal(c.events[1]?.event, 'status');
  assert.equal(JSON.parse(c.events[1]?.data ?? '').revision, 2);
  const ids = c.events.filter((e) => e.event === 'change').map((e) => e.id);
  assert.deepEqual(ids, ['1', '2:0', '2']);
  s.store.set('d', 4);
  await c.until((ev) => changes(ev).length === 4);
  const last = changes(c.events)[3];
  assert.equal(last?.key, 'd');
  assert.equal(last?.revision, 3);
  // Without since: only new changes.
  const fresh = sse(s.server.port, '/api/v1/events', auth);
  t.after(() => fresh.close());
  await fresh.until((ev) => ev.some((e) => e.event === 'status'));
  s.store.set('e', 5);
  await fresh.until((ev) => changes(ev).length === 1);
  assert.equal(changes(fresh.events)[0]?.key, 'e');
  const status = await request(s.server.port, '/api/v1/status', { token: s.token });
  assert.equal(status.json<Json>().watchers, 2);
});

test('a bad since or Last-Event-ID is a 400 before the stream starts', async (t) => {
  const s = await inProcess(t);
  for (const q of ['since=abc', 'since=-1', 'since=1:x', 'since=1.5']) {
    const r = await request(s.server.port, `/api/v1/events?${q}`, { token: s.token });
    assert.equal(r.status, 400, q);
    assert.equal(r.json<Json>().error.code, 'PSMC_USAGE');
  }
  const r = await request(s.server.port, '/api/v1/events', { token: s.token, headers: { 'last-event-id': 'nope' } });
  assert.equal(r.status, 400);
});

test('resume is exact: a client that drops at random points (inside batches too) and resumes with Last-Event-ID gets every change of another process once, in order', async (t) => {
  const s = await inProcess(t, { seed: { start: 0 } });
  const auth = { authorization: `Bearer ${s.token}` };
  const writer = runWriter(s.dir, 60, 'mixed');
  let writerDone = false;
  void writer.then(() => (writerDone = true));
  const received: Change[] = [];
  let lastId: string | undefined = '0';
  let rounds = 0;
  // Drop after 1, 2, 3 … changes so that some drops land inside a three-change revision.
  for (let n = 1; ; n = (n % 4) + 1) {
    rounds++;
    const c: SseClient = sse(
      s.server.port,
      '/api/v1/events',
      lastId === undefined ? auth : { ...auth, 'last-event-id': lastId },
    );
    try {
      await c.until(
        (ev) => changes(ev).length >= n || (writerDone && s.store.revision() === lastRevision(received)),
        30_000,
      );
    } finally {
      c.close();
    }
    const got = c.events.filter((e) => e.event === 'change').slice(0, n);
    for (const e of got) {
      received.push(JSON.parse(e.data) as Change);
      lastId = e.id;
    }
    if (writerDone && lastRevision(received) === s.store.revision()) break;
    assert.ok(rounds < 2000, 'too many rounds');
  }
  await writer;
  const history = s.store
    .history()
    .sort((a, b) => a.revision - b.revision || a.seq - b.seq)
    .map((r) => `${r.revision}:${r.seq}:${r.key}`);
  assert.deepEqual(
    received.map((r) => `${r.revision}:${r.seq}:${r.key}`),
    history,
  );
  assert.ok(history.length > 100, `${history.length} changes`);
  assert.ok(rounds > 20);
});

function lastRevision(list: readonly Change[]): number {
  return list[list.length - 1]?.revision ?? 0;
}

test('resume with since=<revision>:<seq> continues inside a batch', async (t) => {
  const s = await inProcess(t);
  s.store.batch([
    { op: 'set', key: 'x.a', value: 1 },
    { op: 'set', key: 'x.b', value: 2 },
    { op: 'set', key: 'x.c', value: 3 },
  ]);
  const c = sse(s.server.port, '/api/v1/events?since=1:0', { authorization: `Bearer ${s.token}` });
  t.after(() => c.close());
  await c.until((ev) => changes(ev).length === 2);
  assert.deepEqual(
    changes(c.events).map((r) => r.key),
    ['x.b', 'x.c'],
  );
  // A since above the current revision waits for it.
  const ahead = sse(s.server.port, '/api/v1/events?since=3', { authorization: `Bearer ${s.token}` });
  t.after(() => ahead.close());
  await ahead.until((ev) => ev.some((e) => e.event === 'status'));
  s.store.set('y', 1); // revision 2: not after 3
  s.store.set('y', 2); // 3
  s.store.set('y', 3); // 4
  await ahead.until((ev) => changes(ev).length >= 1);
  assert.deepEqual(
    changes(ahead.events).map((r) => r.revision),
    [4],
  );
});

test('a status event when the mirror file gets an invalid hand edit', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  s.store.syncMirror();
  const c = sse(s.server.port, '/api/v1/events', { authorization: `Bearer ${s.token}` });
  t.after(() => c.close());
  await c.until((ev) => ev.some((e) => e.event === 'status'));
  writeFileSync(s.store.mirrorFile as string, '{ "a": 1,, }\n');
  await c.until((ev) => ev.filter((e) => e.event === 'status').some((e) => JSON.parse(e.data).mirror?.error !== null));
  const bad = c.events
    .filter((e) => e.event === 'status')
    .map((e) => JSON.parse(e.data))
    .at(-1);
  assert.equal(bad.ok, false);
  assert.equal(bad.mirror.state, 'invalid-edit');
  assert.equal(bad.mirror.error.file, s.store.mirrorFile);
  // Fixing the file clears it.
  writeFileSync(s.store.mirrorFile as string, '{ "a": 2 }\n');
  await c.until((ev) => {
    const last = ev.filter((e) => e.event === 'status').at(-1);
    return last !== undefined && JSON.parse(last.data).mirror?.error === null;
  });
  await c.until((ev) => changes(ev).some((r) => r.key === 'a' && r.value === 2));
});

test('fan-out: 50 clients each receive all 1,000 changes of a burst by another process, in order, none missing', async (t) => {
  const s = await inProcess(t, { seed: { start: 0 } });
  const auth = { authorization: `Bearer ${s.token}` };
  const clients: SseClient[] = [];
  for (let i = 0; i < 50; i++) clients.push(sse(s.server.port, '/api/v1/events', auth));
  t.after(() => clients.forEach((c) => c.close()));
  await Promise.all(clients.map((c) => c.until((ev) => ev.some((e) => e.event === 'status'))));
  assert.equal((await request(s.server.port, '/api/v1/status', { token: s.token })).json<Json>().watchers, 50);
  await runWriter(s.dir, 1000, 'burst');
  await Promise.all(clients.map((c) => c.until((ev) => changes(ev).length >= 1000, 120_000)));
  const expected = Array.from({ length: 1000 }, (_, j) => `${j + 2}:burst.k${j}`);
  for (const c of clients) {
    assert.deepEqual(
      changes(c.events).map((r) => `${r.revision}:${r.key}`),
      expected,
    );
  }
  // They all stay connected and get the next change too.
  s.store.set('after', 1);
  await Promise.all(clients.map((c) => c.until((ev) => changes(ev).length === 1001)));
  void join;
});

/**
 * The change feed filtered by prefix (`/api/v1/events?prefix=`) and the `snapshots` event.
 *
 * Prefix: the segment rule of GET /keys?prefix= and psmc watch, the ids of the whole feed, exact
 * resume inside the filtered feed against another process writing, the ping's `id:` that moves a
 * quiet client's Last-Event-ID forward, and the 400 for a bad prefix. Snapshots: created and
 * deleted by the real CLI (another process), by the API, and by a restore, each seen by every
 * client, filtered or not. Correctness only: nothing here measures time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyHasPrefix } from '../../src/core/keys.js';
import { openApiDocument } from '../../src/server/openapi.js';
import {
  changes,
  cli,
  inProcess,
  request,
  runWriter,
  sse,
  type Change,
  type Json,
  type SseClient,
  type SseEvent,
} from './harness.js';

const named = (events: readonly SseEvent[], name: string): Json[] =>
  events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as Json);

test('prefix=display gives display and display.* only (not displayx, not schema changes), with the ids of the whole feed', async (t) => {
  const s = await inProcess(t, { seed: { 'display.units': 'metric' } }); // 1
  s.store.set('displayx', 1); // 2
  s.store.batch([
    { op: 'set', key: 'display', value: 'on' },
    { op: 'set', key: 'other.a', value: 1 },
  ]); // 3: 3:0 display, 3:1 other.a
  s.store.batch([
    { op: 'set', key: 'other.b', value: 1 },
    { op: 'set', key: 'display.deep.x', value: 2 },
  ]); // 4: 4:0 other.b, 4:1 display.deep.x (last of its revision)
  s.store.setSchema({ keys: { 'display.units': { type: 'string' } } }); // 5: @schema
  const auth = { authorization: `Bearer ${s.token}` };
  const all = sse(s.server.port, '/api/v1/events?since=0', auth);
  const c = sse(s.server.port, '/api/v1/events?since=0&prefix=display', auth);
  t.after(() => {
    all.close();
    c.close();
  });
  assert.equal(await c.status, 200);
  await all.until((ev) => changes(ev).length === 7);
  await c.until((ev) => changes(ev).length === 3);
  const hello = named(c.events, 'hello')[0];
  assert.equal(hello.since, 0);
  assert.equal(hello.prefix, 'display');
  assert.equal(c.events[1]?.event, 'status', 'the status event flows in a filtered feed too');
  const got = c.events.filter((e) => e.event === 'change').map((e) => [e.id, (JSON.parse(e.data) as Change).key]);
  assert.deepEqual(got, [
    ['1', 'display.units'],
    ['3:0', 'display'],
    ['4', 'display.deep.x'],
  ]);
  // The same change has the same id in the whole feed.
  const ids = new Map(all.events.filter((e) => e.event === 'change').map((e) => [e.data, e.id]));
  for (const e of c.events.filter((x) => x.event === 'change')) assert.equal(ids.get(e.data), e.id);
  assert.ok(changes(all.events).some((r) => r.op === 'schema'));

  // Live: only the matching change arrives, after the ones already sent.
  s.store.set('displayx', 2);
  s.store.set('display.units', 'imperial');
  await c.until((ev) => changes(ev).length === 4);
  await all.until((ev) => changes(ev).length === 9);
  assert.deepEqual(changes(c.events).at(-1), { ...changes(all.events).at(-1) });
  assert.equal(changes(c.events).at(-1)?.key, 'display.units');

  // A trailing dot means the same prefix; an empty prefix is the whole feed.
  const dot = sse(s.server.port, '/api/v1/events?since=0&prefix=display.', auth);
  const empty = sse(s.server.port, '/api/v1/events?since=0&prefix=', auth);
  t.after(() => {
    dot.close();
    empty.close();
  });
  await dot.until((ev) => changes(ev).length === 4);
  await empty.until((ev) => changes(ev).length === 9);
  assert.deepEqual(changes(dot.events), changes(c.events));
  assert.deepEqual(changes(empty.events), changes(all.events));
});

test('a bad prefix is a 400 with the key rule and a hint, before the stream starts', async (t) => {
  const s = await inProcess(t);
  for (const bad of ['a..b', '.a', 'a b', '__proto__', 'a/b', '%00']) {
    const r = await request(s.server.port, `/api/v1/events?prefix=${encodeURIComponent(bad)}`, { token: s.token });
    assert.equal(r.status, 400, bad);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const err = r.json<Json>().error;
    assert.match(err.code, /^PSMC_KEY_(SYNTAX|RESERVED)$/, bad);
    assert.ok(typeof err.hint === 'string' && err.hint.length > 0, `${bad}: a hint`);
    // The list endpoint answers the same prefix the same way.
    const list = await request(s.server.port, `/api/v1/keys?prefix=${encodeURIComponent(bad)}`, { token: s.token });
    assert.equal(list.status, 400, bad);
    assert.equal(list.json<Json>().error.code, err.code);
  }
  assert.equal((await request(s.server.port, '/api/v1/status', { token: s.token })).json<Json>().watchers, 0);
});

test('the OpenAPI document lists the prefix parameter of /events', () => {
  const doc = openApiDocument('test') as Json;
  const params = doc.paths['/events'].get.parameters as { name: string; in: string }[];
  assert.ok(params.some((p) => p.name === 'prefix' && p.in === 'query'));
});

test('resume inside a filtered feed is exact: drops at every point (inside batches too) while another process writes; each change under the prefix once, in order, nothing else', async (t) => {
  const s = await inProcess(t, { seed: { start: 0 } });
  const auth = { authorization: `Bearer ${s.token}` };
  const writer = runWriter(s.dir, 80, 'split');
  // The last change: under the prefix, after the writer is done, so the last round always ends.
  const finished = writer.then(() => s.store.set('in.final', true));
  let done = false;
  void finished.then(() => (done = true));
  const received: Change[] = [];
  let lastId = '0';
  let rounds = 0;
  for (let n = 1; ; n = (n % 4) + 1) {
    rounds++;
    const c: SseClient = sse(s.server.port, '/api/v1/events?prefix=in', { ...auth, 'last-event-id': lastId });
    try {
      await c.until((ev) => {
        const got = changes(ev);
        return got.length >= n || got.some((r) => r.key === 'in.final');
      }, 30_000);
    } finally {
      c.close();
    }
    const got = c.events.filter((e) => e.event === 'change').slice(0, n);
    for (const e of got) {
      received.push(JSON.parse(e.data) as Change);
      lastId = e.id ?? assert.fail('a change without an id');
    }
    if (received.at(-1)?.key === 'in.final') break;
    assert.ok(rounds < 2000, 'too many rounds');
  }
  await finished;
  assert.ok(done);
  const expected = s.store
    .history()
    .filter((r) => keyHasPrefix(r.key, 'in'))
    .sort((a, b) => a.revision - b.revision || a.seq - b.seq)
    .map((r) => `${r.revision}:${r.seq}:${r.key}`);
  assert.deepEqual(
    received.map((r) => `${r.revision}:${r.seq}:${r.key}`),
    expected,
  );
  assert.ok(!received.some((r) => r.key.startsWith('inx') || r.key.startsWith('out')));
  assert.ok(expected.length > 60, `${expected.length} changes under in`);
  assert.ok(rounds > 20);
});

test("a quiet filtered client's Last-Event-ID moves with the pings, and resuming from it misses nothing", async (t) => {
  const s = await inProcess(t, { pingMs: 40, seed: { 'in.a': 1 } }); // 1
  const auth = { authorization: `Bearer ${s.token}` };
  const c = sse(s.server.port, '/api/v1/events?since=0&prefix=in', auth);
  t.after(() => c.close());
  await c.until((ev) => changes(ev).length === 1);
  assert.equal(c.lastId, '1');
  for (let i = 0; i < 5; i++) s.store.set('out.x', i); // 2 … 6: filtered out
  await c.until(() => c.lastId === '6');
  assert.equal(changes(c.events).length, 1, 'no change event for the filtered-out keys');
  assert.ok(c.pings > 0);
  c.close();
  // Resume from the moved id: the feed starts after 6, and the next change under in arrives.
  s.store.set('out.x', 99); // 7: filtered out, after the resume point
  const r = sse(s.server.port, '/api/v1/events?prefix=in', { ...auth, 'last-event-id': c.lastId ?? '' });
  t.after(() => r.close());
  await r.until((ev) => ev.some((e) => e.event === 'hello'));
  assert.equal(named(r.events, 'hello')[0].since, 6);
  s.store.batch([
    { op: 'set', key: 'in.b', value: 2 },
    { op: 'set', key: 'out.y', value: 2 },
  ]); // 8: 8:0 in.b
  await r.until((ev) => changes(ev).length === 1);
  assert.deepEqual(
    r.events.filter((e) => e.event === 'change').map((e) => e.id),
    ['8:0'],
  );
  await r.until(() => r.lastId === '8');
  // An unfiltered client's pings carry no id: its cursor is already the feed's.
  const plain = sse(s.server.port, '/api/v1/events', auth);
  t.after(() => plain.close());
  await plain.until(() => plain.pings >= 3);
  assert.equal(plain.lastId, undefined);
});

test('event: snapshots when a snapshot is created or deleted by another process, by the API, or by a restore', async (t) => {
  const s = await inProcess(t, { seed: { 'in.a': 1 } });
  const auth = { authorization: `Bearer ${s.token}` };
  const all = sse(s.server.port, '/api/v1/events', auth);
  const filtered = sse(s.server.port, '/api/v1/events?prefix=in', auth);
  t.after(() => {
    all.close();
    filtered.close();
  });
  await all.until((ev) => ev.some((e) => e.event === 'status'));
  await filtered.until((ev) => ev.some((e) => e.event === 'status'));
  const last = (c: SseClient): string[] | undefined => named(c.events, 'snapshots').at(-1)?.names;
  const seen = (c: SseClient, names: string[]) =>
    c.until(() => JSON.stringify(last(c)) === JSON.stringify(names), 20_000);

  // The real CLI, another process.
  const made = cli(s.dir, ['snapshot', 'create', 'from-cli']);
  assert.equal(made.status, 0, made.stderr);
  await seen(all, ['from-cli']);
  await seen(filtered, ['from-cli']);

  // The API: this server's own write.
  const posted = await request(s.server.port, '/api/v1/snapshots', {
    method: 'POST',
    token: s.token,
    headers: { 'content-type': 'application/json' },
    body: '{"name":"from-api"}',
  });
  assert.equal(posted.status, 201);
  await seen(all, ['from-api', 'from-cli']);

  // A restore by the CLI takes an automatic snapshot before it commits.
  s.store.set('in.a', 2);
  const restored = cli(s.dir, ['snapshot', 'restore', 'from-cli', '--yes']);
  assert.equal(restored.status, 0, restored.stderr);
  await all.until(() => (last(all) ?? []).some((n) => n.endsWith('before-restore')), 20_000);
  const auto = (last(all) ?? []).find((n) => n.endsWith('before-restore')) ?? '';
  assert.match(auto, /^auto-\d+-before-restore$/);

  // Deleted by the CLI, then by the API.
  const deleted = cli(s.dir, ['snapshot', 'delete', 'from-cli']);
  assert.equal(deleted.status, 0, deleted.stderr);
  await seen(all, [auto, 'from-api'].sort());
  await seen(filtered, [auto, 'from-api'].sort());
  const del = await request(s.server.port, '/api/v1/snapshots/from-api', { method: 'DELETE', token: s.token });
  assert.equal(del.status, 200);
  await seen(all, [auto]);

  // One event per change of the set: nothing is sent while the set stays the same.
  const count = named(all.events, 'snapshots').length;
  s.store.set('in.a', 3);
  await all.until((ev) => changes(ev).some((r) => r.revision === s.store.revision()));
  const status = await request(s.server.port, '/api/v1/status', { token: s.token });
  assert.equal(status.status, 200);
  await new Promise((r) => setTimeout(r, 700)); // over one probe period (500 ms): a wrong event would have come
  assert.equal(named(all.events, 'snapshots').length, count);
  // The event is only the notice; the list itself comes from GET /snapshots.
  const list = (await request(s.server.port, '/api/v1/snapshots', { token: s.token })).json<Json>();
  assert.deepEqual(
    list.snapshots.map((x: Json) => x.name),
    [auto],
  );
});

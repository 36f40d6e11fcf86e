/**
 * The HTTP API v1 (docs/http-api.md), endpoint by endpoint, happy path and
 * error paths, against a real server on port 0 over a real store in a temp dir.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/index.js';
import { cli, inProcess, request, ROOT, type Json, type Reply } from './harness.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

function put(port: number, token: string, key: string, value: unknown, ifMatch?: string): Promise<Reply> {
  return request(port, `/api/v1/keys/${encodeURIComponent(key)}`, {
    method: 'PUT',
    token,
    headers: { ...JSON_HEADERS, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
    body: JSON.stringify({ value }),
  });
}

function errorCode(r: Reply): string {
  return r.json<{ error: { code: string } }>().error.code;
}

test('health, status, session and the version', async (t) => {
  const s = await inProcess(t, { seed: { 'display.units': 'metric' } });
  const p = s.server.port;
  assert.deepEqual((await request(p, '/api/v1/health', { token: s.token })).json(), { ok: true });
  const st = (await request(p, '/api/v1/status', { token: s.token })).json<Record<string, Json>>();
  assert.equal(st['ok'], true);
  assert.equal(st['revision'], 1);
  assert.equal(st['database'].ok, true);
  assert.equal(st['store'].path, s.dir);
  assert.equal(st['mirror'].error, null);
  assert.equal(st['mirror'].format, 'json');
  assert.equal(st['conflicts'], 0);
  assert.equal(st['watchers'], 0);
  assert.deepEqual(st['imports'], { waiting: 0 });
  assert.match(st['version'], /^\d+\.\d+\.\d+/);
  const session = (await request(p, '/api/v1/session', { token: s.token })).json();
  assert.deepEqual(session, { scopes: ['read', 'write'], name: 'serve', kind: 'login', store: s.dir });
});

test('status reports an invalid hand edit of the mirror, with where and what', async (t) => {
  const s = await inProcess(t, { seed: { 'display.units': 'metric' } });
  const file = s.store.mirrorFile as string;
  s.store.syncMirror();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, '{\n  "display.units": "metric",,\n}\n');
  // A file just written may be mid-save: sync until the mirror engine has judged it.
  for (let i = 0; i < 100; i++) {
    const r = s.store.syncMirror();
    if (r.retryInMs === undefined) break;
    await new Promise((resolve) => setTimeout(resolve, r.retryInMs));
  }
  const st = (await request(s.server.port, '/api/v1/status', { token: s.token })).json<Record<string, Json>>();
  assert.equal(st['ok'], false);
  assert.equal(st['mirror'].state, 'invalid-edit');
  assert.equal(st['mirror'].error.file, file);
  assert.equal(typeof st['mirror'].error.line, 'number');
  assert.equal(typeof st['mirror'].error.hint, 'string');
});

test('keys: list with prefix and layers; one key with its layers; env and schema shown', async (t) => {
  const dir = join((await import('node:os')).tmpdir(), `psmc-http-env-${process.pid}-${Date.now()}`);
  t.after(async () => (await import('node:fs')).rmSync(dir, { recursive: true, force: true }));
  const store = openStore({ dir, env: { PSMC_DISPLAY__THEME: 'dark' }, source: 'test' });
  store.setSchema({ keys: { 'display.units': { enum: ['metric', 'imperial'] }, 'display.theme': { type: 'string' } } });
  store.set('display.units', 'metric');
  store.set('display.theme', 'light');
  store.set('plant.name', 'North');
  const s = await inProcess(t, { store });
  const p = s.server.port;
  const all = (await request(p, '/api/v1/keys', { token: s.token })).json<{ revision: number; keys: Json[] }>();
  assert.equal(all.revision, 4);
  assert.deepEqual(
    all.keys.map((k) => k.key),
    ['display.theme', 'display.units', 'plant.name'],
  );
  const units = all.keys.find((k) => k.key === 'display.units');
  assert.equal(units.layer, 'user');
  assert.equal(units.revision, 2);
  assert.equal(units.source, 'test');
  assert.match(units.time, /^\d{4}-\d\d-\d\dT.*Z$/);
  assert.deepEqual(units.schema, { enum: ['metric', 'imperial'] });
  assert.equal(units.layers, undefined);
  const theme = all.keys.find((k) => k.key === 'display.theme');
  assert.equal(theme.layer, 'env');
  assert.equal(theme.value, 'dark');
  assert.deepEqual(theme.env, { var: 'PSMC_DISPLAY__THEME', value: 'dark' });

  const display = (await request(p, '/api/v1/keys?prefix=display&layers=1', { token: s.token })).json<{
    keys: Json[];
  }>();
  assert.deepEqual(
    display.keys.map((k) => k.key),
    ['display.theme', 'display.units'],
  );
  const layered = display.keys.find((k) => k.key === 'display.theme');
  assert.deepEqual(
    layered.layers.map((l: Json) => [l.layer, l.value]),
    [
      ['env', 'dark'],
      ['user', 'light'],
    ],
  );

  const one = await request(p, '/api/v1/keys/display.units', { token: s.token });
  assert.equal(one.status, 200);
  assert.equal(one.headers['etag'], '"2"');
  assert.equal(one.json<Json>().layers[0].layer, 'user');

  const missing = await request(p, '/api/v1/keys/no.such', { token: s.token });
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing), 'PSMC_NOT_FOUND');
  const bad = await request(p, '/api/v1/keys/Bad..Key', { token: s.token });
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad), 'PSMC_KEY_SYNTAX');
  const badPrefix = await request(p, '/api/v1/keys?prefix=..x', { token: s.token });
  assert.equal(badPrefix.status, 400);
});

test('PUT: set, no-op, schema violation 422, bad bodies 400, and the write is recorded as http:<name>', async (t) => {
  const store = openStore({
    dir: join((await import('node:os')).tmpdir(), `psmc-http-put-${process.pid}-${Date.now()}`),
    env: {},
  });
  t.after(async () => (await import('node:fs')).rmSync(store.info.user!.dir, { recursive: true, force: true }));
  store.setSchema({ keys: { 'refresh.ms': { type: 'integer', minimum: 100 } } });
  const s = await inProcess(t, { store });
  const p = s.server.port;
  const r1 = await put(p, s.token, 'refresh.ms', 500);
  assert.equal(r1.status, 200);
  assert.deepEqual(r1.json(), { key: 'refresh.ms', revision: 2, storeRevision: 2, changed: true });
  const same = await put(p, s.token, 'refresh.ms', 500);
  assert.deepEqual(same.json(), { key: 'refresh.ms', revision: 2, storeRevision: 2, changed: false });
  const low = await put(p, s.token, 'refresh.ms', 5);
  assert.equal(low.status, 422);
  assert.equal(errorCode(low), 'PSMC_SCHEMA_VIOLATION');
  assert.equal(typeof low.json<Json>().error.hint, 'string');
  assert.equal(store.get('refresh.ms'), 500);
  assert.equal(store.history('refresh.ms')[0]?.source, 'http:serve');

  for (const [body, code] of [
    ['{"value": 1', 'PSMC_PARSE'],
    ['[1]', 'PSMC_USAGE'],
    ['{"val": 1}', 'PSMC_USAGE'],
    ['{}', 'PSMC_USAGE'],
    ['{"value": 1, "extra": 2}', 'PSMC_USAGE'],
    ['{"value": 9007199254740993}', 'PSMC_VALUE_INVALID'],
  ] as const) {
    const r = await request(p, '/api/v1/keys/other.key', {
      method: 'PUT',
      token: s.token,
      headers: JSON_HEADERS,
      body,
    });
    assert.equal(r.status, 400, body);
    assert.equal(errorCode(r), code, body);
  }
  assert.equal(store.get('other.key'), undefined);
});

test('CAS: If-Match with the current revision wins, a stale one gets 412 with the current value', async (t) => {
  const s = await inProcess(t, { seed: { 'plant.name': 'North' } });
  const p = s.server.port;
  const ok = await put(p, s.token, 'plant.name', 'South', '1');
  assert.equal(ok.status, 200);
  assert.equal(ok.json<Json>().revision, 2);
  // Someone else writes (the CLI, another process).
  assert.equal(cli(s.dir, ['set', 'plant.name', 'East']).status, 0);
  const stale = await put(p, s.token, 'plant.name', 'West', '"2"');
  assert.equal(stale.status, 412);
  const body = stale.json<Json>();
  assert.equal(body.error.code, 'PSMC_CONFLICT');
  assert.equal(body.current.value, 'East');
  assert.equal(body.current.revision, 3);
  assert.equal(body.current.source, 'cli');
  assert.match(body.current.time, /Z$/);
  assert.equal(s.store.get('plant.name'), 'East');
  // 0 = must be absent.
  const create = await put(p, s.token, 'plant.new', 1, '0');
  assert.equal(create.status, 200);
  const again = await put(p, s.token, 'plant.new', 2, '0');
  assert.equal(again.status, 412);
  assert.equal(again.json<Json>().current.value, 1);
  const bad = await put(p, s.token, 'plant.new', 2, 'abc');
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad), 'PSMC_USAGE');
});

test('DELETE with and without If-Match', async (t) => {
  const s = await inProcess(t, { seed: { a: 1, b: 2 } });
  const p = s.server.port;
  const stale = await request(p, '/api/v1/keys/a', { method: 'DELETE', token: s.token, headers: { 'if-match': '2' } });
  assert.equal(stale.status, 412);
  assert.equal(stale.json<Json>().current.value, 1);
  const d = await request(p, '/api/v1/keys/a', { method: 'DELETE', token: s.token, headers: { 'if-match': '1' } });
  assert.deepEqual(d.json(), { key: 'a', storeRevision: 3, changed: true });
  const none = await request(p, '/api/v1/keys/a', { method: 'DELETE', token: s.token });
  assert.deepEqual(none.json(), { key: 'a', storeRevision: 3, changed: false });
  assert.equal(s.store.get('a'), undefined);
  assert.equal(s.store.get('b'), 2);
});

test('revert to a history revision; 404 for a revision that did not touch the key', async (t) => {
  const s = await inProcess(t, { seed: { k: 'one' } });
  s.store.set('k', 'two');
  s.store.delete('k');
  const p = s.server.port;
  const post = (key: string, body: string, headers: Record<string, string> = {}): Promise<Reply> =>
    request(p, `/api/v1/keys/${key}/revert`, {
      method: 'POST',
      token: s.token,
      headers: { ...JSON_HEADERS, ...headers },
      body,
    });
  const r = await post('k', '{"revision": 1}');
  assert.equal(r.status, 200);
  assert.equal(s.store.get('k'), 'one');
  assert.equal(r.json<Json>().revision, 4);
  const toDeleted = await post('k', '{"revision": 3}', { 'if-match': '4' });
  assert.equal(toDeleted.status, 200);
  assert.equal(s.store.get('k'), undefined);
  assert.equal((await post('k', '{"revision": 99}')).status, 404);
  assert.equal((await post('k', '{"revision": 0}')).status, 400);
  assert.equal((await post('k', '{"revision": "1"}')).status, 400);
  const stale = await post('k', '{"revision": 2}', { 'if-match': '1' });
  assert.equal(stale.status, 412);
});

test('explain shows every layer and the reason', async (t) => {
  const s = await inProcess(t, { seed: { 'x.y': true } });
  const r = (await request(s.server.port, '/api/v1/explain/x.y', { token: s.token })).json<Json>();
  assert.equal(r.found, true);
  assert.equal(r.layer, 'user');
  assert.equal(typeof r.reason, 'string');
  assert.deepEqual(
    r.layers.map((l: Json) => l.layer),
    ['override', 'env', 'project', 'user', 'default', 'caller'],
  );
  const absent = (await request(s.server.port, '/api/v1/explain/x.z', { token: s.token })).json<Json>();
  assert.equal(absent.found, false);
  assert.equal((await request(s.server.port, '/api/v1/explain/a..b', { token: s.token })).status, 400);
});

test('history: key, prefix, since/until, time filters, limit; newest first', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const dir = join((await import('node:os')).tmpdir(), `psmc-http-hist-${process.pid}-${Date.now()}`);
  t.after(async () => (await import('node:fs')).rmSync(dir, { recursive: true, force: true }));
  const store = openStore({ dir, env: {}, clock: () => now });
  for (let i = 1; i <= 6; i++) {
    now += 60_000;
    store.set(i % 2 === 0 ? 'a.even' : 'a.odd', i);
  }
  now += 60_000;
  store.set('b', 7);
  const s = await inProcess(t, { store });
  const h = async (q: string): Promise<Json[]> => {
    const r = await request(s.server.port, `/api/v1/history${q}`, { token: s.token });
    assert.equal(r.status, 200, r.text);
    return r.json<{ entries: Json[] }>().entries;
  };
  assert.deepEqual(
    (await h('')).map((e) => e.revision),
    [7, 6, 5, 4, 3, 2, 1],
  );
  assert.deepEqual(
    (await h('?key=a.even')).map((e) => e.value),
    [6, 4, 2],
  );
  assert.deepEqual(
    (await h('?key=a&prefix=1&limit=2')).map((e) => e.revision),
    [6, 5],
  );
  assert.deepEqual(
    (await h('?since=3&until=5')).map((e) => e.revision),
    [5, 4],
  );
  // Revision 2 at 00:02, 3 at 00:03 … after is exclusive, before inclusive.
  assert.deepEqual(
    (await h('?after=2026-01-01T00:02:00Z&before=2026-01-01T00:04:00Z')).map((e) => e.revision),
    [4, 3],
  );
  const first = (await h('?key=a.odd&limit=1'))[0];
  assert.equal(first.op, 'set');
  assert.equal(first.previous, 3);
  assert.equal(first.source, 'api');
  assert.equal(first.time, '2026-01-01T00:05:00.000Z');
  for (const q of ['?since=x', '?limit=0', '?limit=10001', '?after=yesterday', '?key=..']) {
    const r = await request(s.server.port, `/api/v1/history${q}`, { token: s.token });
    assert.equal(r.status, 400, q);
  }
});

test('undo: newest, a given revision, nothing to undo (409), conflict (412) and force', async (t) => {
  const s = await inProcess(t);
  const p = s.server.port;
  const undo = (body: string): Promise<Reply> =>
    request(p, '/api/v1/undo', { method: 'POST', token: s.token, headers: JSON_HEADERS, body });
  const empty = await undo('');
  assert.equal(empty.status, 409);
  assert.equal(errorCode(empty), 'PSMC_NOTHING_TO_UNDO');
  s.store.set('k', 1);
  s.store.set('k', 2);
  const r = await undo('{}');
  assert.equal(r.status, 200);
  assert.equal(s.store.get('k'), 1);
  assert.equal(r.json<Json>().changes[0].source, 'http:serve');
  const conflict = await undo('{"revision": 1}');
  assert.equal(conflict.status, 412);
  const forced = await undo('{"revision": 1, "force": true}');
  assert.equal(forced.status, 200);
  assert.equal(s.store.get('k'), undefined);
  assert.equal((await undo('{"revision": -1}')).status, 400);
  assert.equal((await undo('{"force": "yes"}')).status, 400);
});

test('schema: null, then the document', async (t) => {
  const s = await inProcess(t);
  assert.deepEqual((await request(s.server.port, '/api/v1/schema', { token: s.token })).json(), { schema: null });
  s.store.setSchema({ keys: { a: { type: 'integer' } } });
  const r = (await request(s.server.port, '/api/v1/schema', { token: s.token })).json<Json>();
  assert.deepEqual(r.schema.keys, { a: { type: 'integer' } });
});

test('snapshots: create, list, read, diff, restore (with its automatic snapshot), delete; names validated', async (t) => {
  const s = await inProcess(t, { seed: { 'plant.name': 'North', 'display.units': 'metric' } });
  const p = s.server.port;
  const post = (path: string, body = '{}'): Promise<Reply> =>
    request(p, path, { method: 'POST', token: s.token, headers: JSON_HEADERS, body });
  const created = await post('/api/v1/snapshots', '{"name": "before-upgrade"}');
  assert.equal(created.status, 201);
  assert.equal(created.json<Json>().name, 'before-upgrade');
  assert.equal(created.json<Json>().keys, 2);
  assert.equal(created.json<Json>().auto, false);
  const unnamed = await post('/api/v1/snapshots', '');
  assert.equal(unnamed.status, 201);
  const dup = await post('/api/v1/snapshots', '{"name": "before-upgrade"}');
  assert.ok(dup.status >= 400 && dup.status < 500, dup.text);
  assert.equal((await post('/api/v1/snapshots', '{"name": "../x"}')).status, 400);

  s.store.set('plant.name', 'South');
  s.store.delete('display.units');
  s.store.set('new.key', 1);
  const list = (await request(p, '/api/v1/snapshots', { token: s.token })).json<Json>();
  assert.equal(list.snapshots.length, 2);
  assert.deepEqual(list.problems, []);
  const doc = (await request(p, '/api/v1/snapshots/before-upgrade', { token: s.token })).json<Json>();
  assert.equal(doc.entries['plant.name'].value, 'North');
  const diff = (await request(p, '/api/v1/snapshots/before-upgrade/diff', { token: s.token })).json<Json>();
  assert.equal(diff.to.name, 'current');
  assert.deepEqual(diff.changes.map((c: Json) => [c.key, c.change]).sort(), [
    ['display.units', 'removed'],
    ['new.key', 'added'],
    ['plant.name', 'changed'],
  ]);
  const diff2 = await request(p, `/api/v1/snapshots/before-upgrade/diff?against=${unnamed.json<Json>().name}`, {
    token: s.token,
  });
  assert.equal(diff2.status, 200);
  assert.deepEqual(diff2.json<Json>().changes, []);

  const restored = await post('/api/v1/snapshots/before-upgrade/restore', '');
  assert.equal(restored.status, 200, restored.text);
  const rr = restored.json<Json>();
  assert.equal(rr.changes, 3);
  assert.match(rr.autoSnapshot, /before-restore/);
  assert.equal(s.store.get('plant.name'), 'North');
  assert.equal(s.store.get('new.key'), undefined);
  // Undo the restore by restoring the automatic snapshot.
  const back = await post(`/api/v1/snapshots/${rr.autoSnapshot}/restore`);
  assert.equal(back.status, 200);
  assert.equal(s.store.get('plant.name'), 'South');

  const del = await request(p, '/api/v1/snapshots/before-upgrade', { method: 'DELETE', token: s.token });
  assert.deepEqual(del.json(), { deleted: 'before-upgrade' });
  const gone = await request(p, '/api/v1/snapshots/before-upgrade', { token: s.token });
  assert.equal(gone.status, 404);
  assert.equal(errorCode(gone), 'PSMC_NOT_FOUND');
  for (const bad of ['..', '.hidden', 'a%2Fb', 'x.json', 'current', '%00']) {
    const r = await request(p, `/api/v1/snapshots/${bad}`, { token: s.token });
    assert.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status}`);
  }
  assert.equal((await request(p, '/api/v1/snapshots/ok/diff?against=..%2Fx', { token: s.token })).status, 400);
});

test('export and import (merge and replace), all or nothing', async (t) => {
  const s = await inProcess(t, { seed: { a: 1, b: 2 } });
  const p = s.server.port;
  const exp = (await request(p, '/api/v1/export', { token: s.token })).json<Json>();
  assert.equal(exp.format, 'psmc-export');
  assert.equal(exp.entries.a.value, 1);
  const imp = (body: string, q = ''): Promise<Reply> =>
    request(p, `/api/v1/import${q}`, { method: 'POST', token: s.token, headers: JSON_HEADERS, body });
  const flat = await imp('{"c": 3}');
  assert.equal(flat.status, 200);
  assert.equal(flat.json<Json>().changes, 1);
  assert.equal(s.store.get('c'), 3);
  const replaced = await imp(JSON.stringify(exp), '?replace=1');
  assert.equal(replaced.status, 200);
  assert.equal(s.store.get('c'), undefined);
  assert.equal(s.store.history('a', { limit: 1 })[0]?.revision, 1);
  const before = s.store.revision();
  const bad = await imp('{"ok.key": 1, "Bad Key": 2}');
  assert.equal(bad.status, 400);
  assert.equal(s.store.revision(), before);
  assert.equal(s.store.get('ok.key'), undefined);
});

test('unknown routes and methods are JSON 404s; the GUI is served at / when built', async (t) => {
  const s = await inProcess(t, { guiDir: join(process.cwd(), 'no-such-gui-dir') });
  const p = s.server.port;
  for (const [method, path] of [
    ['GET', '/api/v1/nope'],
    ['GET', '/api/v2/keys'],
    ['PATCH', '/api/v1/keys/a'],
    ['GET', '/api'],
  ] as const) {
    const r = await request(p, path, { method, token: s.token, headers: JSON_HEADERS });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(errorCode(r), 'PSMC_NOT_FOUND');
  }
  const noGui = await request(p, '/', { token: s.token });
  assert.equal(noGui.status, 404);
  assert.match(noGui.json<Json>().error.hint, /npm run build/);
});

test('the GUI files from dist/gui: index, assets, content types, security headers', async (t) => {
  const gui = join(process.cwd(), 'dist', 'gui');
  if (!existsSync(join(gui, 'index.html'))) {
    t.skip('dist/gui is not built (npm run build builds it)');
    return;
  }
  const s = await inProcess(t);
  const p = s.server.port;
  const index = await request(p, '/', { token: s.token });
  assert.equal(index.status, 200);
  assert.match(String(index.headers['content-type']), /^text\/html/);
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  const scripts = [...index.text.matchAll(/src="([^"]+)"/g)].map((m) => m[1] as string);
  for (const src of scripts) {
    const r = await request(p, src.startsWith('/') ? src : `/${src}`, { token: s.token });
    assert.equal(r.status, 200, src);
    assert.match(String(r.headers['content-type']), /javascript/);
  }
  assert.equal((await request(p, '/assets/..%2F..%2Fpackage.json', { token: s.token })).status, 404);
  assert.equal((await request(p, '/.hidden', { token: s.token })).status, 404);
});

test('a store that does not exist yet: empty lists, then the first PUT creates it and the feed sees it', async (t) => {
  const { tempDir, sse } = await import('./harness.js');
  const dir = join(tempDir(t), 'not-yet');
  const store = openStore({ dir, env: {}, source: 'test' });
  const s = await inProcess(t, { store });
  const p = s.server.port;
  assert.equal(existsSync(dir), false);
  assert.deepEqual((await request(p, '/api/v1/keys', { token: s.token })).json(), { revision: 0, keys: [] });
  assert.deepEqual((await request(p, '/api/v1/history', { token: s.token })).json(), { entries: [] });
  const st = (await request(p, '/api/v1/status', { token: s.token })).json<Json>();
  assert.equal(st.store.exists, false);
  assert.equal(st.revision, 0);
  const feed = sse(p, '/api/v1/events', { authorization: `Bearer ${s.token}` });
  t.after(() => feed.close());
  await feed.until((ev) => ev.some((e) => e.event === 'status'));
  assert.equal((await put(p, s.token, 'first.key', 1)).status, 200);
  await feed.until((ev) => ev.some((e) => e.event === 'change'));
  assert.equal(existsSync(join(dir, 'psmc.db')), true);
});

test('the CLI bundle keeps the server in its own file: psmc get never parses it', () => {
  const bundle = readFileSync(join(ROOT, 'dist', 'bundle', 'psmc.cjs'), 'utf8');
  assert.ok(!bundle.includes('@hono/node-server') && !/\bhono\b/.test(bundle), 'hono is not in the main CLI bundle');
  assert.match(bundle, /server\.cjs/);
  assert.ok(existsSync(join(ROOT, 'dist', 'bundle', 'server.cjs')));
});

test('status counts the files waiting in the imports/ drop folder', async (t) => {
  const { tempDir } = await import('./harness.js');
  const { statusOf } = await import('../../src/server/shapes.js');
  const { pendingImports } = await import('../../src/mirror/imports.js');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = join(tempDir(t), 'store');
  const store = openStore({ dir, env: {} });
  t.after(() => store.close());
  store.set('a', 1);
  const waiting = (): number => statusOf(store, 'test', 0, (d) => pendingImports(d).length).imports.waiting;
  assert.equal(waiting(), 0);
  mkdirSync(join(dir, 'imports'), { recursive: true });
  writeFileSync(join(dir, 'imports', 'x.json'), '{"b": 2}');
  assert.equal(waiting(), 1);
});

/**
 * The OpenAPI document against the real routes: the served document equals
 * the module's; every route the app registers is documented and every
 * documented operation is a route; every $ref resolves; and calling each
 * operation on a real server answers with a status the document lists.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from '../../src/server/app.js';
import { Authenticator } from '../../src/server/auth.js';
import { hostPolicy } from '../../src/server/guard.js';
import { openApiDocument } from '../../src/server/openapi.js';
import { TokenFile } from '../../src/server/tokens.js';
import { inProcess, request, type Json } from './harness.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Json>>;
  components: Record<string, Record<string, Json>>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function documented(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m] !== undefined) out.add(`${m.toUpperCase()} /api/v1${path}`);
  return out;
}

test('every route of the app is in the OpenAPI document, and every documented operation is a route', async (t) => {
  const s = await inProcess(t);
  const { app, feed } = createApp({
    store: s.store,
    auth: new Authenticator(new TokenFile(s.dir), undefined, 1),
    policy: () => hostPolicy(1, '127.0.0.1', []),
    guiDir: s.dir,
    version: 'test',
    log: () => {},
  });
  t.after(() => feed.close());
  const routes = new Set(
    app.routes
      .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
  );
  // The static GUI route is the only other one.
  assert.deepEqual(
    app.routes.filter((r) => r.method !== 'ALL' && !r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}`),
    ['GET /*'],
  );
  const doc = openApiDocument('test') as Doc;
  const docs = documented(doc);
  assert.deepEqual(
    [...routes].filter((r) => !docs.has(r)),
    [],
    'routes missing from the OpenAPI document',
  );
  assert.deepEqual(
    [...docs].filter((r) => !routes.has(r)),
    [],
    'documented operations that are not routes',
  );
  assert.ok(routes.size >= 23, `${routes.size} routes`);
});

test('the document is well formed: OpenAPI 3, unique operationIds, every $ref resolves, path parameters declared', () => {
  const doc = openApiDocument('1.2.3') as Doc;
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const m of METHODS) {
      const op = item[m];
      if (op === undefined) continue;
      assert.equal(typeof op.operationId, 'string', `${m} ${path}`);
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(
        Object.keys(op.responses).some((c) => c.startsWith('2')),
        `${m} ${path} has no success response`,
      );
      const params = [...(item['parameters'] ?? []), ...(op.parameters ?? [])] as { name: string; in: string }[];
      for (const n of names)
        assert.ok(
          params.some((p) => p.in === 'path' && p.name === n),
          `${m} ${path}: {${n}} not declared`,
        );
    }
  }
  const refs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
    }
  };
  walk(doc);
  assert.ok(refs.length > 20);
  for (const ref of refs) {
    const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(ref) ?? [];
    assert.ok(
      section !== undefined && name !== undefined && doc.components[section]?.[name] !== undefined,
      `unresolved ${ref}`,
    );
  }
});

test('the served document is this one, and each documented operation answers with a documented status', async (t) => {
  const s = await inProcess(t, { seed: { 'plant.name': 'North' } });
  s.store.snapshot('snap1');
  const served = await request(s.server.port, '/api/v1/openapi.json', { token: s.token });
  assert.equal(served.status, 200);
  assert.deepEqual(served.json(), openApiDocument(s.server.version));
  const doc = served.json<Doc>();
  // Run the writes that remove things last.
  const order = (m: string): number => (m === 'delete' ? 2 : m === 'get' ? 0 : 1);
  const ops: [string, string][] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m] !== undefined) ops.push([m, path]);
  ops.sort((a, b) => order(a[0]) - order(b[0]));
  for (const [m, path] of ops) {
    if (path === '/events') continue; // a stream: see events.test
    const op = doc.paths[path]?.[m];
    const url = '/api/v1' + path.replace('{key}', 'plant.name').replace('{name}', 'snap1');
    const body =
      m === 'put'
        ? '{"value": "South"}'
        : m === 'post'
          ? path.endsWith('/revert')
            ? '{"revision": 1}'
            : '{}'
          : undefined;
    const r = await request(s.server.port, url, {
      method: m.toUpperCase(),
      token: s.token,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    assert.ok(
      Object.hasOwn(op.responses, String(r.status)),
      `${m.toUpperCase()} ${url} answered ${r.status}, not documented: ${r.text.slice(0, 200)}`,
    );
    assert.ok(r.status < 300, `${m.toUpperCase()} ${url}: ${r.status} ${r.text.slice(0, 200)}`);
  }
});

/**
 * Security of the HTTP service, against the real server (docs/http-api.md
 * §authentication, §request checks): every route without a token, read-only
 * tokens writing, Host header variants (DNS rebinding), foreign and null
 * Origins, form posts, oversized bodies, path traversal in names and keys,
 * prototype-pollution bodies at every depth, CORS, login and sessions,
 * tokens at rest. Every refusal leaves the store and Object.prototype as they
 * were.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openApiDocument } from '../../src/server/openapi.js';
import { TokenFile } from '../../src/server/tokens.js';
import { inProcess, rawRequest, request, type InProcess, type Reply } from './harness.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Every documented operation, with sample path parameters and a plausible body. */
function operations(): { method: string; path: string; body?: string }[] {
  const doc = openApiDocument('test') as { paths: Record<string, Record<string, unknown>> };
  const out: { method: string; path: string; body?: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete']) {
      if (item[method] === undefined) continue;
      const real = '/api/v1' + path.replace('{key}', 'plant.name').replace('{name}', 'snap1');
      const body =
        method === 'put'
          ? '{"value": "x"}'
          : method === 'post'
            ? path.endsWith('/revert')
              ? '{"revision": 1}'
              : '{}'
            : undefined;
      out.push({ method: method.toUpperCase(), path: real, ...(body === undefined ? {} : { body }) });
    }
  }
  return out;
}

/** What must not change: the store's export and revision, and Object.prototype. */
function fingerprint(s: InProcess): string {
  const exp = s.store.exportData();
  return JSON.stringify({
    revision: s.store.revision(),
    entries: exp.entries,
    snapshots: s.store.snapshots().snapshots.map((x) => x.name),
  });
}

function protoFingerprint(): string {
  return JSON.stringify([
    Object.getOwnPropertyNames(Object.prototype).sort(),
    Object.getOwnPropertyNames(Array.prototype).sort(),
  ]);
}

function code(r: Reply): string {
  return r.json<{ error: { code: string } }>().error.code;
}

async function seeded(t: Parameters<typeof inProcess>[0]): Promise<InProcess> {
  const s = await inProcess(t, { seed: { 'plant.name': 'North', 'display.units': 'metric' } });
  s.store.snapshot('snap1');
  return s;
}

test('every route without a token, or with a wrong one, is 401 and changes nothing', async (t) => {
  const s = await seeded(t);
  const before = fingerprint(s);
  const routes = [
    ...operations(),
    { method: 'GET', path: '/' },
    { method: 'GET', path: '/index.html' },
    { method: 'GET', path: '/assets/main.js' },
  ];
  assert.ok(routes.length >= 24, `${routes.length} routes`);
  for (const { method, path, body } of routes) {
    for (const auth of [
      undefined,
      'Bearer psmc_' + 'A'.repeat(43),
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${s.token}x`,
      `Token ${s.token}`,
    ]) {
      const headers: Record<string, string> = {
        ...JSON_HEADERS,
        ...(auth === undefined ? {} : { authorization: auth }),
      };
      const r = await request(s.server.port, path, { method, headers, ...(body === undefined ? {} : { body }) });
      assert.equal(r.status, 401, `${method} ${path} with ${auth ?? 'no token'}: ${r.status} ${r.text.slice(0, 200)}`);
      if (path.startsWith('/api/')) assert.equal(code(r), 'PSMC_UNAUTHORIZED');
      else assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.ok(!r.text.includes(s.token), 'the answer never holds the token');
    }
  }
  // A session cookie that does not exist, and the login token used as a cookie, are refused too.
  for (const cookie of [
    `psmc_session_${s.server.port}=psmc_${'B'.repeat(43)}`,
    `psmc_session_${s.server.port}=${s.token}`,
  ]) {
    const r = await request(s.server.port, '/api/v1/keys', { headers: { cookie } });
    assert.equal(r.status, 401);
  }
  assert.equal(fingerprint(s), before);
});

test('a read-only token reads, and every write with it is 403 and changes nothing', async (t) => {
  const s = await seeded(t);
  const file = new TokenFile(s.dir);
  const { secret } = file.create({ name: 'dashboard', scopes: ['read'] });
  const before = fingerprint(s);
  let writes = 0;
  for (const { method, path, body } of operations()) {
    if (path === '/api/v1/events') continue; // a stream that stays open; reading it is covered in events.test
    const r = await request(s.server.port, path, {
      method,
      token: secret,
      headers: JSON_HEADERS,
      ...(body === undefined ? {} : { body }),
    });
    if (method === 'GET') {
      assert.ok(r.status < 400 || r.status === 404, `${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
      continue;
    }
    if (path === '/api/v1/logout') continue; // ending one's own session is not a write to the store
    writes++;
    assert.equal(r.status, 403, `${method} ${path}: ${r.status}`);
    assert.equal(code(r), 'PSMC_FORBIDDEN');
  }
  assert.ok(writes >= 8, `${writes} write routes`);
  assert.deepEqual((await request(s.server.port, '/api/v1/session', { token: secret })).json(), {
    scopes: ['read'],
    name: 'dashboard',
    kind: 'token',
    store: s.dir,
  });
  assert.equal(fingerprint(s), before);
});

test('Host header: only the loopback names with the port (and --allow-host names); 50+ variants refused', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 }, allowHosts: ['plant.lan'] });
  const P = s.server.port;
  const ask = (host: string | undefined): Promise<{ status: number; text: string }> =>
    rawRequest(
      P,
      `GET /api/v1/health HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Authorization: Bearer ${s.token}\r\nConnection: close\r\n\r\n`,
    );
  for (const good of [`127.0.0.1:${P}`, `localhost:${P}`, `[::1]:${P}`, 'plant.lan', `plant.lan:${P}`]) {
    assert.equal((await ask(good)).status, 200, good);
  }
  const bad = [
    '',
    'evil.com',
    `evil.com:${P}`,
    '127.0.0.1',
    'localhost',
    '[::1]',
    `127.0.0.1:${P + 1}`,
    `localhost:${P + 1}`,
    `[::1]:${P + 1}`,
    `127.0.0.2:${P}`,
    `0.0.0.0:${P}`,
    `127.1:${P}`,
    `2130706433:${P}`,
    `0x7f000001:${P}`,
    `0177.0.0.1:${P}`,
    `127.000.000.001:${P}`,
    `localhost.:${P}`,
    `LOCALHOST:${P}`,
    `Localhost:${P}`,
    `localhost.evil.com:${P}`,
    `evil.localhost:${P}`,
    `127.0.0.1.nip.io:${P}`,
    `[::ffff:127.0.0.1]:${P}`,
    `[0:0:0:0:0:0:0:1]:${P}`,
    `::1:${P}`,
    `[::1]:${P}0`,
    `127.0.0.1:0${P}`,
    `127.0.0.1:${P}/`,
    `127.0.0.1:${P}@evil.com`,
    `evil.com@127.0.0.1:${P}`,
    `127.0.0.1 :${P}`,
    `127.0.0.1:${P}.`,
    `127.0.0.1:${P}:${P}`,
    `127.0.0.1:+${P}`,
    `127.0.0.1:${P}#x`,
    `127.0.0.1:${P}?x`,
    `localhost:${P} evil`,
    '*',
    '127.0.0.1:*',
    'localhost:-1',
    'localhost:65536',
    `http://127.0.0.1:${P}`,
    `127.0.0.1%3A${P}`,
    `xn--localhost:${P}`,
    `[::]:${P}`,
    `0:${P}`,
    `169.254.169.254:${P}`,
    `192.168.1.1:${P}`,
    `host.docker.internal:${P}`,
    `localhost:${P},evil.com`,
    `plant.lan.evil.com`,
    `plant.lan:${P + 1}`,
    `evil.plant.lan`,
    `PLANT.LAN.`,
  ];
  assert.ok(bad.length >= 50, `${bad.length} variants`);
  // Node's HTTP/1.1 parser answers 400 itself when the Host header is empty.
  const NODE_REFUSES = new Set(['']);
  const wrong: string[] = [];
  for (const host of bad) {
    const r = await ask(host);
    // 403 from psmc; or 400 from Node's HTTP parser itself, for a Host it cannot accept at all.
    const fromNode = r.status === 400 && !r.text.includes('PSMC_');
    if (!((r.status === 403 && r.text.includes('PSMC_FORBIDDEN')) || (fromNode && NODE_REFUSES.has(host))))
      wrong.push(`${JSON.stringify(host)} → ${r.status}`);
  }
  assert.deepEqual(wrong, []);
  // No Host at all (HTTP/1.0), and two Host headers.
  const none = await rawRequest(P, `GET /api/v1/health HTTP/1.0\r\nAuthorization: Bearer ${s.token}\r\n\r\n`);
  assert.equal(none.status, 403);
  const two = await rawRequest(
    P,
    `GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nHost: evil.com\r\nAuthorization: Bearer ${s.token}\r\nConnection: close\r\n\r\n`,
  );
  assert.ok(two.status === 400 || two.status === 403, `two Host headers: ${two.status}`);
  // A write through a rebound name changes nothing.
  const before = s.store.revision();
  const w = await rawRequest(
    P,
    `PUT /api/v1/keys/a HTTP/1.1\r\nHost: evil.com:${P}\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"value":2}`,
  );
  assert.equal(w.status, 403);
  assert.equal(s.store.revision(), before);
});

test('Origin: a foreign origin and Origin: null are refused on reads and writes; no CORS headers ever', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  const P = s.server.port;
  const before = fingerprint(s);
  const origins = [
    'null',
    'http://evil.com',
    `http://evil.com:${P}`,
    `https://127.0.0.1:${P}`,
    `http://127.0.0.1:${P + 1}`,
    `http://127.0.0.1:${P}.evil.com`,
    'http://127.0.0.1',
    `http://localhost:${P}/`,
    'file://',
    `chrome-extension://abc`,
  ];
  for (const origin of origins) {
    for (const [method, path, body] of [
      ['GET', '/api/v1/keys', undefined],
      ['PUT', '/api/v1/keys/a', '{"value": 2}'],
      ['GET', '/api/v1/events', undefined],
      ['OPTIONS', '/api/v1/keys/a', undefined],
    ] as const) {
      const r = await request(P, path, {
        method,
        token: s.token,
        headers: { ...JSON_HEADERS, origin, 'access-control-request-method': 'PUT' },
        ...(body === undefined ? {} : { body }),
      });
      assert.equal(r.status, 403, `${method} ${path} from ${origin}: ${r.status}`);
      assert.equal(code(r), 'PSMC_FORBIDDEN');
      for (const h of Object.keys(r.headers)) assert.ok(!h.startsWith('access-control-'), `${h} sent`);
    }
  }
  const cross = await request(P, '/api/v1/keys', { token: s.token, headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(cross.status, 403);
  // The own origin works, still without CORS headers.
  const own = await request(P, '/api/v1/keys', { token: s.token, headers: { origin: `http://127.0.0.1:${P}` } });
  assert.equal(own.status, 200);
  for (const h of Object.keys(own.headers)) assert.ok(!h.startsWith('access-control-'), `${h} sent`);
  const preflight = await request(P, '/api/v1/keys/a', {
    method: 'OPTIONS',
    headers: { origin: `http://127.0.0.1:${P}`, 'access-control-request-method': 'PUT' },
  });
  assert.equal(preflight.status, 401);
  for (const h of Object.keys(preflight.headers)) assert.ok(!h.startsWith('access-control-'), `${h} sent`);
  assert.equal(fingerprint(s), before);
});

test('writes need JSON: form-encoded, multipart and text bodies are 415; cookie writes need X-Psmc-Request', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  const P = s.server.port;
  const before = fingerprint(s);
  const cases: [string, string | undefined, string][] = [
    ['PUT', 'application/x-www-form-urlencoded', 'value=2'],
    [
      'PUT',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="value"\r\n\r\n2\r\n--x--\r\n',
    ],
    ['PUT', 'text/plain', '{"value": 2}'],
    ['PUT', undefined, '{"value": 2}'],
    ['PUT', 'application/json; charset=latin1', '{"value": 2}'],
    ['PUT', 'application/jsonx', '{"value": 2}'],
  ];
  for (const [method, type, body] of cases) {
    const r = await request(P, '/api/v1/keys/a', {
      method,
      token: s.token,
      headers: type === undefined ? {} : { 'content-type': type },
      body,
    });
    assert.equal(r.status, 415, `${type ?? 'no type'}: ${r.status}`);
    assert.equal(code(r), 'PSMC_UNSUPPORTED_MEDIA_TYPE');
  }
  for (const path of [
    '/api/v1/undo',
    '/api/v1/import',
    '/api/v1/snapshots',
    '/api/v1/snapshots/x/restore',
    '/api/v1/keys/a/revert',
  ]) {
    const r = await request(P, path, {
      method: 'POST',
      token: s.token,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    assert.equal(r.status, 415, path);
  }
  // A browser session: log in, then a write without the header is refused, with it accepted (source gui).
  const login = await request(P, `/?token=${s.token}`);
  assert.equal(login.status, 303);
  assert.equal(login.headers['location'], '/');
  const setCookie = String(login.headers['set-cookie']);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\//);
  const cookie = setCookie.split(';')[0] as string;
  assert.ok(!cookie.includes(s.token), 'the session cookie is not the login token');
  const form = await request(P, '/api/v1/keys/a', {
    method: 'PUT',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-psmc-request': '1' },
    body: 'value=2',
  });
  assert.equal(form.status, 415);
  const noHeader = await request(P, '/api/v1/keys/a', {
    method: 'PUT',
    headers: { cookie, ...JSON_HEADERS },
    body: '{"value": 2}',
  });
  assert.equal(noHeader.status, 403);
  assert.equal(fingerprint(s), before);
  const ok = await request(P, '/api/v1/keys/a', {
    method: 'PUT',
    headers: { cookie, ...JSON_HEADERS, 'x-psmc-request': '1' },
    body: '{"value": 2}',
  });
  assert.equal(ok.status, 200);
  assert.equal(s.store.history('a', { limit: 1 })[0]?.source, 'gui');
});

test('bodies over the limit are 413, by Content-Length and when streamed; the store is unchanged', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  const P = s.server.port;
  const before = fingerprint(s);
  const big = JSON.stringify({ value: 'x'.repeat(3 * 1024 * 1024) });
  const r = await request(P, '/api/v1/keys/a', { method: 'PUT', token: s.token, headers: JSON_HEADERS, body: big });
  assert.equal(r.status, 413);
  assert.equal(code(r), 'PSMC_VALUE_TOO_LARGE');
  const imp = await request(P, '/api/v1/import', { method: 'POST', token: s.token, headers: JSON_HEADERS, body: big });
  assert.equal(imp.status, 413);
  // Chunked (no Content-Length): cut off while reading.
  const chunked = await rawRequest(
    P,
    `PUT /api/v1/keys/a HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
      `${(3 * 1024 * 1024).toString(16)}\r\n${'x'.repeat(3 * 1024 * 1024)}\r\n0\r\n\r\n`,
  );
  assert.equal(chunked.status, 413);
  // Just under the value limit is fine.
  const fine = await request(P, '/api/v1/keys/a', {
    method: 'PUT',
    token: s.token,
    headers: JSON_HEADERS,
    body: JSON.stringify({ value: 'y'.repeat(1000) }),
  });
  assert.equal(fine.status, 200);
  assert.notEqual(fingerprint(s), before);
});

test('path traversal in keys, snapshot names and static paths is refused; nothing outside is read or written', async (t) => {
  const s = await seeded(t);
  const P = s.server.port;
  const before = fingerprint(s);
  const keyPaths = [
    '/api/v1/keys/..%2F..%2Fetc%2Fpasswd',
    '/api/v1/keys/..%2fx',
    '/api/v1/keys/%2e%2e',
    '/api/v1/keys/a%2Fb',
    '/api/v1/keys/a%5Cb',
    '/api/v1/keys/a%00b',
    '/api/v1/keys/.a',
    '/api/v1/keys/a..b',
    '/api/v1/explain/..%2F..',
    '/api/v1/keys/%C0%AE%C0%AE',
  ];
  for (const path of keyPaths) {
    const r = await request(P, path, { token: s.token });
    assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
    const w = await request(P, path, { method: 'PUT', token: s.token, headers: JSON_HEADERS, body: '{"value": 1}' });
    assert.ok(w.status === 400 || w.status === 404, `PUT ${path}: ${w.status}`);
  }
  const snapPaths = [
    '/api/v1/snapshots/..%2F..%2Fpsmc.db',
    '/api/v1/snapshots/..%2Fhttp-tokens',
    '/api/v1/snapshots/%2e%2e',
    '/api/v1/snapshots/.snap1',
    '/api/v1/snapshots/snap1.json',
    '/api/v1/snapshots/a%5C..%5Cb',
    '/api/v1/snapshots/%2Fetc%2Fpasswd',
    '/api/v1/snapshots/snap1%00',
  ];
  for (const path of snapPaths) {
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/diff'],
      ['POST', '/restore'],
      ['DELETE', ''],
    ] as const) {
      const r = await request(P, path + suffix, {
        method,
        token: s.token,
        headers: JSON_HEADERS,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      assert.ok(r.status === 400 || r.status === 404, `${method} ${path}${suffix}: ${r.status}`);
      assert.ok(!r.text.includes('psmc-http-tokens') && !r.text.includes('SQLite'), 'no file content leaked');
    }
  }
  for (const name of ['../x', '..', 'a/b', '.x', 'x.json', '', 'a\\b']) {
    const r = await request(P, '/api/v1/snapshots', {
      method: 'POST',
      token: s.token,
      headers: JSON_HEADERS,
      body: JSON.stringify({ name }),
    });
    assert.equal(r.status, 400, JSON.stringify(name));
  }
  const diffAgainst = await request(P, '/api/v1/snapshots/snap1/diff?against=..%2F..%2Fpsmc.db', { token: s.token });
  assert.equal(diffAgainst.status, 400);
  for (const path of [
    '/..%2Fpackage.json',
    '/assets/..%2F..%2Fpackage.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/.env',
    '/assets/a%00.js',
  ]) {
    const r = await rawRequest(
      P,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nAuthorization: Bearer ${s.token}\r\nConnection: close\r\n\r\n`,
    );
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.ok(!r.text.includes('"name": "psmc"') && !r.text.includes('root:'), `${path} leaked a file`);
  }
  assert.equal(fingerprint(s), before);
});

test('prototype-pollution bodies (__proto__, constructor, prototype at every depth) are 400; store and Object.prototype unchanged', async (t) => {
  const s = await seeded(t);
  const P = s.server.port;
  const before = fingerprint(s);
  const proto = protoFingerprint();
  const nest = (depth: number, name: string): string => {
    let inner = `{"${name}": {"polluted": "yes", "isAdmin": true}}`;
    for (let d = 0; d < depth; d++) inner = d % 2 === 0 ? `{"a${d}": ${inner}}` : `[${inner}]`;
    return inner;
  };
  const bodies: [string, string][] = [];
  for (const name of ['__proto__', 'constructor', 'prototype', '\\u005f\\u005fproto\\u005f\\u005f']) {
    for (let depth = 0; depth <= 8; depth++)
      bodies.push(['PUT /api/v1/keys/plant.name', `{"value": ${nest(depth, name)}}`]);
    bodies.push(['PUT /api/v1/keys/plant.name', `{"${name}": {"polluted": "yes"}, "value": 1}`]);
    bodies.push(['PUT /api/v1/keys/plant.name', `{"value": {"constructor": {"prototype": {"polluted": "yes"}}}}`]);
    bodies.push(['POST /api/v1/import', `{"${name}": {"polluted": "yes"}}`]);
    bodies.push([
      'POST /api/v1/import',
      `{"format": "psmc-export", "version": 1, "entries": {"${name}": {"value": {"polluted": "yes"}}}}`,
    ]);
    bodies.push([
      'POST /api/v1/import',
      `{"format": "psmc-export", "version": 1, "entries": {"a": {"value": ${nest(3, name)}}}}`,
    ]);
    bodies.push(['POST /api/v1/import?replace=1', `{"plant.name": ${nest(5, name)}}`]);
    bodies.push(['POST /api/v1/undo', `{"${name}": {"force": true}}`]);
    bodies.push(['POST /api/v1/snapshots', `{"${name}": {"name": "x"}}`]);
    bodies.push(['POST /api/v1/keys/plant.name/revert', `{"revision": 1, "${name}": {"polluted": "yes"}}`]);
    bodies.push(['POST /api/v1/snapshots/snap1/restore', `{"${name}": {"polluted": "yes"}}`]);
  }
  for (const [route, body] of bodies) {
    const [method, path] = route.split(' ') as [string, string];
    const r = await request(P, path, { method, token: s.token, headers: JSON_HEADERS, body });
    assert.equal(r.status, 400, `${route} ${body}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.ok(['PSMC_VALUE_INVALID', 'PSMC_USAGE'].includes(code(r)), code(r));
  }
  assert.ok(bodies.length >= 70, `${bodies.length} bodies`);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  assert.equal(protoFingerprint(), proto);
  assert.equal(fingerprint(s), before);
  // The server is fine afterwards.
  assert.equal(
    (await request(P, '/api/v1/keys/plant.name', { token: s.token })).json<{ value: string }>().value,
    'North',
  );
});

test('tokens at rest: 0600 file holding hashes only; revoked tokens and their sessions stop working; the login token is never logged', async (t) => {
  const logs: string[] = [];
  const s = await inProcess(t, { seed: { a: 1 }, log: (l) => logs.push(l) });
  const P = s.server.port;
  const file = new TokenFile(s.dir);
  const { secret, credential } = file.create({ name: 'bot', scopes: ['read', 'write'] });
  assert.match(secret, /^psmc_[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(secret.slice(5), 'base64url').length, 32);
  assert.equal((await request(P, '/api/v1/keys/a', { token: secret })).status, 200);
  // A browser session made with the bot token.
  const login = await request(P, `/?token=${secret}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0] as string;
  assert.equal((await request(P, '/api/v1/keys/a', { headers: { cookie } })).status, 200);
  const text = readFileSync(join(s.dir, 'http-tokens.json'), 'utf8');
  assert.equal(statSync(join(s.dir, 'http-tokens.json')).mode & 0o777, 0o600);
  assert.ok(!text.includes(secret) && !text.includes(secret.slice(5, 30)), 'the file holds no token');
  assert.ok(!text.includes(cookie.split('=')[1] as string), 'the file holds no session secret');
  assert.match(text, /sha256:[0-9a-f]{64}/);
  // Another process revokes it (here: another TokenFile on the same file); the server notices.
  new TokenFile(s.dir).revoke('bot');
  for (let i = 0; i < 100; i++) {
    if ((await request(P, '/api/v1/keys/a', { token: secret })).status === 401) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await request(P, '/api/v1/keys/a', { token: secret })).status, 401);
  assert.equal((await request(P, '/api/v1/keys/a', { headers: { cookie } })).status, 401);
  assert.ok(!new TokenFile(s.dir).list().some((c) => c.id === credential.id));
  // Bad login attempts get the HTML login page, no cookie.
  const bad = await request(P, `/?token=psmc_${'C'.repeat(43)}`);
  assert.equal(bad.status, 401);
  assert.equal(bad.headers['set-cookie'], undefined);
  for (const line of logs)
    assert.ok(!line.includes(s.token) && !line.includes(secret), `a log line holds a token: ${line}`);
});

test('sessions are stored (hashed) and survive a server restart; logout ends them', async (t) => {
  const s = await inProcess(t, { seed: { a: 1 } });
  const login = await request(s.server.port, `/?token=${s.token}&view=history`);
  assert.equal(login.status, 303);
  assert.equal(login.headers['location'], '/?view=history');
  const secret = String(login.headers['set-cookie']).split(';')[0]?.split('=')[1] as string;
  await s.server.close();
  const { startServer } = await import('../../src/server/index.js');
  const again = await startServer({ store: s.store, port: 0, log: () => {} });
  t.after(() => again.close());
  const cookie = `psmc_session_${again.port}=${secret}`;
  const r = await request(again.port, '/api/v1/session', { headers: { cookie } });
  assert.equal(r.status, 200);
  assert.equal(r.json<{ kind: string }>().kind, 'session');
  // The old server's login token is gone with it.
  assert.equal((await request(again.port, '/api/v1/health', { token: s.token })).status, 401);
  const out = await request(again.port, '/api/v1/logout', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-psmc-request': '1' },
  });
  assert.equal(out.status, 200);
  assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
  assert.equal((await request(again.port, '/api/v1/health', { headers: { cookie } })).status, 401);
});

/**
 * `psmc serve` and `psmc token` as real processes: the ready line, --port 0,
 * the login URL, a CLI change reaching a client through the feed, SIGINT and
 * SIGTERM shutdown, a port in use, --host warning, --token-file, and the
 * token commands (create, list, revoke) with a running server noticing.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, request, serveProcess, sse, tempDir, type Json } from './harness.js';

test('psmc serve --port 0 --json: ready line, login URL, API, CLI changes on the feed, clean SIGTERM', async (t) => {
  const dir = join(tempDir(t), 'store');
  assert.equal(cli(dir, ['set', 'plant.name', 'North']).status, 0);
  const s = await serveProcess(t, dir);
  assert.equal(s.ready.host, '127.0.0.1');
  assert.ok(s.ready.port > 0);
  assert.equal(s.ready.url, `http://127.0.0.1:${s.ready.port}/`);
  assert.match(
    s.ready.loginUrl,
    new RegExp(`^http://127\\.0\\.0\\.1:${s.ready.port}/\\?token=psmc_[A-Za-z0-9_-]{43}$`),
  );
  assert.equal(s.ready.store, dir);
  assert.equal(s.ready.pid, s.child.pid);
  const r = await request(s.ready.port, '/api/v1/keys/plant.name', { token: s.token });
  assert.equal(r.json<Json>().value, 'North');
  const feed = sse(s.ready.port, '/api/v1/events', { authorization: `Bearer ${s.token}` });
  t.after(() => feed.close());
  await feed.until((ev) => ev.some((e) => e.event === 'status'));
  assert.equal(cli(dir, ['set', 'plant.name', 'South']).status, 0);
  await feed.until((ev) => ev.some((e) => e.event === 'change'));
  const change = JSON.parse(feed.events.find((e) => e.event === 'change')?.data ?? '{}') as Json;
  assert.deepEqual([change.key, change.value, change.previous, change.source], ['plant.name', 'South', 'North', 'cli']);
  // Writes through the API are seen by the CLI.
  await request(s.ready.port, '/api/v1/keys/plant.name', {
    method: 'PUT',
    token: s.token,
    headers: { 'content-type': 'application/json' },
    body: '{"value": "East"}',
  });
  assert.equal(cli(dir, ['get', 'plant.name']).stdout, 'East\n');
  assert.equal(await s.stop('SIGTERM'), 0);
  assert.ok(!s.stderr().includes(s.token), 'the token is never logged');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});

test('SIGINT stops it too; without --json it prints the login URL on stdout and notes on stderr', async (t) => {
  const dir = join(tempDir(t), 'store');
  const { spawn } = await import('node:child_process');
  const { childEnv, BIN } = await import('./harness.js');
  const child = spawn(process.execPath, [BIN, '--store', dir, 'serve', '--port', '0'], { env: childEnv(dir) });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  // stdout and stderr are separate pipes: wait for both, the order they arrive in is not fixed.
  for (let i = 0; i < 400 && !(/token=psmc_/.test(out) && /Press Ctrl-C/.test(err)); i++)
    await new Promise((r) => setTimeout(r, 25));
  assert.match(out, /^ {4}http:\/\/127\.0\.0\.1:\d+\/\?token=psmc_[A-Za-z0-9_-]{43}\n$/);
  assert.match(err, /Press Ctrl-C to stop/);
  assert.doesNotMatch(err, /token=psmc_/);
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGINT');
  });
  assert.equal(code, 0);
});

test('a port in use is PSMC_BUSY (exit 6) with a hint; a bad port is a usage error', async (t) => {
  const dir = join(tempDir(t), 'store');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const r = cli(dir, ['serve', '--port', String(port), '--json']);
  assert.equal(r.status, 6);
  const e = JSON.parse(r.stdout) as Json;
  assert.equal(e.error.code, 'PSMC_BUSY');
  assert.match(e.error.hint, /--port 0/);
  for (const bad of ['70000', '-1', 'abc']) assert.equal(cli(dir, ['serve', '--port', bad]).status, 2, bad);
  assert.equal(cli(dir, ['serve', '--allow-host', 'a b']).status, 2);
});

test('--host other than loopback warns; --allow-host names are answered', async (t) => {
  const dir = join(tempDir(t), 'store');
  const s = await serveProcess(t, dir, ['--host', '0.0.0.0', '--allow-host', 'plant.lan']);
  // The warning goes to stderr, the ready line to stdout: separate pipes, no fixed order of arrival.
  for (let i = 0; i < 200 && !s.stderr().includes('WARNING'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(s.stderr(), /WARNING: listening on 0\.0\.0\.0/);
  assert.equal(s.ready.host, '0.0.0.0');
  const ok = await request(s.ready.port, '/api/v1/health', { token: s.token, headers: { host: 'plant.lan' } });
  assert.equal(ok.status, 200);
  const no = await request(s.ready.port, '/api/v1/health', { token: s.token, headers: { host: 'other.lan' } });
  assert.equal(no.status, 403);
  assert.equal(await s.stop(), 0);
});

test('psmc token create / list / revoke, --token-file, and a running server noticing a revoke', async (t) => {
  const dir = join(tempDir(t), 'store');
  const created = cli(dir, ['token', 'create', '--name', 'deploy-bot']);
  assert.equal(created.status, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^psmc_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /only time it is shown/);
  const ro = cli(dir, ['token', 'create', '--name', 'dashboard', '--read-only', '--json']);
  const roJson = JSON.parse(ro.stdout) as Json;
  assert.deepEqual(roJson.scopes, ['read']);
  assert.equal(
    cli(dir, ['token', 'create', '--name', 'deploy-bot']).status,
    4,
    'a second token of the same name is a conflict',
  );
  assert.equal(cli(dir, ['token', 'create', '--name', 'bad name']).status, 2);
  assert.equal(statSync(join(dir, 'http-tokens.json')).mode & 0o777, 0o600);

  const list = cli(dir, ['token', 'list']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /deploy-bot .*read-write/);
  assert.match(list.stdout, /dashboard .*read-only/);
  assert.ok(!list.stdout.includes(token) && !list.stdout.includes(roJson.token));
  const listJson = JSON.parse(cli(dir, ['token', 'list', '--json']).stdout) as Json;
  assert.equal(listJson.credentials.length, 2);
  assert.ok(!JSON.stringify(listJson).includes(token));

  const file = join(tempDir(t), 'token.txt');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  const s = await serveProcess(t, dir, ['--token-file', file]);
  assert.equal(new URL(s.ready.loginUrl).searchParams.get('token'), token);
  assert.equal((await request(s.ready.port, '/api/v1/session', { token })).json<Json>().name, 'deploy-bot');
  assert.equal((await request(s.ready.port, '/api/v1/health', { token: roJson.token })).status, 200);
  const revoked = cli(dir, ['token', 'revoke', 'dashboard']);
  assert.equal(revoked.status, 0);
  assert.match(revoked.stderr, /Revoked token "dashboard"/);
  // The server re-reads the tokens file when it changes (checked at most every 100 ms).
  let status = 0;
  for (let i = 0; i < 50 && status !== 401; i++) {
    status = (await request(s.ready.port, '/api/v1/health', { token: roJson.token })).status;
    if (status !== 401) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, 401);
  assert.equal(cli(dir, ['token', 'revoke', 'dashboard']).status, 3);
  assert.equal(cli(dir, ['token', 'frobnicate']).status, 2);
  assert.equal(await s.stop(), 0);

  // A token file with a token that is not in the store: refused at start.
  writeFileSync(file, 'psmc_' + 'Z'.repeat(43));
  const bad = cli(dir, ['serve', '--port', '0', '--token-file', file, '--json']);
  assert.equal(bad.status, 6);
  assert.equal((JSON.parse(bad.stdout) as Json).error.code, 'PSMC_UNAUTHORIZED');
});

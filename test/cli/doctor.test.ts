// psmc doctor: a table of checks; exit 0 when healthy, 7 when a problem remains; --repair; --json.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

const posix = process.platform !== 'win32';

test('doctor on a healthy store: ✓ lines, "Healthy.", exit 0', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const r = sb.run(['doctor']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^Store ${sb.home.replace(/[.\\]/g, '\\$&')}$`, 'm'));
  for (const check of ['database', 'mirror', 'schema', 'snapshots', 'permissions', 'temp-files', 'imports']) {
    assert.match(r.stdout, new RegExp(`^ {2}✓ ${check}\\b`, 'm'), check);
  }
  assert.match(r.stdout, /\nHealthy\.\n$/);
  const j = sb
    .run(['doctor', '--json'])
    .json<{ healthy: boolean; stores: string[]; findings: { check: string; ok: boolean }[]; actions: string[] }>();
  assert.equal(j.healthy, true);
  assert.deepEqual(j.stores, [sb.home]);
  assert.ok(j.findings.every((f) => f.ok));
});

test('a corrupt database: doctor says so (exit 7); --repair rebuilds it from a snapshot plus the mirror and says what it did', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'b', '"two"']);
  sb.ok(['snapshot', 'create', 'known-good']);
  sb.ok(['set', 'c', 'true']); // only in the database and the mirror
  writeFileSync(join(sb.home, 'psmc.db'), Buffer.alloc(16384, 0x42));
  for (const f of ['psmc.db-wal', 'psmc.db-shm']) if (existsSync(join(sb.home, f))) writeFileSync(join(sb.home, f), '');

  const broken = sb.run(['get', 'a']);
  assert.equal(broken.status, 7);

  const r = sb.run(['doctor']);
  assert.equal(r.status, 7, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}✗ database +The database cannot be opened: .*damaged/m);
  assert.match(r.stdout, /hint: Run `psmc doctor --repair`: it moves the damaged file aside \(never deletes it\)/);
  assert.match(r.stdout, /1 problem remains\. Run `psmc doctor --repair`/);
  assert.equal(hasStack(r.stdout + r.stderr), false);

  const fix = sb.run(['doctor', '--repair']);
  assert.equal(fix.status, 0, fix.stdout + fix.stderr);
  assert.match(fix.stdout, /^ {2}✓ database +The database cannot be opened: .* \(repaired\)$/m);
  assert.match(fix.stdout, /^Repairs:$/m);
  assert.match(
    fix.stdout,
    /moved psmc\.db aside to psmc\.db\.corrupt-\d{8}T\d{6}Z because it cannot be opened \(kept, not deleted\)/,
  );
  assert.match(fix.stdout, /restored snapshot known-good .*: 2 key\(s\) \(source restore:known-good\)/);
  assert.match(fix.stdout, /merged config\.json on top: 1 key\(s\) changed \(source repair:mirror\)/);
  assert.match(fix.stdout, /\nHealthy\.\n$/);
  const aside = readdirSync(sb.home).filter((f) => f.startsWith('psmc.db.corrupt-'));
  assert.equal(aside.length, 1);
  assert.equal(readFileSync(join(sb.home, aside[0] as string)).length, 16384);
  const list = sb.run(['list', '--json']).json<{ key: string; value: unknown; source: string }[]>();
  assert.deepEqual(
    list.map((e) => [e.key, e.value, e.source]),
    [
      ['a', 1, 'restore:known-good'],
      ['b', 'two', 'restore:known-good'],
      ['c', true, 'repair:mirror'],
    ],
  );
  assert.equal(sb.run(['doctor']).status, 0);
});

test('wrong permissions: reported (exit 7), repaired with --repair, then healthy', { skip: !posix }, (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  chmodSync(sb.home, 0o755);
  chmodSync(join(sb.home, 'config.json'), 0o644);
  const r = sb.run(['doctor']);
  assert.equal(r.status, 7);
  assert.match(
    r.stdout,
    /^ {2}✗ permissions +.*config\.json is mode 0644: readable or writable by others \(should be 0600\)\.$/m,
  );
  assert.match(r.stdout, /^ {2}✗ permissions +.* is mode 0755/m);
  assert.match(r.stdout, /hint: Run `psmc doctor --repair`, or chmod 600/);
  const j = sb.run(['doctor', '--repair', '--json']);
  assert.equal(j.status, 0, j.stdout);
  const report = j.json<{
    healthy: boolean;
    findings: { check: string; ok: boolean; repaired?: boolean }[];
    actions: string[];
  }>();
  assert.equal(report.healthy, true);
  assert.ok(report.findings.filter((f) => f.check === 'permissions' && !f.ok).every((f) => f.repaired === true));
  assert.ok(report.actions.some((a) => a.includes('chmod 0600') && a.includes('config.json')));
  assert.equal(statSync(sb.home).mode & 0o777, 0o700);
  assert.equal(statSync(join(sb.home, 'config.json')).mode & 0o777, 0o600);
  assert.equal(sb.run(['doctor']).status, 0);
});

test('warnings (a waiting import) leave exit 0; --repair imports it', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  mkdirSync(join(sb.home, 'imports'), { mode: 0o700 });
  const drop = join(sb.home, 'imports', 'extra.toml');
  writeFileSync(drop, 'extra = 5\n');
  const past = (Date.now() - 5000) / 1000;
  utimesSync(drop, past, past);
  const r = sb.run(['doctor']);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^ {2}! imports +1 file\(s\) wait in .*extra\.toml/m);
  assert.match(r.stdout, /\nHealthy \(1 warning\)\.\n$/);
  const fix = sb.run(['doctor', '--repair']);
  assert.equal(fix.status, 0);
  assert.match(
    fix.stdout,
    /imported imports\/extra\.toml: 1 key\(s\) changed \(source import:extra\.toml\); moved to done\//,
  );
  assert.equal(sb.run(['get', 'extra']).stdout, '5\n');
});

test('doctor checks the project store and the user store', (t) => {
  const sb = sandbox(t);
  const project = join(sb.dir, 'proj');
  mkdirSync(project);
  sb.ok(['init'], { cwd: project });
  sb.ok(['set', 'p', '1'], { cwd: project });
  sb.ok(['set', 'u', '1', '--store', sb.home]);
  const j = sb.run(['doctor', '--json'], { cwd: project }).json<{ stores: string[]; healthy: boolean }>();
  assert.equal(j.stores.length, 2);
  assert.match(j.stores[0] ?? '', /proj[\\/]\.psmc$/);
  assert.equal(j.stores[1], sb.home);
  assert.equal(j.healthy, true);
});

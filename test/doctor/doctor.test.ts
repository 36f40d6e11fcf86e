/**
 * psmc doctor (src/doctor/) on real stores in temp directories: each check,
 * each repair, and the rebuild of a damaged database from a snapshot plus
 * the mirror file.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/index.js';
import { runDoctor, type DoctorReport, type Finding } from '../../src/doctor/index.js';
import { TOKENS_FILE, TokenFile } from '../../src/server/tokens.js';

const posix = process.platform !== 'win32';

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'psmc-doctor-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(dir: string): Store {
  return openStore({ dir, env: {}, source: 'test' });
}

/** A closed store with a few values, a schema and a mirror file. */
function makeStore(t: TestContext): string {
  const dir = join(tmp(t), 'store');
  const s = open(dir);
  s.setSchema({ keys: { port: { type: 'integer', minimum: 1 } } });
  s.set('port', 8080);
  s.set('display.units', 'metric');
  s.close();
  return dir;
}

function failing(r: DoctorReport, check?: string): Finding[] {
  return r.findings.filter((f) => !f.ok && f.repaired !== true && (check === undefined || f.check === check));
}

function withStore<T>(dir: string, fn: (s: Store) => T): T {
  const s = open(dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const past = (ms: number): number => (Date.now() - ms) / 1000;

test('a healthy store: every check passes; a directory without a store is not a problem', (t) => {
  const dir = makeStore(t);
  const r = runDoctor(dir);
  assert.equal(r.healthy, true, JSON.stringify(r.findings, null, 2));
  assert.deepEqual(failing(r), []);
  assert.deepEqual(
    [...new Set(r.findings.map((f) => f.check))],
    ['database', 'mirror', 'schema', 'snapshots', 'permissions', 'temp-files', 'imports'],
  );
  assert.deepEqual(r.actions, []);
  const none = runDoctor(join(tmp(t), 'nothing-here'));
  assert.equal(none.healthy, true);
  assert.match(none.findings[0]?.message ?? '', /no database/);
});

test('a live Store handle can be checked too (its own directories)', (t) => {
  const dir = makeStore(t);
  const s = open(dir);
  t.after(() => s.close());
  const r = runDoctor(s);
  assert.deepEqual(r.stores, [s.info.user?.dir]);
  assert.equal(r.healthy, true);
  assert.equal(s.get('port'), 8080, 'the caller’s handle still works');
});

test('the HTTP token file (hashed tokens and sessions) is checked for 0600 and repaired', { skip: !posix }, (t) => {
  const dir = makeStore(t);
  new TokenFile(dir).create({ name: 'deploy-bot', scopes: ['read', 'write'] });
  const file = join(dir, TOKENS_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'created private');
  chmodSync(file, 0o644);
  const perms = failing(runDoctor(dir), 'permissions');
  assert.equal(perms.length, 1, JSON.stringify(perms, null, 2));
  assert.ok(perms[0]?.message.includes(`${TOKENS_FILE} is mode 0644`));
  const fixed = runDoctor(dir, { repair: true });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed.findings, null, 2));
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('permissions too open: reported as errors; --repair chmods them back', { skip: !posix }, (t) => {
  const dir = makeStore(t);
  withStore(dir, (s) => s.snapshot('one'));
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'psmc.db'), 0o644);
  chmodSync(join(dir, 'config.json'), 0o666);
  chmodSync(join(dir, 'snapshots'), 0o775);
  chmodSync(join(dir, 'snapshots', 'one.json'), 0o644);
  const r = runDoctor(dir);
  assert.equal(r.healthy, false);
  const perms = failing(r, 'permissions');
  // SQLite creates -wal and -shm with the database file's mode: they are too open as well.
  assert.equal(perms.length, 7, JSON.stringify(perms, null, 2));
  assert.ok(perms.some((f) => f.message.includes('psmc.db-wal is mode 0644')));
  assert.ok(perms.every((f) => f.severity === 'error'));
  assert.ok(perms.some((f) => f.message.includes('psmc.db is mode 0644') && /should be 0600/.test(f.message)));
  assert.ok(perms.some((f) => f.message.includes(`${dir} is mode 0755`)));
  assert.match(perms[0]?.hint ?? '', /doctor --repair|chmod/);

  const fixed = runDoctor(dir, { repair: true });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed.findings, null, 2));
  assert.ok(fixed.findings.filter((f) => f.check === 'permissions').every((f) => f.repaired === true));
  assert.equal(fixed.actions.filter((a) => a.includes('chmod')).length, 7);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'psmc.db')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'snapshots')).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'snapshots', 'one.json')).mode & 0o777, 0o600);
  assert.equal(runDoctor(dir).healthy, true);
});

test('on Windows the mode checks are skipped, with a note', (t) => {
  const dir = makeStore(t);
  if (posix) chmodSync(join(dir, 'psmc.db'), 0o644);
  const r = runDoctor(dir, { platform: 'win32' });
  const perms = r.findings.filter((f) => f.check === 'permissions');
  assert.equal(perms.length, 1);
  assert.equal(perms[0]?.ok, true);
  assert.match(perms[0]?.message ?? '', /Not checked on Windows/);
});

test('leftover temp files: reported; --repair deletes those older than a minute and keeps younger ones', (t) => {
  const dir = makeStore(t);
  mkdirSync(join(dir, 'snapshots'), { recursive: true, mode: 0o700 });
  const oldMirror = join(dir, '.config.json.psmc-tmp-999999-0a0b0c0d');
  const youngMirror = join(dir, '.config.json.psmc-tmp-999999-01020304');
  const oldSnap = join(dir, 'snapshots', '.nightly.json.999999.k3j2.tmp');
  for (const f of [oldMirror, youngMirror, oldSnap]) writeFileSync(f, 'partial');
  utimesSync(oldMirror, past(120_000), past(120_000));
  utimesSync(oldSnap, past(120_000), past(120_000));
  const r = runDoctor(dir);
  // Opening the store already swept the mirror's temp file older than a minute (a killed writer's).
  assert.ok(!existsSync(oldMirror), 'any open of the store removes stale mirror temp files');
  const temps = failing(r, 'temp-files');
  assert.equal(temps.length, 2);
  assert.ok(temps.every((f) => f.severity === 'warning'));
  assert.equal(r.healthy, true, 'warnings only');
  const fixed = runDoctor(dir, { repair: true });
  assert.ok(!existsSync(oldMirror));
  assert.ok(!existsSync(oldSnap));
  assert.ok(existsSync(youngMirror), 'a temp file under a minute old may belong to a live writer');
  assert.equal(fixed.actions.filter((a) => a.includes('deleted the leftover temp file')).length, 1);
  const left = failing(fixed, 'temp-files');
  assert.equal(left.length, 1);
  assert.match(left[0]?.hint ?? '', /less than a minute old/);
});

test('a value that breaks the schema (written behind psmc’s back) is an error doctor does not change', (t) => {
  const dir = makeStore(t);
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as new (file: string) => {
    prepare(sql: string): { run(...a: unknown[]): void };
    close(): void;
  };
  const db = new Database(join(dir, 'psmc.db'));
  db.prepare("UPDATE entries SET value = '-3' WHERE key = 'port'").run();
  db.close();
  const r = runDoctor(dir, { repair: true });
  const schema = failing(r, 'schema');
  assert.equal(schema.length, 1);
  assert.equal(schema[0]?.repaired, false);
  assert.match(schema[0]?.message ?? '', /port/);
  assert.match(schema[0]?.hint ?? '', /psmc set/);
  assert.equal(r.healthy, false);
});

test('an invalid hand edit of the mirror is reported with file:line:column and a hint; never overwritten', (t) => {
  const dir = makeStore(t);
  const file = join(dir, 'config.json');
  const bad = '{\n  "port": 8080,\n  "display.units": metric\n}\n';
  writeFileSync(file, bad);
  utimesSync(file, past(5000), past(5000));
  const r = runDoctor(dir, { repair: true });
  const m = failing(r, 'mirror');
  assert.equal(m.length, 1, JSON.stringify(r.findings, null, 2));
  assert.match(m[0]?.message ?? '', new RegExp(`${file.replace(/[.\\]/g, '\\$&')}:3:\\d+: `));
  assert.match(m[0]?.hint ?? '', /psmc edit/);
  assert.equal(r.healthy, false);
  assert.equal(readFileSync(file, 'utf8'), bad);
});

test('pending imports: a warning; --repair imports them', (t) => {
  const dir = makeStore(t);
  mkdirSync(join(dir, 'imports'), { mode: 0o700 });
  writeFileSync(join(dir, 'imports', 'more.json'), '{"extra": 1}');
  utimesSync(join(dir, 'imports', 'more.json'), past(5000), past(5000));
  const r = runDoctor(dir);
  assert.equal(failing(r, 'imports').length, 1);
  assert.match(failing(r, 'imports')[0]?.message ?? '', /1 file\(s\) wait.*more\.json/);
  const fixed = runDoctor(dir, { repair: true });
  assert.deepEqual(failing(fixed, 'imports'), []);
  assert.ok(fixed.actions.some((a) => a.includes('imported imports/more.json')));
  assert.equal(
    withStore(dir, (s) => s.resolve('extra').source),
    'import:more.json',
  );
});

/** A snapshot file written by hand (the documented format). */
function handSnapshot(
  dir: string,
  name: string,
  createdAt: string,
  values: Record<string, unknown>,
  schema?: unknown,
): void {
  const entries: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    entries[k] = {
      value: v,
      type: typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v,
      revision: 5,
      updatedAt: '2026-01-01T00:00:00.000Z-0000',
      source: 'cli',
    };
  }
  mkdirSync(join(dir, 'snapshots'), { recursive: true, mode: 0o700 });
  const doc = {
    format: 'psmc-snapshot',
    version: 1,
    name,
    createdAt,
    revision: 5,
    reason: 'manual',
    source: 'cli',
    entries,
    ...(schema === undefined ? {} : { schema }),
  };
  writeFileSync(join(dir, 'snapshots', `${name}.json`), JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
}

test('a corrupt database: reported clearly; --repair moves it aside, restores the newest snapshot that parses, merges the mirror on top', (t) => {
  const dir = makeStore(t);
  // An older good snapshot, the newest good one (by hand), and a newer broken one.
  withStore(dir, (s) => s.snapshot('older'));
  handSnapshot(
    dir,
    'hand',
    '2099-01-01T00:00:00.000Z',
    { port: 9090, 'display.units': 'imperial', 'only.in.snapshot': true },
    { keys: { port: { type: 'integer', minimum: 1 } } },
  );
  writeFileSync(
    join(dir, 'snapshots', 'newest-broken.json'),
    '{"format":"psmc-snapshot","version":1,"createdAt":"2099-12',
  );
  // The mirror file holds the latest hand edit (a changed key, a new one, and a comment).
  const mirror = join(dir, 'config.json');
  writeFileSync(mirror, '// my notes\n{\n  "display.units": "metric",\n  "from.mirror": [1, 2]\n}\n');
  utimesSync(mirror, past(5000), past(5000));
  writeFileSync(join(dir, 'psmc.db'), Buffer.alloc(8192, 0x5a));

  const r = runDoctor(dir);
  assert.equal(r.healthy, false);
  const db = failing(r, 'database');
  assert.equal(db.length, 1);
  assert.match(db[0]?.message ?? '', /cannot be opened: .*damaged or is not a SQLite database/);
  assert.match(db[0]?.hint ?? '', /doctor --repair/);
  assert.equal(db[0]?.repaired, undefined);

  const fixed = runDoctor(dir, { repair: true, now: () => Date.UTC(2026, 4, 26, 10, 11, 12) });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed, null, 2));
  assert.equal(fixed.findings.find((f) => f.check === 'database')?.repaired, true);
  const aside = 'psmc.db.corrupt-20260526T101112Z';
  assert.ok(existsSync(join(dir, aside)), 'the damaged file is kept');
  assert.equal(readFileSync(join(dir, aside)).length, 8192);
  const said = fixed.actions.join('\n');
  assert.match(said, new RegExp(`moved psmc\\.db aside to ${aside}`));
  assert.match(said, /created a fresh psmc\.db/);
  assert.match(said, /skipped newest-broken\.json/);
  assert.match(said, /restored snapshot hand .*3 key\(s\) \(source restore:hand\), and its schema/);
  assert.match(said, /merged config\.json on top: 2 key\(s\) changed \(source repair:mirror\)/);
  assert.match(said, /wrote 2 key\(s\) the mirror file lacked into config\.json/);
  assert.match(said, /history before the repair is not carried over/);

  withStore(dir, (s) => {
    assert.deepEqual(s.all(), {
      'display.units': 'metric',
      'from.mirror': [1, 2],
      'only.in.snapshot': true,
      port: 9090,
    });
    assert.equal(s.resolve('port').source, 'restore:hand');
    assert.equal(s.resolve('display.units').source, 'repair:mirror');
    assert.deepEqual(s.schema(), { keys: { port: { type: 'integer', minimum: 1 } } });
    assert.equal(s.status().mirror?.state, 'in-sync');
    assert.throws(() => s.set('port', 0), /minimum|at least|≥/i);
  });
  const text = readFileSync(mirror, 'utf8');
  assert.match(text, /^\/\/ my notes\n/, 'the user’s comment is kept');
  assert.match(text, /"only\.in\.snapshot": true/);
  assert.match(text, /"port": 9090/);
  assert.deepEqual(
    readdirSync(join(dir, 'snapshots')).sort(),
    ['hand.json', 'newest-broken.json', 'older.json'],
    'the repair takes no snapshots of its own and deletes none',
  );
  assert.equal(runDoctor(dir).healthy, true);
});

test('a corrupt database with a TOML mirror and no snapshot: rebuilt from the mirror, in TOML', (t) => {
  const dir = join(tmp(t), 'store');
  withStore(dir, (s) => {
    s.setMirrorFormat('toml');
    s.set('a', 1);
    s.set('b', 'two');
  });
  rmSync(join(dir, 'config.json'), { force: true });
  assert.ok(existsSync(join(dir, 'config.toml')));
  writeFileSync(join(dir, 'psmc.db'), 'not a database, and too short');
  const fixed = runDoctor(dir, { repair: true });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed, null, 2));
  assert.match(fixed.actions.join('\n'), /no usable snapshot/);
  assert.match(fixed.actions.join('\n'), /merged config\.toml on top: 2 key\(s\) changed/);
  assert.ok(!existsSync(join(dir, 'config.json')), 'no stray JSON mirror');
  withStore(dir, (s) => {
    assert.deepEqual(s.all(), { a: 1, b: 'two' });
    assert.equal(s.status().mirror?.format, 'toml');
    assert.equal(s.status().mirror?.state, 'in-sync');
  });
});

test('a corrupt database whose mirror does not parse: the mirror is kept aside and a fresh one written', (t) => {
  const dir = makeStore(t);
  withStore(dir, (s) => s.snapshot('base'));
  writeFileSync(join(dir, 'config.json'), '{ "port": ');
  writeFileSync(join(dir, 'psmc.db'), Buffer.alloc(4096, 1));
  const fixed = runDoctor(dir, { repair: true, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed, null, 2));
  const said = fixed.actions.join('\n');
  assert.match(said, /config\.json does not parse/);
  assert.match(said, /moved config\.json aside to config\.json\.before-repair-20260102T030405Z/);
  assert.equal(readFileSync(join(dir, 'config.json.before-repair-20260102T030405Z'), 'utf8'), '{ "port": ');
  withStore(dir, (s) => {
    assert.deepEqual(s.all(), { 'display.units': 'metric', port: 8080 });
    assert.equal(s.status().mirror?.state, 'in-sync');
  });
  assert.match(readFileSync(join(dir, 'config.json'), 'utf8'), /"port": 8080/);
});

test('a database that opens but fails the integrity check: reported; --repair rebuilds it, keeping the damaged file', (t) => {
  const dir = join(tmp(t), 'store');
  withStore(dir, (s) => {
    const changes = [];
    for (let i = 0; i < 3000; i++) changes.push({ op: 'set' as const, key: `k.n${i}`, value: `${'x'.repeat(50)}${i}` });
    s.batch(changes);
    s.snapshot('snap');
  });
  const size = statSync(join(dir, 'psmc.db')).size;
  const page = 4096;
  const bytes = readFileSync(join(dir, 'psmc.db'));
  bytes.fill(0x77, Math.floor(size / page / 2) * page, Math.floor(size / page / 2) * page + 3 * page);
  writeFileSync(join(dir, 'psmc.db'), bytes);
  const r = runDoctor(dir);
  const db = failing(r, 'database');
  assert.equal(db.length, 1, JSON.stringify(r.findings, null, 2));
  assert.match(db[0]?.message ?? '', /fails the integrity check/);
  assert.equal(r.healthy, false);
  const fixed = runDoctor(dir, { repair: true });
  assert.equal(fixed.healthy, true, JSON.stringify(fixed, null, 2));
  assert.match(fixed.actions.join('\n'), /because it fails the integrity check \(kept, not deleted\)/);
  assert.ok(readdirSync(dir).some((f) => f.startsWith('psmc.db.corrupt-')));
  withStore(dir, (s) => {
    assert.equal(s.list().length, 3000);
    assert.equal(s.get('k.n2999'), `${'x'.repeat(50)}2999`);
    assert.deepEqual(s.checkIntegrity(), []);
  });
});

/**
 * The imports/ drop folder (src/mirror/imports.ts) on real stores in temp
 * directories: every format in the plain and the full form, rejections with
 * their .reason, files still being written, name collisions, links and other
 * traversal attempts, and the recorded source.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/index.js';
import { pendingImports, processImports, type ImportsHost } from '../../src/mirror/imports.js';

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'psmc-imports-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(t: TestContext, dir: string): Store {
  const s = openStore({ dir, env: {}, source: 'test' });
  t.after(() => s.close());
  return s;
}

/** A store that exists (one write), and its imports folder. */
function setup(t: TestContext): { store: Store; dir: string; imports: string } {
  const dir = join(tmp(t), 'store');
  const store = open(t, dir);
  store.set('existing', 1);
  const imports = join(dir, 'imports');
  mkdirSync(imports, { mode: 0o700 });
  return { store, dir, imports };
}

/** Drops a file, dated 10 s ago so that it counts as finished. */
function drop(imports: string, name: string, text: string): string {
  const p = join(imports, name);
  writeFileSync(p, text);
  const past = (Date.now() - 10_000) / 1000;
  utimesSync(p, past, past);
  return p;
}

const posix = process.platform !== 'win32';

test('plain form in every format: merged as one batch, source import:<name>, moved to done/', (t) => {
  const { store, dir, imports } = setup(t);
  drop(imports, 'a.json', '// a comment: JSONC is fine\n{\n  "display.units": "metric",\n  "retries": 3,\n}\n');
  drop(imports, 'b.toml', 'name = "plant-7"\nlimits = { max = 10 }\n');
  drop(imports, 'c.yaml', 'flag: true\nlist:\n  - 1\n  - 2\n');
  drop(imports, 'd.YML', 'other: "x"\n');
  const before = store.revision();
  const r = processImports(store);
  assert.deepEqual(
    r.done.map((d) => d.file),
    ['a.json', 'b.toml', 'c.yaml', 'd.YML'],
  );
  assert.deepEqual(r.rejected, []);
  assert.equal(store.revision(), before + 4, 'one revision per file');
  assert.equal(store.get('display.units'), 'metric');
  assert.equal(store.get('retries'), 3);
  assert.equal(store.get('name'), 'plant-7');
  assert.deepEqual(store.get('limits'), { max: 10 });
  assert.equal(store.get('flag'), true);
  assert.deepEqual(store.get('list'), [1, 2]);
  assert.equal(store.resolve('retries').source, 'import:a.json');
  assert.equal(store.resolve('flag').source, 'import:c.yaml');
  assert.equal(r.done[0]?.changes, 2);
  assert.equal(r.done[0]?.source, 'import:a.json');
  assert.deepEqual(readdirSync(join(imports, 'done')).sort(), ['a.json', 'b.toml', 'c.yaml', 'd.YML']);
  assert.deepEqual(pendingImports(dir), []);
  if (posix) {
    assert.equal(statSync(join(imports, 'done')).mode & 0o777, 0o700);
  }
  // The file is moved, byte for byte.
  assert.match(readFileSync(join(imports, 'done', 'a.json'), 'utf8'), /^\/\/ a comment/);
});

test('full form: an export document, and a snapshot document, are merged by their entries', (t) => {
  const { store, imports } = setup(t);
  const other = open(t, join(tmp(t), 'other'));
  other.set('from.export', 'yes');
  other.set('format', 'a key named format');
  drop(imports, 'backup.json', JSON.stringify(other.exportData(), null, 2));
  drop(
    imports,
    'snap.json',
    JSON.stringify({
      format: 'psmc-snapshot',
      version: 1,
      name: 'snap',
      createdAt: '2026-01-01T00:00:00.000Z',
      revision: 3,
      reason: 'manual',
      source: 'cli',
      entries: {
        'from.snapshot': {
          value: [1],
          type: 'array',
          revision: 3,
          updatedAt: '2026-01-01T00:00:00.000Z-0000',
          source: 'cli',
        },
      },
    }),
  );
  const r = processImports(store);
  assert.deepEqual(
    r.done.map((d) => [d.file, d.changes]),
    [
      ['backup.json', 2],
      ['snap.json', 1],
    ],
  );
  assert.equal(store.get('from.export'), 'yes');
  assert.equal(store.get('format'), 'a key named format');
  assert.deepEqual(store.get('from.snapshot'), [1]);
  assert.equal(store.get('version'), undefined, 'metadata members are not keys');
  assert.equal(store.resolve('from.export').source, 'import:backup.json');
});

test('rejected files: moved to rejected/ with <file>.reason (code, line, column, hint); the store is unchanged', (t) => {
  const { store, imports } = setup(t);
  store.setSchema({ keys: { port: { type: 'integer', minimum: 1 } } });
  drop(imports, 'syntax.json', '{\n  "a": 1,\n  "b": tru\n}\n');
  drop(imports, 'schema.yaml', 'ok.key: 1\nport: -5\n');
  drop(imports, 'notes.txt', 'a = 1\n');
  drop(imports, 'README', 'hello');
  drop(imports, 'badkey.toml', '"__proto__" = 1\n');
  const before = store.exportData();
  const r = processImports(store);
  assert.deepEqual(r.done, []);
  assert.deepEqual(r.rejected.map((x) => x.file).sort(), [
    'README',
    'badkey.toml',
    'notes.txt',
    'schema.yaml',
    'syntax.json',
  ]);
  assert.deepEqual(store.exportData(), before);
  const rejected = join(imports, 'rejected');
  const syntax = r.rejected.find((x) => x.file === 'syntax.json');
  assert.equal(syntax?.code, 'PSMC_PARSE');
  assert.equal(syntax?.line, 3);
  assert.equal(syntax?.column, 8);
  const reason = readFileSync(join(rejected, 'syntax.json.reason'), 'utf8');
  assert.match(reason, /^file: syntax\.json$/m);
  assert.match(reason, /^code: PSMC_PARSE$/m);
  assert.match(reason, /^line: 3$/m);
  assert.match(reason, /^column: 8$/m);
  assert.match(reason, /^message: syntax\.json:3:8: /m);
  assert.match(reason, /^hint: \S/m);
  const schema = r.rejected.find((x) => x.file === 'schema.yaml');
  assert.equal(schema?.code, 'PSMC_SCHEMA_VIOLATION');
  assert.equal(schema?.key, 'port');
  assert.equal(schema?.line, 2, 'a schema error is placed at its key');
  assert.match(readFileSync(join(rejected, 'notes.txt.reason'), 'utf8'), /unsupported extension "\.txt"/);
  assert.match(readFileSync(join(rejected, 'README.reason'), 'utf8'), /unsupported extension \(none\)/);
  assert.equal(r.rejected.find((x) => x.file === 'badkey.toml')?.code, 'PSMC_KEY_RESERVED');
  // Files and reasons side by side; the original bytes kept.
  assert.equal(readFileSync(join(rejected, 'syntax.json'), 'utf8'), '{\n  "a": 1,\n  "b": tru\n}\n');
  assert.deepEqual(readdirSync(imports).sort(), ['rejected']);
  if (posix) assert.equal(statSync(join(rejected, 'syntax.json.reason')).mode & 0o777, 0o600);
});

test('files still being written are left for later: fresh mtime, or a size that changes between two looks', async (t) => {
  const { store, imports } = setup(t);
  writeFileSync(join(imports, 'fresh.json'), '{"fresh": 1}');
  const r1 = processImports(store);
  assert.deepEqual(r1.done, []);
  assert.equal(r1.skipped.length, 1);
  assert.match(r1.skipped[0]?.reason ?? '', /still being written/);
  assert.ok(existsSync(join(imports, 'fresh.json')));
  // Later (here: a clock 2 s ahead) it is taken.
  const r2 = processImports(store, { now: () => Date.now() + 2000 });
  assert.deepEqual(
    r2.done.map((d) => d.file),
    ['fresh.json'],
  );
  assert.equal(store.get('fresh'), 1);

  // A writer appending while psmc looks: the size changes between the two looks.
  const growing = join(imports, 'growing.json');
  writeFileSync(growing, '{"a": 1');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const end=Date.now()+1500;(function f(){fs.appendFileSync(${JSON.stringify(growing)},' ');if(Date.now()<end)setTimeout(f,5)})()`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const start = statSync(growing).size;
  while (statSync(growing).size === start) await new Promise((resolve) => setTimeout(resolve, 10));
  const r3 = processImports(store, { settleMs: 0, recheckMs: 60 });
  await exited;
  assert.deepEqual(r3.done, []);
  assert.deepEqual(r3.rejected, []);
  assert.match(r3.skipped.find((s) => s.file === 'growing.json')?.reason ?? '', /size or time changed/);
  assert.ok(existsSync(growing));
});

test('name collisions in done/ and rejected/ get -1, -2 … before the extension; nothing is overwritten', (t) => {
  const { store, imports } = setup(t);
  for (let i = 1; i <= 3; i++) {
    drop(imports, 'x.json', JSON.stringify({ round: i }));
    drop(imports, 'bad.json', '{');
    drop(imports, 'noext', 'x');
    const r = processImports(store);
    assert.equal(r.done.length, 1);
    assert.equal(r.rejected.length, 2);
    assert.equal(store.get('round'), i);
  }
  assert.deepEqual(readdirSync(join(imports, 'done')).sort(), ['x-1.json', 'x-2.json', 'x.json']);
  assert.deepEqual(JSON.parse(readFileSync(join(imports, 'done', 'x.json'), 'utf8')), { round: 1 });
  assert.deepEqual(JSON.parse(readFileSync(join(imports, 'done', 'x-2.json'), 'utf8')), { round: 3 });
  assert.deepEqual(readdirSync(join(imports, 'rejected')).sort(), [
    'bad-1.json',
    'bad-1.json.reason',
    'bad-2.json',
    'bad-2.json.reason',
    'bad.json',
    'bad.json.reason',
    'noext',
    'noext-1',
    'noext-1.reason',
    'noext-2',
    'noext-2.reason',
    'noext.reason',
  ]);
});

test('hidden and temp files are skipped and left alone; directories too', (t) => {
  const { store, dir, imports } = setup(t);
  drop(imports, '.hidden.json', '{"h": 1}');
  drop(imports, '.config.json.psmc-tmp-1-abc', '{"h": 1}');
  drop(imports, 'draft.json~', '{"h": 1}');
  drop(imports, 'x.json.swp', '{"h": 1}');
  drop(imports, 'y.json.part', '{"h": 1}');
  mkdirSync(join(imports, 'sub'));
  drop(join(imports, 'sub'), 'inner.json', '{"h": 1}');
  assert.deepEqual(pendingImports(dir), []);
  const r = processImports(store);
  assert.deepEqual(r.done, []);
  assert.deepEqual(r.rejected, []);
  assert.deepEqual(r.skipped.map((s) => s.file).sort(), [
    '.config.json.psmc-tmp-1-abc',
    '.hidden.json',
    'draft.json~',
    'sub',
    'x.json.swp',
    'y.json.part',
  ]);
  assert.equal(store.get('h'), undefined);
  assert.ok(existsSync(join(imports, 'sub', 'inner.json')));
});

test('symbolic links are never followed: rejected with a reason, the target untouched', { skip: !posix }, (t) => {
  const { store, dir, imports } = setup(t);
  const outside = join(tmp(t), 'secret.json');
  writeFileSync(outside, '{"stolen": true}');
  symlinkSync(outside, join(imports, 'link.json'));
  symlinkSync('/nonexistent/target.json', join(imports, 'dangling.json'));
  assert.deepEqual(pendingImports(dir), ['dangling.json', 'link.json']);
  const r = processImports(store);
  assert.deepEqual(r.done, []);
  assert.deepEqual(r.rejected.map((x) => x.file).sort(), ['dangling.json', 'link.json']);
  assert.match(r.rejected[0]?.message ?? '', /symbolic link/);
  assert.equal(store.get('stolen'), undefined);
  assert.equal(readFileSync(outside, 'utf8'), '{"stolen": true}', 'the target is untouched');
  assert.match(readFileSync(join(imports, 'rejected', 'link.json.reason'), 'utf8'), /never followed/);
});

test(
  'done/ or rejected/ (or imports/ itself) being a link is refused with PSMC_IO; nothing moves outside',
  { skip: !posix },
  (t) => {
    const { store, dir, imports } = setup(t);
    const outside = tmp(t);
    symlinkSync(outside, join(imports, 'done'));
    drop(imports, 'a.json', '{"a": 1}');
    assert.throws(
      () => processImports(store),
      (e: unknown) => (e as { code?: string }).code === 'PSMC_IO' && /symbolic link/.test((e as Error).message),
    );
    assert.deepEqual(readdirSync(outside), []);
    // imports/ itself as a link.
    rmSync(imports, { recursive: true, force: true });
    symlinkSync(outside, join(dir, 'imports'));
    assert.throws(
      () => processImports(store),
      (e: unknown) => (e as { code?: string }).code === 'PSMC_IO',
    );
  },
);

test('a claim left by a dead process is put back and imported; an absent store creates nothing', (t) => {
  const { store, imports } = setup(t);
  // pid 2^22+12345 is above Linux's pid_max default; on other systems it is very unlikely alive.
  const claim = drop(imports, '.psmc-import-4206649-0badcafe-late.json', '{"late": true}');
  const r = processImports(store);
  assert.deepEqual(
    r.done.map((d) => d.file),
    ['late.json'],
  );
  assert.equal(store.get('late'), true);
  assert.ok(!existsSync(claim));

  const nowhere = join(tmp(t), 'absent');
  const host: ImportsHost = { dir: nowhere, importData: () => assert.fail('no import expected') };
  assert.deepEqual(processImports(host), { dir: join(nowhere, 'imports'), done: [], rejected: [], skipped: [] });
  assert.ok(!existsSync(nowhere));
});

test('a store failure puts the file back and is thrown; the imports folder is created 0700 on demand', (t) => {
  const dir = tmp(t);
  const host: ImportsHost = {
    dir,
    importData: () => {
      throw Object.assign(new Error('busy'), { name: 'PsmcError', code: 'PSMC_BUSY', hint: 'retry', details: {} });
    },
  };
  const r0 = processImports(host);
  assert.deepEqual(r0.done, []);
  if (posix) assert.equal(statSync(join(dir, 'imports')).mode & 0o777, 0o700);
  drop(join(dir, 'imports'), 'a.json', '{"a": 1}');
  assert.throws(() => processImports(host), /busy/);
  assert.deepEqual(readdirSync(join(dir, 'imports')), ['a.json']);
});

// 3. export, import and schema: documents in and out of the store.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

interface ExportJson {
  format: string;
  version: number;
  revision: number;
  entries: Record<string, { value: unknown; type: string; revision: number; updatedAt: string; source: string }>;
  schema?: unknown;
}

test('3.1 export prints the export document, pretty', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'retries', '3']);
  const r = sb.run(['export']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\{\n {2}"format": "psmc-export",\n/);
  const doc = r.json<ExportJson>();
  assert.equal(doc.format, 'psmc-export');
  assert.equal(doc.version, 1);
  assert.equal(doc.revision, 2);
  assert.deepEqual(Object.keys(doc.entries), ['display.units', 'retries']);
  assert.equal(doc.entries['retries']?.value, 3);
  assert.equal(doc.entries['retries']?.type, 'integer');
  assert.equal(doc.entries['retries']?.source, 'cli');
});

test('3.2 export --output writes the file atomically with mode 0600', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const r = sb.run(['export', '--output', 'backup.json']);
  assert.equal(r.status, 0, r.stderr);
  const file = join(sb.dir, 'backup.json');
  assert.equal(r.stdout, `Exported 1 key at revision 1 to ${file}\n`);
  assert.equal(readFileSync(file, 'utf8'), sb.exported());
  if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(sb.dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  // Overwrites an existing file, and --json reports what was written.
  writeFileSync(file, 'old', { mode: 0o644 });
  const j = sb.run(['export', '-o', file, '--json']).json<{ file: string; revision: number; keys: number }>();
  assert.deepEqual(j, { file, revision: 1, keys: 1 });
  assert.match(readFileSync(file, 'utf8'), /psmc-export/);
  if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
  // A directory that does not exist: a clear PSMC_IO error (exit 6), no stack.
  const bad = sb.run(['export', '-o', join(sb.dir, 'no', 'such', 'dir.json')]);
  assert.equal(bad.status, 6);
  assert.match(bad.stderr, /^psmc: Cannot write .*: no such file or directory\./);
  assert.equal(hasStack(bad.stderr), false);
});

test('3.3 import merges an export document and a flat object; source import:<name>', (t) => {
  const sb = sandbox(t);
  const source = sandbox(t);
  source.ok(['set', 'display.units', 'metric']);
  source.ok(['set', 'retries', '3']);
  writeFileSync(join(sb.dir, 'backup.json'), source.exported());
  sb.ok(['set', 'keep.me', 'yes']);
  const r = sb.run(['import', 'backup.json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Imported backup.json: 2 keys set, 0 deleted (revision 2)\n');
  const list = sb.run(['list', '--json']).json<{ key: string; value: unknown; source: string }[]>();
  assert.deepEqual(
    list.map((e) => [e.key, e.value, e.source]),
    [
      ['display.units', 'metric', 'import:backup.json'],
      ['keep.me', 'yes', 'cli'],
      ['retries', 3, 'import:backup.json'],
    ],
  );
  writeFileSync(join(sb.dir, 'flat.json'), '{"retries": 4, "new.key": [1]}');
  const j = sb
    .run(['import', 'flat.json', '--json', '--source', 'ops'])
    .json<{ revision: number; changed: number; changes: { source: string }[] }>();
  assert.equal(j.revision, 3);
  assert.equal(j.changed, 2);
  assert.ok(j.changes.every((c) => c.source === 'ops'));
});

test('3.4 import - reads stdin; --replace deletes keys absent from the document', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'old.key', '1']);
  sb.ok(['set', 'kept', '1']);
  const r = sb.run(['import', '-', '--replace'], { input: '{"kept": 2, "added": true}' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Imported <stdin>: 2 keys set, 1 deleted (revision 3)\n');
  assert.deepEqual(
    sb
      .run(['list', '--json'])
      .json<{ key: string; value: unknown; source: string }[]>()
      .map((e) => [e.key, e.value, e.source]),
    [
      ['added', true, 'import:stdin'],
      ['kept', 2, 'import:stdin'],
    ],
  );
  // The whole import is one revision, so one undo reverts it.
  assert.equal(sb.run(['undo']).status, 0);
  assert.equal(sb.run(['get', 'old.key']).stdout, '1\n');
});

test('3.5 import of invalid JSON names file, line and column; store unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "a": 1,\n  "b": tru\n}\n', 3, 8, /unexpected word tru/],
    ['{\n  "a": 1,\n}\n', 2, 9, /trailing comma/],
    ['{\n  a: 1\n}', 2, 3, /member name a needs double quotes/],
    ['{"a": 1', 1, 8, /expected ',' or '}'/],
    ['', 1, 1, /unexpected end/],
    ['{"a": "x\ny"}', 1, 9, /inside a string/],
    ["{'a': 1}", 1, 2, /expected a member name in double quotes/],
  ];
  for (const [text, line, column, why] of cases) {
    writeFileSync(join(sb.dir, 'bad.json'), text);
    const r = sb.run(['import', 'bad.json']);
    assert.equal(r.status, 5, JSON.stringify(text));
    assert.match(
      r.stderr,
      new RegExp(`^psmc: bad\\.json:${line}:${column}: The import file is not valid JSON: `),
      JSON.stringify(text),
    );
    assert.match(r.stderr, why);
    assert.match(r.stderr, new RegExp(`hint: Fix the JSON at line ${line}, column ${column} of bad\\.json`));
    assert.equal(hasStack(r.stderr), false);
    const j = sb
      .run(['import', 'bad.json', '--json'])
      .json<{ error: { code: string; details: Record<string, unknown> } }>();
    assert.equal(j.error.code, 'PSMC_PARSE');
    assert.equal(j.error.details['file'], 'bad.json');
    assert.equal(j.error.details['line'], line);
    assert.equal(j.error.details['column'], column);
  }
  // The excerpt points at the spot.
  writeFileSync(join(sb.dir, 'bad.json'), '{\n  "b": tru\n}');
  assert.match(sb.run(['import', 'bad.json']).stderr, / {2}2 \| {3}"b": tru\n {13}\^\n/);
  assert.equal(sb.exported(), before);
});

test('3.6 import of a bad key or value refuses the whole file; a missing file is PSMC_IO', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  writeFileSync(join(sb.dir, 'badkey.json'), '{"good": 1, "bad..key": 2}');
  let r = sb.run(['import', 'badkey.json']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /^psmc: The key "bad\.\.key" has an empty segment/);
  writeFileSync(join(sb.dir, 'reserved.json'), '{"good": 1, "x.__proto__": 2}');
  r = sb.run(['import', 'reserved.json']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /reserved segment "__proto__"/);
  writeFileSync(join(sb.dir, 'array.json'), '[1]');
  r = sb.run(['import', 'array.json']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /array\.json: expected a JSON object, found an array/);
  r = sb.run(['import', 'missing.json']);
  assert.equal(r.status, 6);
  assert.match(r.stderr, /^psmc: Cannot read missing\.json: no such file or directory\.\n {2}hint: Check the path/);
  assert.equal(sb.exported(), before);
});

test('3.7 schema get, set, clear; a value that breaks the schema is refused', (t) => {
  const sb = sandbox(t);
  let r = sb.run(['schema', 'get']);
  assert.equal(r.stdout, 'No schema is set.\n');
  assert.equal(sb.run(['schema', 'get', '--json']).stdout, 'null\n');
  assert.equal(existsSync(sb.home), false, 'reading the schema creates no store');
  const schema = { version: 1, keys: { 'display.units': { type: 'string', enum: ['metric', 'imperial'] } } };
  writeFileSync(join(sb.dir, 'schema.json'), JSON.stringify(schema));
  r = sb.run(['schema', 'set', 'schema.json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Set the schema (revision 1)\n');
  assert.deepEqual(sb.run(['schema', 'get']).json(), schema);
  const before = sb.exported();
  r = sb.run(['set', 'display.units', 'kelvin']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /^psmc: .*display\.units/);
  assert.equal(sb.exported(), before);
  assert.equal(sb.run(['set', 'display.units', 'metric']).status, 0);
  r = sb.run(['schema', 'clear']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Cleared the schema (revision 3)\n');
  assert.equal(sb.run(['schema', 'get', '--json']).stdout, 'null\n');
  // Usage errors.
  assert.equal(sb.run(['schema', 'set']).status, 2);
  assert.equal(sb.run(['schema', 'drop']).status, 2);
  assert.equal(sb.run(['schema']).status, 2);
  writeFileSync(join(sb.dir, 'bad-schema.json'), '{"version": 1,}');
  r = sb.run(['schema', 'set', 'bad-schema.json']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /^psmc: bad-schema\.json:1:14: The schema file is not valid JSON/);
});

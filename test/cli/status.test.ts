// psmc status: paths, revision, mirror state (including an invalid edit), imports; --json.
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

interface StatusJson {
  dir: string;
  layer: string;
  exists: boolean;
  database: string;
  revision: number;
  mirror?: {
    file: string;
    format: string;
    state: string;
    revision: number;
    error?: { line?: number; column?: number; hint: string; message: string };
  };
  snapshots: string;
  imports: { dir: string; pending: number };
  conflicts: number;
}

test('status prints every path, the revision and the mirror state; --json adds imports {dir, pending}', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'b', '2']);
  const r = sb.run(['status']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `Store:      ${sb.home} (user store)`);
  assert.equal(lines[1], `Database:   ${join(sb.home, 'psmc.db')}`);
  assert.equal(lines[2], 'Revision:   2');
  assert.equal(lines[3], `Mirror:     ${join(sb.home, 'config.json')} (json)`);
  assert.equal(lines[4], '  state:    in sync at revision 2');
  assert.match(r.stdout, /^ {2}exported: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
  assert.match(r.stdout, /^ {2}imported: never$/m);
  assert.match(
    r.stdout,
    new RegExp(`^Snapshots:  ${join(sb.home, 'snapshots').replace(/[.\\]/g, '\\$&')} \\(0 snapshots\\)$`, 'm'),
  );
  assert.match(
    r.stdout,
    new RegExp(`^Imports:    ${join(sb.home, 'imports').replace(/[.\\]/g, '\\$&')} \\(0 files pending\\)$`, 'm'),
  );
  assert.match(r.stdout, /^Conflicts: {2}0 recorded$/m);

  mkdirSync(join(sb.home, 'imports'));
  writeFileSync(join(sb.home, 'imports', 'x.json'), '{}');
  const j = sb.run(['status', '--json']).json<StatusJson>();
  assert.equal(j.dir, sb.home);
  assert.equal(j.exists, true);
  assert.equal(j.revision, 2);
  assert.equal(j.mirror?.state, 'in-sync');
  assert.equal(j.mirror?.format, 'json');
  assert.deepEqual(j.imports, { dir: join(sb.home, 'imports'), pending: 1 });
  assert.equal(j.conflicts, 0);
});

test('status of a store not created yet: exit 0, says so, creates nothing', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['status']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /not created yet: the first write creates it/);
  assert.match(r.stdout, /^Revision: {3}0$/m);
  const j = sb.run(['status', '--json']).json<StatusJson>();
  assert.equal(j.exists, false);
  assert.equal(j.imports.pending, 0);
});

test('an invalid hand edit: status exits 0 but shows file:line:column, what and how to fix it', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const file = join(sb.home, 'config.json');
  writeFileSync(file, '{\n  "a": 1,\n  "b": nope\n}\n');
  const past = (Date.now() - 5000) / 1000;
  utimesSync(file, past, past);
  const r = sb.run(['status']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /state: {4}INVALID EDIT/);
  assert.match(r.stdout, new RegExp(`^ {2}where: {4}${file.replace(/[.\\]/g, '\\$&')}:3:\\d+`, 'm'));
  assert.match(r.stdout, /^ {2}what: {5}\S/m);
  assert.match(r.stdout, /^ {2}fix: {6}\S/m);
  assert.match(r.stderr, /invalid edit that was not applied/);
  const j = sb.run(['status', '--json']).json<StatusJson>();
  assert.equal(j.mirror?.state, 'invalid-edit');
  assert.equal(j.mirror?.error?.line, 3);
  // The store still works from the database.
  assert.equal(sb.run(['get', 'a']).stdout, '1\n');
});

test('a damaged database: status exits 7 and points at psmc doctor', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  writeFileSync(join(sb.home, 'psmc.db'), Buffer.alloc(4096, 0x41));
  const r = sb.run(['status']);
  assert.equal(r.status, 7);
  assert.match(r.stderr, /damaged|not a SQLite database/);
  assert.match(r.stderr, /hint: Run `psmc doctor`/);
  assert.equal(hasStack(r.stderr), false);
});

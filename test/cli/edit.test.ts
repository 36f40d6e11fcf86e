// psmc edit: $VISUAL/$EDITOR on the mirror file, then the saved edit is merged (or refused, exit 5).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, sandbox, type Sandbox } from './harness.js';

/** A tiny "editor": a node script that applies a JS replacement to the file it is given. */
function editor(sb: Sandbox, name: string, body: string): string {
  const script = join(sb.dir, `${name}.cjs`);
  writeFileSync(script, `const fs = require('fs'); const f = process.argv[process.argv.length - 1];\n${body}\n`);
  return `"${process.execPath}" "${script}"`;
}

test('edit opens $EDITOR on the mirror, then imports the saved changes (source file)', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'retries', '3']);
  const ed = editor(
    sb,
    'ed',
    `let t = fs.readFileSync(f, 'utf8');
     t = t.replace('"metric"', '"imperial"').replace(/\\n}\\s*$/, ',\\n  "added": [1, 2]\\n}\\n');
     fs.writeFileSync(f, t);
     fs.writeFileSync(f + '.seen', process.argv.slice(2).join(' '));`,
  );
  const r = sb.run(['edit'], { env: { EDITOR: ed } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `Imported 2 changes from ${join(sb.home, 'config.json')} (revision 3).\n`);
  assert.equal(readFileSync(join(sb.home, 'config.json.seen'), 'utf8'), join(sb.home, 'config.json'));
  const list = sb.run(['list', '--json']).json<{ key: string; value: unknown; source: string }[]>();
  assert.deepEqual(
    list.map((e) => [e.key, e.value, e.source]),
    [
      ['added', [1, 2], 'file'],
      ['display.units', 'imperial', 'file'],
      ['retries', 3, 'cli'],
    ],
  );
  // --json: the count and the changes.
  const ed2 = editor(sb, 'ed2', `fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('3', '4'));`);
  const j = sb
    .run(['edit', '--json'], { env: { EDITOR: ed2 } })
    .json<{ imported: number; revision: number; conflicts: number }>();
  assert.equal(j.imported, 1);
  assert.equal(j.revision, 4);
  assert.equal(j.conflicts, 0);
});

test('$VISUAL wins over $EDITOR; an editor that changes nothing: "No changes"', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const visual = editor(sb, 'visual', `fs.writeFileSync(f + '.visual', 'yes');`);
  const r = sb.run(['edit'], { env: { VISUAL: visual, EDITOR: 'definitely-not-an-editor' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'No changes (revision 1).\n');
  assert.equal(readFileSync(join(sb.home, 'config.json.visual'), 'utf8'), 'yes');
});

test('an invalid edit: exit 5, file:line:column and a hint; the file is left exactly as saved, the store unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'b', 'two']);
  const before = sb.exported();
  const broken = '{\n  "a": 2,\n  "b": two\n}\n';
  const ed = editor(sb, 'bad', `fs.writeFileSync(f, ${JSON.stringify(broken)});`);
  const r = sb.run(['edit'], { env: { EDITOR: ed } });
  assert.equal(r.status, 5, r.stdout + r.stderr);
  const file = join(sb.home, 'config.json');
  assert.match(r.stderr, new RegExp(`^psmc: ${file.replace(/[.\\]/g, '\\$&')}:3:\\d+: `));
  assert.match(r.stderr, /\n {2}hint: .*fix the file and save again/);
  assert.equal(hasStack(r.stderr), false);
  assert.equal(readFileSync(file, 'utf8'), broken, 'the file is left as the user saved it');
  assert.equal(sb.exported(), before, 'the store is unchanged');
  // --json gives the error on stdout too.
  const j = sb.run(['edit', '--json'], { env: { EDITOR: ed } });
  assert.equal(j.status, 5);
  const err = j.json<{ error: { code: string; details: { line: number; file: string } } }>().error;
  assert.equal(err.code, 'PSMC_PARSE');
  assert.equal(err.details.line, 3);
  assert.equal(err.details.file, file);
  // Fixing it with a second edit imports it.
  const fix = editor(sb, 'fix', `fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('two', '"three"'));`);
  const ok = sb.run(['edit'], { env: { EDITOR: fix } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /still holds an invalid edit from before/);
  assert.match(ok.stdout, /^Imported 2 changes/);
  assert.equal(sb.run(['get', 'b']).stdout, 'three\n');
});

test('a schema violation in the edit is refused the same way (exit 5) with the key', (t) => {
  const sb = sandbox(t);
  writeFileSync(join(sb.dir, 'schema.json'), JSON.stringify({ keys: { port: { type: 'integer', minimum: 1 } } }));
  sb.ok(['schema', 'set', 'schema.json']);
  sb.ok(['set', 'port', '80']);
  const ed = editor(sb, 'neg', `fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('80', '-1'));`);
  const r = sb.run(['edit'], { env: { EDITOR: ed } });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /config\.json:\d+:\d+: /);
  assert.match(r.stderr, /port/);
  assert.equal(sb.run(['get', 'port']).stdout, '80\n');
});

test('an editor that cannot be started: exit 2 with a hint; a store not created yet is created', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['edit'], { env: { EDITOR: 'no-such-editor-psmc-test --wait' } });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /Cannot start the editor "no-such-editor-psmc-test --wait" \(from \$EDITOR\): command not found/,
  );
  assert.match(r.stderr, /hint: Set \$VISUAL or \$EDITOR/);
  const ed = editor(sb, 'first', `fs.writeFileSync(f, '{"first": true}');`);
  const ok = sb.run(['edit'], { env: { EDITOR: ed } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(sb.run(['get', 'first']).stdout, 'true\n');
});

// 2. History, undo and compare-and-set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasStack, sandbox } from './harness.js';

interface ChangeJson {
  revision: number;
  seq: number;
  key: string;
  op: string;
  oldValue?: unknown;
  newValue?: unknown;
  source: string;
  at: string;
  note?: string;
}

test('2.1 history prints a table newest first; --json an array of change records', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'display.units', 'imperial', '--source', 'gui']);
  sb.ok(['set', 'retries', '3']);
  sb.ok(['unset', 'retries']);
  const r = sb.run(['history']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^REV\s+TIME \(UTC\)\s+SOURCE\s+KEY\s+OP\s+CHANGE$/);
  assert.match(lines[1] ?? '', /^4\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+cli\s+retries\s+delete\s+3 → \(unset\)$/);
  assert.match(lines[3] ?? '', /^2\s+.*gui\s+display\.units\s+set\s+"metric" → "imperial"$/);
  assert.match(lines[4] ?? '', /^1\s+.*\(unset\) → "metric"$/);
  const j = sb.run(['history', '--json']).json<ChangeJson[]>();
  assert.equal(j.length, 4);
  assert.deepEqual(
    j.map((c) => [c.revision, c.key, c.op, c.oldValue, c.newValue, c.source]),
    [
      [4, 'retries', 'delete', 3, undefined, 'cli'],
      [3, 'retries', 'set', undefined, 3, 'cli'],
      [2, 'display.units', 'set', 'metric', 'imperial', 'gui'],
      [1, 'display.units', 'set', undefined, 'metric', 'cli'],
    ],
  );
  assert.ok(j.every((c) => typeof c.at === 'string' && c.seq === 0));
});

test('2.2 history filters by key, prefix, limit and since', (t) => {
  const sb = sandbox(t);
  for (const [k, v] of [
    ['display.units', 'a'],
    ['display.theme', 'b'],
    ['retries', '1'],
    ['display.units', 'c'],
  ])
    sb.ok(['set', k as string, v as string]);
  const revs = (args: string[]): number[] =>
    sb
      .run(['history', ...args, '--json'])
      .json<ChangeJson[]>()
      .map((c) => c.revision);
  assert.deepEqual(revs(['display.units']), [4, 1]);
  assert.deepEqual(revs(['display', '--prefix']), [4, 2, 1]);
  assert.deepEqual(revs(['--limit', '2']), [4, 3]);
  assert.deepEqual(revs(['--since', '2']), [4, 3]);
  const none = sb.run(['history', 'nothing']);
  assert.equal(none.status, 0);
  assert.match(none.stderr, /No changes are recorded for nothing/);
});

test('2.3 history on a store never written is empty and creates nothing', (t) => {
  const sb = sandbox(t);
  assert.deepEqual(sb.run(['history', '--json']).json(), []);
});

test('2.4 undo reverts the newest revision as a new change; undo of undo redoes', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'display.units', 'imperial']);
  let r = sb.run(['undo']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Undid revision 2 (now revision 3):\n  display.units: "imperial" → "metric"\n');
  assert.equal(sb.run(['get', 'display.units']).stdout, 'metric\n');
  const last = sb.run(['history', '--limit', '1', '--json']).json<ChangeJson[]>()[0];
  assert.equal(last?.note, 'undo of revision 2');
  r = sb.run(['undo', '--json']);
  const j = r.json<{ revision: number; changes: ChangeJson[] }>();
  assert.equal(j.revision, 4);
  assert.equal(j.changes[0]?.newValue, 'imperial');
  // Undoing the creation of a key unsets it.
  r = sb.run(['undo', '1', '--force']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /display\.units: unset \(was "imperial"\)|display\.units: "imperial" → \(unset\)/);
  assert.equal(sb.run(['get', 'display.units']).status, 3);
});

test('2.5 undo with nothing to undo exits 3 and creates no store', async (t) => {
  const { existsSync } = await import('node:fs');
  const sb = sandbox(t);
  const r = sb.run(['undo']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^psmc: The store has no changes to undo/);
  assert.match(r.stderr, /hint: /);
  assert.equal(existsSync(sb.home), false);
  const j = sb.run(['undo', '--json']);
  assert.equal(j.json<{ error: { code: string } }>().error.code, 'PSMC_NOTHING_TO_UNDO');
});

test('2.6 undo of a revision whose key changed again is a conflict (exit 4), store unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'a', '2']);
  sb.ok(['set', 'a', '3']);
  const before = sb.exported();
  const r = sb.run(['undo', '2']);
  assert.equal(r.status, 4);
  assert.match(r.stderr, /^psmc: Cannot undo revision 2: "a" was changed again at revision 3\./);
  assert.match(r.stderr, /hint: .*--force/);
  assert.equal(hasStack(r.stderr), false);
  assert.equal(sb.exported(), before);
  const f = sb.run(['undo', '2', '--force']);
  assert.equal(f.status, 0, f.stderr);
  assert.equal(sb.run(['get', 'a']).stdout, '1\n');
});

test('2.7 undo of an unknown or malformed revision', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  const missing = sb.run(['undo', '99']);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /Revision 99 has no recorded changes/);
  for (const bad of ['abc', '0', '1.5']) {
    const r = sb.run(['undo', bad]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /The revision to undo must be a whole number ≥ 1/);
  }
  assert.equal(sb.exported(), before);
});

test('2.8 set --expect-revision: success, and a conflict (exit 4) that shows the current value', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  const ok = sb.run(['set', 'display.units', 'imperial', '--expect-revision', '1']);
  assert.equal(ok.status, 0, ok.stderr);
  const before = sb.exported();
  const r = sb.run(['set', 'display.units', 'kelvin', '--expect-revision', '1']);
  assert.equal(r.status, 4);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^psmc: The key "display\.units" is at revision 2 .*but the write expected revision 1\./);
  assert.match(r.stderr, /current: display\.units = "imperial" \(revision 2\)/);
  assert.match(r.stderr, /hint: /);
  assert.equal(sb.exported(), before);
  const j = sb.run(['set', 'display.units', 'kelvin', '--expect-revision', '1', '--json']);
  assert.equal(j.status, 4);
  assert.deepEqual(j.json<{ error: { code: string; details: unknown } }>().error, {
    code: 'PSMC_CONFLICT',
    message: j.json<{ error: { message: string } }>().error.message,
    hint: j.json<{ error: { hint: string } }>().error.hint,
    details: { key: 'display.units', expectedRevision: 1, currentRevision: 2, currentValue: 'imperial' },
  });
  // 0: the key must not exist.
  assert.equal(sb.run(['set', 'fresh', '1', '--expect-revision', '0']).status, 0);
  const again = sb.run(['set', 'fresh', '2', '--expect-revision', '0']);
  assert.equal(again.status, 4);
  assert.match(again.stderr, /current: fresh = 1 \(revision 3\)/);
});

test('2.9 unset --expect-revision conflicts like set', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'a', '2']);
  const r = sb.run(['unset', 'a', '--expect-revision', '1']);
  assert.equal(r.status, 4);
  assert.equal(sb.run(['get', 'a']).stdout, '2\n');
  assert.equal(sb.run(['unset', 'a', '--expect-revision', '2']).status, 0);
});

test('2.10 a bad --expect-revision is a usage error (exit 2), store unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  for (const bad of ['abc', '-1', '1.5', '', '1e3']) {
    const r = sb.run(['set', 'a', '2', `--expect-revision=${bad}`]);
    assert.equal(r.status, 2, `--expect-revision=${bad}: ${r.stderr}`);
    assert.match(r.stderr, /^psmc: --expect-revision must be a whole number ≥ 0, received /);
  }
  const missing = sb.run(['set', 'a', '2', '--expect-revision']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--expect-revision needs a value/);
  assert.equal(sb.exported(), before);
});

test('2.11 history --limit and --since refuse bad numbers', (t) => {
  const sb = sandbox(t);
  for (const args of [['--limit', '0'], ['--limit', 'x'], ['--since', '-1'], ['--prefix']]) {
    const r = sb.run(['history', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^psmc: /);
  }
});

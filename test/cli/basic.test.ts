// 1. The everyday commands: get, set, unset, list, explain, revision, and their --json shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sandbox } from './harness.js';

interface ResolvedJson {
  key: string;
  value: unknown;
  found: boolean;
  layer: string;
  revision: number;
  source: string;
  updatedAt: string;
}

test('1.1 set then get prints strings raw and other values as JSON', (t) => {
  const sb = sandbox(t);
  let r = sb.run(['set', 'display.units', 'metric']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'display.units = "metric" (revision 1)\n');
  r = sb.run(['get', 'display.units']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'metric\n');
  sb.ok(['set', 'plot.range', '{"min":0,"max":10}']);
  assert.equal(sb.run(['get', 'plot.range']).stdout, '{"min":0,"max":10}\n');
});

test('1.2 set parses the value as JSON when it parses, else takes a string', (t) => {
  const sb = sandbox(t);
  const cases: [string[], unknown][] = [
    [['set', 'a', '1'], 1],
    [['set', 'a', '"1"'], '1'],
    [['set', 'a', 'hello'], 'hello'],
    [['set', 'a', '1', '--string'], '1'],
    [['set', 'a', '--string', 'true'], 'true'],
    [['set', 'a', '{"x":1}'], { x: 1 }],
    [['set', 'a', 'true'], true],
    [['set', 'a', 'null'], null],
    [
      ['set', 'a', '[1, "b"]'],
      [1, 'b'],
    ],
    [['set', 'a', '-5'], -5],
    [['set', 'a', '-2.5e3'], -2500],
    [['set', 'a', '--', '-x'], '-x'],
    [['set', 'a', 'two words'], 'two words'],
    [['set', 'a', '{not json'], '{not json'],
  ];
  for (const [args, expected] of cases) {
    const r = sb.run(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    const got = sb.run(['get', 'a', '--json']).json<ResolvedJson>();
    assert.deepEqual(got.value, expected, args.join(' '));
  }
});

test('1.3 get --json has key, value, found, layer, revision, source and updatedAt', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric', '--source', 'gui']);
  const got = sb.run(['get', 'display.units', '--json']).json<ResolvedJson>();
  assert.equal(got.key, 'display.units');
  assert.equal(got.value, 'metric');
  assert.equal(got.found, true);
  assert.equal(got.layer, 'user');
  assert.equal(got.revision, 1);
  assert.equal(got.source, 'gui');
  assert.match(got.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-\d{4}$/);
});

test('1.4 get of a missing key exits 3 with hints; --default gives a value', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'other', '1']);
  const r = sb.run(['get', 'display.units']);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^psmc: The key "display\.units" is not set in any layer\.\n/);
  assert.match(r.stderr, /hint: .*psmc set display\.units <value>.*psmc explain display\.units/);
  const d = sb.run(['get', 'display.units', '--default', '3']);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(d.stdout, '3\n');
  const dj = sb.run(['get', 'display.units', '--default', 'metric', '--json']).json<ResolvedJson>();
  assert.equal(dj.value, 'metric');
  assert.equal(dj.layer, 'caller');
});

test('1.5 set of the same value says nothing changed and takes no revision', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const r = sb.run(['set', 'a', '1']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^a is already 1; nothing changed \(store revision 1\)/);
  const j = sb.run(['set', 'a', '1', '--json']).json<{ changed: boolean; revision: number; changes: unknown[] }>();
  assert.equal(j.changed, false);
  assert.equal(j.revision, 1);
  assert.deepEqual(j.changes, []);
});

test('1.6 set --json prints the commit with its change record', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const j = sb
    .run(['set', 'a', '2', '--json'])
    .json<{ key: string; value: unknown; changed: boolean; revision: number; changes: Record<string, unknown>[] }>();
  assert.equal(j.key, 'a');
  assert.equal(j.value, 2);
  assert.equal(j.changed, true);
  assert.equal(j.revision, 2);
  assert.equal(j.changes.length, 1);
  assert.deepEqual(
    { ...j.changes[0], at: undefined },
    { revision: 2, seq: 0, key: 'a', op: 'set', oldValue: 1, newValue: 2, source: 'cli', at: undefined },
  );
});

test('1.7 unset removes a key (recorded), and an absent key changes nothing', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a.b', '"x"']);
  let r = sb.run(['unset', 'a.b']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Unset a.b (was "x"; revision 2)\n');
  assert.equal(sb.run(['get', 'a.b']).status, 3);
  r = sb.run(['unset', 'a.b']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /a\.b is not set in the user store; nothing changed/);
  const j = sb.run(['unset', 'a.b', '--json']).json<{ changed: boolean; revision: number }>();
  assert.deepEqual([j.changed, j.revision], [false, 2]);
});

test('1.8 list shows a table and --json an array of resolved values, filtered by prefix', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  sb.ok(['set', 'display.theme', 'dark']);
  sb.ok(['set', 'displays.count', '2']);
  sb.ok(['set', 'long.text', 'x'.repeat(200)]);
  const r = sb.run(['list']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^KEY\s+VALUE\s+LAYER\s+SOURCE$/);
  assert.equal(lines.length, 5);
  assert.match(r.stdout, /display\.units\s+"metric"\s+user\s+cli/);
  assert.ok(
    lines.every((l) => l.length < 120),
    'long values are truncated',
  );
  assert.match(r.stdout, /"xxx+…/);
  const j = sb.run(['list', 'display', '--json']).json<ResolvedJson[]>();
  assert.deepEqual(
    j.map((e) => [e.key, e.value, e.layer, e.source, e.revision]),
    [
      ['display.theme', 'dark', 'user', 'cli', 2],
      ['display.units', 'metric', 'user', 'cli', 1],
    ],
  );
  const empty = sb.run(['list', 'nothing']);
  assert.equal(empty.status, 0);
  assert.equal(empty.stdout, '');
  assert.match(empty.stderr, /No keys are set under nothing/);
  assert.deepEqual(sb.run(['list', 'nothing', '--json']).json(), []);
});

test('1.9 explain marks the winning layer and gives the reason; --json is the explanation', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'display.units', 'metric']);
  const r = sb.run(['explain', 'display.units']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^display\.units\n/);
  assert.match(r.stdout, /\*\s+user\s+"metric"\s+.*revision 1, by cli/);
  assert.match(r.stdout, /^\s+env\s+-\s+PSMC_DISPLAY__UNITS$/m);
  assert.match(r.stdout, /The value comes from the user store/);
  const j = sb
    .run(['explain', 'display.units', '--json'])
    .json<{ layer: string; value: unknown; reason: string; layers: { layer: string; present: boolean }[] }>();
  assert.equal(j.layer, 'user');
  assert.equal(j.value, 'metric');
  assert.equal(typeof j.reason, 'string');
  assert.deepEqual(
    j.layers.map((l) => l.layer),
    ['override', 'env', 'project', 'user', 'default', 'caller'],
  );
  // A key set nowhere is explained too (exit 0): explain is how one finds out why.
  const none = sb.run(['explain', 'nowhere']);
  assert.equal(none.status, 0, none.stderr);
  assert.doesNotMatch(none.stdout, /^\s*\*/m);
});

test('1.10 revision prints the store revision', (t) => {
  const sb = sandbox(t);
  assert.equal(sb.run(['revision']).stdout, '0\n');
  sb.ok(['set', 'a', '1']);
  sb.ok(['set', 'b', '1']);
  assert.equal(sb.run(['revision']).stdout, '2\n');
  assert.deepEqual(sb.run(['revision', '--json']).json(), { revision: 2 });
});

test('1.11 global options work before and after the command', (t) => {
  const sb = sandbox(t);
  const store = `${sb.dir}/explicit`;
  assert.equal(sb.run(['--store', store, 'set', 'a', '1']).status, 0);
  assert.equal(sb.run(['get', 'a', '--store', store]).stdout, '1\n');
  assert.equal(sb.run(['--json', 'get', '--store=' + store, 'a']).json<ResolvedJson>().value, 1);
  // The default store (PSMC_HOME) was not touched.
  assert.equal(sb.run(['get', 'a']).status, 3);
});

test('1.12 --source and PSMC_SOURCE name the writer', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1', '--source', 'deploy-bot']);
  assert.equal(sb.run(['get', 'a', '--json']).json<ResolvedJson>().source, 'deploy-bot');
  sb.ok(['set', 'a', '2'], { env: { PSMC_SOURCE: 'nightly' } });
  assert.equal(sb.run(['get', 'a', '--json']).json<ResolvedJson>().source, 'nightly');
  sb.ok(['set', 'a', '3']);
  assert.equal(sb.run(['get', 'a', '--json']).json<ResolvedJson>().source, 'cli');
});

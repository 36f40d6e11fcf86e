// 5. Usage errors, help, version, and how errors are printed (--json, --debug).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasStack, ROOT, sandbox } from './harness.js';

test('5.1 --help, help <command>, <command> --help and --version', (t) => {
  const sb = sandbox(t);
  const main = sb.run(['--help']);
  assert.equal(main.status, 0);
  assert.match(main.stdout, /^Usage: psmc <command>/);
  for (const c of [
    'get',
    'set',
    'unset',
    'list',
    'explain',
    'history',
    'undo',
    'export',
    'import',
    'init',
    'schema',
    'revision',
  ]) {
    assert.match(main.stdout, new RegExp(`^ {2}${c} `, 'm'), c);
    const h = sb.run(['help', c]);
    assert.equal(h.status, 0, c);
    assert.match(h.stdout, new RegExp(`^Usage: psmc ${c}`), c);
    assert.match(h.stdout, /\nExamples:\n {2}psmc /);
    assert.match(h.stdout, /Global options/);
    assert.equal(sb.run([c, '--help']).stdout, h.stdout, `${c} --help`);
  }
  assert.equal(sb.run(['help']).stdout, main.stdout);
  assert.equal(sb.run(['-h']).stdout, main.stdout);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(sb.run(['--version']).stdout, `psmc ${pkg.version}\n`);
});

test('5.2 an unknown command is a usage error (exit 2) with a suggestion', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['lsit']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^psmc: Unknown command "lsit"\. Did you mean list\?\n {2}hint: .*Usage: psmc <command>/);
  assert.match(sb.run(['expl', 'a']).stderr, /Did you mean explain\?/);
  assert.doesNotMatch(sb.run(['frobnicate']).stderr, /Did you mean/);
  assert.match(sb.run(['help', 'gte']).stderr, /Unknown command "gte"\. Did you mean get\?/);
  const none = sb.run([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^psmc: No command given\./);
});

test('5.3 an unknown option is a usage error with a suggestion and the usage line', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  let r = sb.run(['set', 'a', '2', '--expect-revison', '1']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^psmc: Unknown option --expect-revison\. Did you mean --expect-revision\?\n/);
  assert.match(r.stderr, /hint: Usage: psmc set <key> <value> \[--string\] \[--expect-revision <n>\]/);
  r = sb.run(['get', 'a', '--jsno']);
  assert.match(r.stderr, /Did you mean --json\?/);
  r = sb.run(['set', 'a', '-x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option -x\..*\n.*put -- before it/);
  r = sb.run(['--limit', '5', 'history']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option --limit\. \(a command's own options go after the command name\)/);
  r = sb.run(['get', 'a', '--json=yes']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--json takes no value/);
  r = sb.run(['get', 'a', '--store']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--store needs a value/);
  assert.equal(sb.exported(), before);
});

test('5.4 missing and extra arguments are usage errors', (t) => {
  const sb = sandbox(t);
  let r = sb.run(['set', 'a']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^psmc: psmc set needs <value>\.\n {2}hint: Usage: psmc set <key> <value>/);
  r = sb.run(['get']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /psmc get needs <key>/);
  r = sb.run(['set', 'a', 'two', 'words']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /psmc set takes at most 2 arguments; unexpected "words"\./);
  r = sb.run(['revision', 'x']);
  assert.match(r.stderr, /psmc revision takes no arguments/);
  assert.equal(existsSyncSafe(sb.home), false);
});

function existsSyncSafe(p: string): boolean {
  try {
    readFileSync(join(p, 'psmc.db'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

test('5.5 bad keys: syntax (exit 5) and reserved segments (exit 5), store unchanged', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const before = sb.exported();
  const cases: [string[], RegExp][] = [
    [['set', 'a..b', '1'], /^psmc: The key "a\.\.b" has an empty segment/],
    [['set', 'a b', '1'], /^psmc: The key "a b" /],
    [['set', '', '1'], /^psmc: The key is empty\./],
    [['set', 'x.__proto__', '1'], /^psmc: The key "x\.__proto__" uses the reserved segment "__proto__"/],
    [['set', 'a.Constructor', '1'], /reserved segment "Constructor"/],
    [['get', 'a..b'], /empty segment/],
    [['unset', 'prototype'], /reserved segment "prototype"/],
    [['list', 'a..b'], /empty segment/],
  ];
  for (const [args, message] of cases) {
    const r = sb.run(args);
    assert.equal(r.status, 5, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\n {2}hint: .+/);
    assert.equal(hasStack(r.stderr), false);
  }
  const j = sb.run(['set', 'x.__proto__', '1', '--json']);
  const err = j.json<{ error: { code: string; message: string; hint: string; details: { key?: string } } }>().error;
  assert.equal(err.code, 'PSMC_KEY_RESERVED');
  assert.equal(err.details.key, 'x.__proto__');
  assert.equal(typeof err.hint, 'string');
  assert.equal(sb.exported(), before);
});

test('5.6 a value JSON cannot hold safely is refused (exit 5)', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['set', 'big', '9007199254740993']);
  assert.equal(r.status, 5);
  assert.match(r.stderr, /outside ±9007199254740991/);
  assert.equal(sb.run(['set', 'big', '9007199254740993', '--string']).status, 0);
});

test('5.7 no stack trace without --debug; a stack and the cause chain with it', (t) => {
  const sb = sandbox(t);
  sb.ok(['set', 'a', '1']);
  const plain = sb.run(['set', 'a', '2', '--expect-revision', '7']);
  assert.equal(plain.status, 4);
  assert.equal(hasStack(plain.stderr), false);
  assert.doesNotMatch(plain.stderr, /PsmcError/);
  const debug = sb.run(['set', 'a', '2', '--expect-revision', '7', '--debug']);
  assert.equal(debug.status, 4);
  assert.match(debug.stderr, /^psmc: The key "a" is at revision 1/);
  assert.match(debug.stderr, /PsmcError: The key "a"/);
  assert.equal(hasStack(debug.stderr), true);
  const env = sb.run(['set', 'a', '2', '--expect-revision', '7'], { env: { PSMC_DEBUG: '1' } });
  assert.equal(hasStack(env.stderr), true);
  // A parse error carries its cause (the JSON.parse SyntaxError) under --debug.
  const parse = sb.run(['import', '-', '--debug'], { input: '{' });
  assert.match(parse.stderr, /caused by: SyntaxError/);
  assert.equal(hasStack(sb.run(['import', '-'], { input: '{' }).stderr), false);
});

test('5.8 with --json an error also goes to stdout as {"error":{code,message,hint,details}}', (t) => {
  const sb = sandbox(t);
  const r = sb.run(['get', 'missing', '--json']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^psmc: The key "missing" is not set in any layer\./);
  assert.deepEqual(Object.keys(r.json<{ error: object }>().error), ['code', 'message', 'hint', 'details']);
  assert.equal(r.json<{ error: { code: string } }>().error.code, 'PSMC_NOT_FOUND');
  const u = sb.run(['nope', '--json']);
  assert.equal(u.status, 2);
  assert.equal(u.json<{ error: { code: string } }>().error.code, 'PSMC_USAGE');
});

test('5.9 an env variable that does not parse under the schema is reported with its name', (t) => {
  const sb = sandbox(t);
  const schema = JSON.stringify({ version: 1, keys: { retries: { type: 'integer' } } });
  assert.equal(sb.run(['schema', 'set', '-'], { input: schema }).status, 0);
  const env = { PSMC_RETRIES: 'many' };
  const r = sb.run(['get', 'retries'], { env });
  assert.equal(r.status, 5);
  assert.match(r.stderr, /PSMC_RETRIES/);
  const e = sb.run(['explain', 'retries'], { env });
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /env\s+\(error: PSMC_ENV_COERCE\)\s+PSMC_RETRIES/);
});

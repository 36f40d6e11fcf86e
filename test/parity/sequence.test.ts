/**
 * Live three-language parity on one store, with real processes: the TypeScript CLI
 * (`bin/psmc.cjs`), the Python CLI (`python3 -m psmc`) and the Rust CLI (`psmc-rs`, release).
 *
 * 1. The sequence of issue 4: TS writes → Python reads → Python overwrites → Rust reads → Rust
 *    writes → TS restores a snapshot → Python and Rust read the restored values → history shows
 *    every step with its source (cli / python / rust / restore:<name>, spec §source), and the
 *    three `history --json` outputs are byte-identical.
 * 2. Values of every kind written by each language read back identically by all three
 *    (`get --json` and `list --json` byte-identical, and equal to what was written).
 * 3. The same bad input gives the same error from all three CLIs: exit code, `--json` stdout and
 *    stderr byte-identical; the store is unchanged.
 *
 * Fails (does not skip) when python3 or cargo is missing: see tools.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ensurePython, ensureRust, LANGS, runCli, type CliResult, type Lang } from './tools.js';

interface Fixture {
  store: string;
  /** Runs with `--json`. */
  run(lang: Lang, args: readonly string[], input?: string): CliResult;
  /** Runs without `--json`. */
  plain(lang: Lang, args: readonly string[]): CliResult;
  /** Runs, fails the test unless exit 0, returns parsed --json stdout. */
  ok<T = unknown>(lang: Lang, args: readonly string[], input?: string): T;
}

function fixture(t: { after(fn: () => void): void }): Fixture {
  ensurePython();
  const { psmcRs } = ensureRust();
  const dir = mkdtempSync(join(tmpdir(), 'psmc-parity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = join(dir, 'store');
  const env = childEnv(dir);
  const run = (lang: Lang, args: readonly string[], input?: string): CliResult =>
    runCli(lang, psmcRs, [...args, '--store', store, '--json'], env, input);
  return {
    store,
    run,
    plain: (lang, args) => runCli(lang, psmcRs, [...args, '--store', store], env),
    ok<T>(lang: Lang, args: readonly string[], input?: string): T {
      const r = run(lang, args, input);
      assert.equal(r.status, 0, `${r.command} exits 0\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}

interface Got {
  key: string;
  value: unknown;
  found: boolean;
  layer: string;
  revision: number;
  source: string;
  updatedAt: string;
}
interface Record_ {
  revision: number;
  seq: number;
  key: string;
  op: string;
  oldValue?: unknown;
  newValue?: unknown;
  source: string;
  at: string;
}

test(
  '1. TS writes, Python reads and overwrites, Rust reads and writes, TS restores, all read back; history names every source',
  { timeout: 900_000 },
  (t) => {
    const f = fixture(t);

    // TS CLI writes (source cli).
    f.ok('ts', ['set', 'plant.setpoint', '42']);
    f.ok('ts', ['set', 'plant.mode', 'auto']);
    f.ok('ts', ['snapshot', 'create', 'baseline']);

    // Python reads what TS wrote, with TS's metadata.
    const p1 = f.ok<Got>('python', ['get', 'plant.setpoint']);
    assert.deepEqual([p1.value, p1.source, p1.revision, p1.layer], [42, 'cli', 1, 'user']);

    // Python overwrites (source python).
    const pw = f.ok<{ revision: number; changes: Record_[] }>('python', ['set', 'plant.setpoint', '55']);
    assert.equal(pw.revision, 3);
    assert.equal(pw.changes[0]?.source, 'python');

    // Rust reads Python's value, then writes (source rust).
    const r1 = f.ok<Got>('rust', ['get', 'plant.setpoint']);
    assert.deepEqual([r1.value, r1.source, r1.revision], [55, 'python', 3]);
    f.ok('rust', ['set', 'plant.mode', 'manual']);
    const t1 = f.ok<Got>('ts', ['get', 'plant.mode']);
    assert.deepEqual([t1.value, t1.source, t1.revision], ['manual', 'rust', 4]);

    // TS restores the snapshot: one recorded change, source restore:baseline.
    f.ok('ts', ['snapshot', 'restore', 'baseline', '--yes']);

    // Everyone reads the restored values, byte-identically.
    for (const key of ['plant.setpoint', 'plant.mode']) {
      const outs = LANGS.map((lang) => f.run(lang, ['get', key]));
      for (const o of outs) assert.equal(o.status, 0, `${o.command}: ${o.stderr}`);
      assert.equal(outs[1]!.stdout, outs[0]!.stdout, `python get ${key} --json = psmc get ${key} --json`);
      assert.equal(outs[2]!.stdout, outs[0]!.stdout, `psmc-rs get ${key} --json = psmc get ${key} --json`);
      const got = JSON.parse(outs[0]!.stdout) as Got;
      assert.equal(got.source, 'restore:baseline');
      assert.equal(got.revision, 5);
    }
    assert.equal(f.ok<Got>('python', ['get', 'plant.setpoint']).value, 42);
    assert.equal(f.ok<Got>('rust', ['get', 'plant.mode']).value, 'auto');

    // History: every step, its source, oldest first.
    const hist = LANGS.map((lang) => f.run(lang, ['history']));
    for (const h of hist) assert.equal(h.status, 0, `${h.command}: ${h.stderr}`);
    assert.equal(hist[1]!.stdout, hist[0]!.stdout, 'python history --json = psmc history --json');
    assert.equal(hist[2]!.stdout, hist[0]!.stdout, 'psmc-rs history --json = psmc history --json');
    const records = (JSON.parse(hist[0]!.stdout) as Record_[]).reverse();
    assert.deepEqual(
      records.map((r) => [r.revision, r.key, r.op, r.oldValue, r.newValue, r.source]),
      [
        [1, 'plant.setpoint', 'set', undefined, 42, 'cli'],
        [2, 'plant.mode', 'set', undefined, 'auto', 'cli'],
        [3, 'plant.setpoint', 'set', 42, 55, 'python'],
        [4, 'plant.mode', 'set', 'auto', 'manual', 'rust'],
        [5, 'plant.mode', 'set', 'manual', 'auto', 'restore:baseline'],
        [5, 'plant.setpoint', 'set', 55, 42, 'restore:baseline'],
      ],
    );
    // The restore is undoable, from any language: Python undoes it, Rust sees the pre-restore values.
    f.ok('python', ['undo']);
    assert.equal(f.ok<Got>('rust', ['get', 'plant.setpoint']).value, 55);
    assert.equal(f.ok<Got>('rust', ['get', 'plant.mode']).value, 'manual');
    const after = LANGS.map((lang) => f.run(lang, ['list']).stdout);
    assert.equal(after[1], after[0], 'python list --json = psmc list --json');
    assert.equal(after[2], after[0], 'psmc-rs list --json = psmc list --json');
  },
);

/** Values of every kind, as JSON text for `set` (the CLIs parse JSON) and as the value expected. */
const VALUES: ReadonlyArray<[key: string, text: string, expected: unknown, extra?: string[]]> = [
  [
    'v.nested',
    '{"a":{"b":{"c":[1,[2,[3,{"d":null}]]]}},"e":[]}',
    { a: { b: { c: [1, [2, [3, { d: null }]]] } }, e: [] },
  ],
  ['v.member-order', '{"b":1,"10":2,"a":3,"2":4,"-1":5}', { '2': 4, '10': 2, b: 1, a: 3, '-1': 5 }],
  ['v.unicode', '"héllo wörld ✓ 中文 עברית 🌍👩‍💻 e\u0301"', 'héllo wörld ✓ 中文 עברית 🌍👩‍💻 e\u0301'],
  [
    'v.escapes',
    '"tab\\t nl\\n quote\\" back\\\\ nul\\u0000 del\\u007f ls\\u2028"',
    'tab\t nl\n quote" back\\ nul\u0000 del\u007f ls\u2028',
  ],
  ['v.big', '9007199254740991', 9007199254740991],
  ['v.big-neg', '-9007199254740991', -9007199254740991],
  ['v.null', 'null', null],
  ['v.true', 'true', true],
  [
    'v.floats',
    '[0.1,1e-7,1.5e-300,5e-324,-2.5,123456789.123,3.141592653589793,0.000001,1.234e-5,-2.5e-8]',
    [0.1, 1e-7, 1.5e-300, 5e-324, -2.5, 123456789.123, 3.141592653589793, 0.000001, 1.234e-5, -2.5e-8],
  ],
  ['v.neg-zero', '-0', 0],
  ['v.empty-string', '""', ''],
  ['v.empty-object', '{}', {}],
  ['v.string-of-digits', '42', '42', ['--string']],
  ['v.string-like-json', '{"not":"parsed"}', '{"not":"parsed"}', ['--string']],
  ['v.big-as-string', '"9007199254740993"', '9007199254740993'],
];

test(
  '2. values of every kind written by each language read back identically by all three',
  { timeout: 900_000 },
  (t) => {
    const f = fixture(t);
    VALUES.forEach(([key, text, , extra], i) => {
      const writer = LANGS[i % 3]!;
      f.ok(writer, ['set', key, text, ...(extra ?? [])]);
    });
    for (const [i, [key, , expected]] of VALUES.entries()) {
      const outs = LANGS.map((lang) => f.run(lang, ['get', key]));
      for (const o of outs) assert.equal(o.status, 0, `${o.command}: ${o.stderr}`);
      assert.equal(outs[1]!.stdout, outs[0]!.stdout, `python get ${key} --json = psmc get ${key} --json`);
      assert.equal(outs[2]!.stdout, outs[0]!.stdout, `psmc-rs get ${key} --json = psmc get ${key} --json`);
      const got = JSON.parse(outs[0]!.stdout) as Got;
      assert.deepEqual(got.value, expected, `${key} holds what was written`);
      // Member order too (ECMAScript order: integer-like names first), not only deep equality.
      assert.equal(JSON.stringify(got.value), JSON.stringify(expected), `${key}: member order`);
      assert.equal(got.source, ['cli', 'python', 'rust'][i % 3]);
      // The plain output a shell script reads, too.
      const text = LANGS.map((lang) => f.plain(lang, ['get', key]));
      for (const o of text) assert.equal(o.status, 0, `${o.command}: ${o.stderr}`);
      assert.equal(text[1]!.stdout, text[0]!.stdout, `python get ${key} = psmc get ${key}`);
      assert.equal(text[2]!.stdout, text[0]!.stdout, `psmc-rs get ${key} = psmc get ${key}`);
    }
    const lists = LANGS.map((lang) => f.run(lang, ['list']).stdout);
    assert.equal(lists[1], lists[0], 'python list --json = psmc list --json');
    assert.equal(lists[2], lists[0], 'psmc-rs list --json = psmc list --json');
    assert.equal((JSON.parse(lists[0]!) as unknown[]).length, VALUES.length);
  },
);

/**
 * Error messages known to differ from the TypeScript reference, with the reason. Codes, exit
 * codes, hints and details must still match. The test fails when a listed case starts matching.
 */
const KNOWN_MESSAGE_DIFFERENCES: Readonly<Record<string, string>> = {
  'python set v 9007199254740993':
    'Python parses JSON integers exactly and names 9007199254740993; JavaScript and the Rust client ' +
    '(ECMAScript number semantics) read it as the double 9007199254740992 and name that.',
};

interface ErrorOut {
  error: { code: string; message: string; hint: string; details: Record<string, unknown> };
}

test(
  '3. the same bad input gives the same error, exit code and output from the three CLIs, and changes nothing',
  { timeout: 900_000 },
  (t) => {
    const f = fixture(t);
    f.ok('ts', ['set', 'plant.setpoint', '5']);
    f.ok('ts', ['set', 'plant.mode', 'auto']);
    const schema = join(f.store, '..', 'schema.json');
    writeFileSync(
      schema,
      JSON.stringify({
        keys: {
          'plant.setpoint': { type: 'integer', minimum: 0, maximum: 100 },
          'plant.mode': { enum: ['auto', 'manual'] },
        },
      }),
    );
    f.ok('ts', ['schema', 'set', schema]);
    const before = f.run('ts', ['export']).stdout;

    const cases: ReadonlyArray<[args: string[], code: string, exit: number]> = [
      [['get', 'bad..key'], 'PSMC_KEY_SYNTAX', 5],
      [['set', '.leading', '1'], 'PSMC_KEY_SYNTAX', 5],
      [['set', 'a.__proto__', '1'], 'PSMC_KEY_RESERVED', 5],
      [['set', 'plant.setpoint', '6', '--expect-revision', '99'], 'PSMC_CONFLICT', 4],
      [['set', 'new.key', '1', '--expect-revision', '1'], 'PSMC_CONFLICT', 4],
      [['unset', 'plant.mode', '--expect-revision', '7'], 'PSMC_CONFLICT', 4],
      [['set', 'plant.setpoint', '500'], 'PSMC_SCHEMA_VIOLATION', 5],
      [['set', 'plant.setpoint', '2.5'], 'PSMC_SCHEMA_VIOLATION', 5],
      [['set', 'plant.setpoint', 'hot'], 'PSMC_SCHEMA_VIOLATION', 5],
      [['set', 'plant.mode', 'turbo'], 'PSMC_SCHEMA_VIOLATION', 5],
      [['set', 'v', '1.5e300'], 'PSMC_VALUE_INVALID', 5],
      [['set', 'v', '9007199254740993'], 'PSMC_VALUE_INVALID', 5],
      [['get', 'missing.key'], 'PSMC_NOT_FOUND', 3],
      [['set', 'k'], 'PSMC_USAGE', 2],
      [['set', 'k', '1', '--expect-revision', 'abc'], 'PSMC_USAGE', 2],
      [['set', 'k', '1', '--bogus'], 'PSMC_USAGE', 2],
      [['frobnicate'], 'PSMC_USAGE', 2],
    ];
    for (const [args, code, exit] of cases) {
      const outs = LANGS.map((lang) => f.run(lang, args));
      const label = args.join(' ');
      for (const o of outs) {
        assert.equal(o.status, exit, `${o.command} exits ${exit}\n${o.stderr}`);
        assert.equal((JSON.parse(o.stdout) as ErrorOut).error.code, code, `${o.command}: ${code}`);
        assert.match(o.stderr, /^psmc: .+\n(?: {2}.+\n)* {2}hint: /m, `${o.command}: message and hint on stderr`);
      }
      for (const [i, lang] of (['python', 'rust'] as const).entries()) {
        const o = outs[i + 1]!;
        const known = KNOWN_MESSAGE_DIFFERENCES[`${lang} ${label}`];
        if (known === undefined) {
          assert.equal(o.stdout, outs[0]!.stdout, `${lang} ${label} --json: the same error document as psmc`);
          assert.equal(o.stderr, outs[0]!.stderr, `${lang} ${label}: the same stderr as psmc`);
          continue;
        }
        // A listed difference: everything but the message must still agree, and the listing must
        // go when the difference does.
        const mine = (JSON.parse(o.stdout) as ErrorOut).error;
        const ref = (JSON.parse(outs[0]!.stdout) as ErrorOut).error;
        assert.deepEqual({ ...mine, message: '' }, { ...ref, message: '' }, `${lang} ${label}: code, hint, details`);
        assert.notEqual(
          mine.message,
          ref.message,
          `${lang} ${label} now matches psmc: remove it from KNOWN_MESSAGE_DIFFERENCES`,
        );
      }
    }
    assert.equal(f.run('ts', ['export']).stdout, before, 'no bad input changed the store');
  },
);

/**
 * The TypeScript runner of the conformance vectors. The format is defined in
 * spec/vectors/README.md; this file follows it to the letter, so a Python or
 * Rust runner can be checked against it.
 *
 * - Every `spec/vectors/**\/*.json` file is loaded; each case is one test,
 *   named `<id> <description>`.
 * - Pure cases call the core functions directly; stateful cases open real
 *   SQLite stores in a fresh temporary directory through the public API, with
 *   the wall clock fixed per step.
 * - `spec/expected-failures/ts.txt` lists cases known to fail, one
 *   `<id> <reason>` per line. A listed case that passes fails the run, and so
 *   does a listed id that no vector has.
 */
import { runSnapshotOp } from '../snapshot/vector-ops.js';
import { mergeMirror } from '../../src/core/merge.js';
import { codecFor, type MirrorFormat } from '../../src/mirror/codecs/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  openStore,
  isPsmcError,
  ERROR_CODES,
  type Store,
  type OpenOptions,
  type Commit,
  type ChangeRequest,
} from '../../src/index.js';
import { assertKey } from '../../src/core/keys.js';
import { assertValue, decodeValue, encodeValue, typeOf, valuesEqual, type JsonValue } from '../../src/core/value.js';
import { compareHlc, formatHlc, nextHlc, parseHlc } from '../../src/core/clock.js';
import { compileSchema, parseSchemaDocument, type KeySchema, type SchemaDocument } from '../../src/core/schema.js';
import { coerceEnv, envName, envVariableFor } from '../../src/core/env.js';

// dist/test/spec/ → the repository root is three levels up.
const ROOT = new URL('../../../', import.meta.url);
const VECTORS = new URL('spec/vectors/', ROOT);
const EXPECTED_FAILURES = new URL('spec/expected-failures/ts.txt', ROOT);

/** The wall clock a stateful case starts with: 2026-01-01T00:00:00.000Z. */
const START_CLOCK = 1767225600000;

type Obj = Record<string, unknown>;

interface Outcome {
  ok?: unknown;
  okJson?: string;
  okText?: string;
  error?: string;
  /** With `error`: members the error's details must hold (README "Outcomes"). */
  details?: Obj;
  absent?: true;
  commit?: { revision: number; changes: number; at?: string };
}

interface Step extends Obj {
  op: string;
  store?: 'user' | 'project';
  clock?: number;
  expect: Outcome;
}

interface Setup {
  env?: Record<string, string>;
  envPrefix?: string | false;
  overrides?: Obj;
  defaults?: Obj;
  schema?: SchemaDocument;
  project?: boolean;
  source?: string;
  durability?: 'full' | 'normal';
  database?: { store?: 'user' | 'project'; sql?: string; text?: string };
}

interface Case {
  id: string;
  spec: string;
  since: string;
  until?: string;
  description: string;
  op?: string;
  input?: Obj;
  expect?: Outcome;
  setup?: Setup;
  steps?: Step[];
}

/** What an operation produced: a value, or "absent". */
type Result = { absent: true } | { absent: false; value: unknown };

const value = (v: unknown): Result => ({ absent: false, value: v });
const ABSENT: Result = { absent: true };

// ---------------------------------------------------------------------------
// Loading

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listJson(p));
    else if (e.name.endsWith('.json') && e.name !== 'vector.schema.json') out.push(p);
  }
  return out.sort();
}

/** Replaces every `{"$text": [part…]}` by the concatenated text (README: "Generated text"). */
function expand(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expand);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Obj;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$text') {
    const parts = o['$text'];
    assert.ok(Array.isArray(parts), '$text must hold an array');
    return parts
      .map((p: unknown) => {
        if (typeof p === 'string') return p;
        const r = p as { repeat: string; count: number };
        assert.ok(typeof r.repeat === 'string' && Number.isSafeInteger(r.count) && r.count >= 0, 'bad $text part');
        return r.repeat.repeat(r.count);
      })
      .join('');
  }
  const out: Obj = {};
  for (const k of keys)
    Object.defineProperty(out, k, { value: expand(o[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

function semver(v: string): number[] {
  return v.split('.').map(Number);
}

function compareSemver(a: string, b: string): number {
  const x = semver(a);
  const y = semver(b);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

function specVersion(): string {
  const text = readFileSync(fileURLToPath(new URL('spec/SPEC.md', ROOT)), 'utf8');
  const m = /\*\*Spec version (\d+\.\d+\.\d+)\*\*/.exec(text);
  assert.ok(m?.[1] !== undefined, 'spec/SPEC.md must state "**Spec version X.Y.Z**"');
  return m[1];
}

function loadExpectedFailures(): Map<string, string> {
  const out = new Map<string, string>();
  const path = fileURLToPath(EXPECTED_FAILURES);
  if (!existsSync(path)) return out;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(\S.*)$/.exec(line);
    assert.ok(m !== null, `spec/expected-failures/ts.txt: "${line}" must be "<id> <reason>"`);
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison (README: "Comparing outcomes")

/** Equality of JSON data: numbers by value, booleans never equal numbers; `ordered`: object member order counts. */
function jsonEqual(a: unknown, b: unknown, ordered: boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i], ordered));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  if (ordered && ka.some((k, i) => kb[i] !== k)) return false;
  return ka.every((k) => Object.hasOwn(b, k) && matchMember(k, (a as Obj)[k], (b as Obj)[k]));
}

/** Inside `ok` results, a member whose name ends in `Json` holds JSON text: compared as ordered JSON. */
function matchMember(name: string, actual: unknown, expected: unknown): boolean {
  if (name.endsWith('Json') && typeof actual === 'string' && typeof expected === 'string') {
    return jsonEqual(JSON.parse(actual), JSON.parse(expected), true);
  }
  return jsonEqual(actual, expected, false);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function check(outcome: Outcome, run: () => Result | Commit, what: string): void {
  let result: Result | Commit;
  try {
    result = run();
  } catch (e) {
    if (outcome.error !== undefined && isPsmcError(e)) {
      assert.equal(e.code, outcome.error, `${what}: expected error ${outcome.error}, got ${e.code}: ${e.message}`);
      for (const [name, want] of Object.entries(outcome.details ?? {})) {
        const got = (e.details as Obj | undefined)?.[name];
        assert.ok(
          jsonEqual(got, want, false),
          `${what}: expected details.${name} ${show(want)}, got ${show(got)}: ${e.message}`,
        );
      }
      return;
    }
    if (isPsmcError(e)) assert.fail(`${what}: expected ${show(outcome)}, got error ${e.code}: ${e.message}`);
    throw e;
  }
  if (outcome.error !== undefined) assert.fail(`${what}: expected error ${outcome.error}, got ${show(result)}`);
  if (outcome.commit !== undefined) {
    assert.ok('changes' in result, `${what}: expected a commit, got ${show(result)}`);
    const got = { revision: result.revision, changes: result.changes.length, at: result.at };
    const want = outcome.commit;
    assert.ok(
      got.revision === want.revision && got.changes === want.changes && (want.at === undefined || want.at === got.at),
      `${what}: expected commit ${show(want)}, got ${show(got)}`,
    );
    return;
  }
  assert.ok(!('changes' in result), `${what}: a write's expectation must be "commit" or "error"`);
  if (outcome.absent === true) {
    assert.ok(result.absent, `${what}: expected absent, got ${result.absent ? 'absent' : show(result.value)}`);
    return;
  }
  assert.ok(!result.absent, `${what}: expected ${show(outcome)}, got absent`);
  const got = result.value;
  if (outcome.okText !== undefined) {
    assert.ok(got === outcome.okText, `${what}: expected text ${show(outcome.okText)}, got ${show(got)}`);
  } else if (outcome.okJson !== undefined) {
    assert.ok(
      jsonEqual(got, JSON.parse(outcome.okJson), true),
      `${what}: expected ${outcome.okJson}, got ${show(got)}`,
    );
  } else if ('ok' in outcome) {
    assert.ok(jsonEqual(got, outcome.ok, false), `${what}: expected ${show(outcome.ok)}, got ${show(got)}`);
  } else {
    assert.fail(`${what}: the expectation ${show(outcome)} has no outcome`);
  }
}

// ---------------------------------------------------------------------------
// Pure operations

function str(o: Obj, k: string): string {
  const v = o[k];
  assert.equal(typeof v, 'string', `input.${k} must be a string`);
  return v as string;
}

function parseJsonText(text: string): unknown {
  return JSON.parse(text) as unknown;
}

function runPure(op: string, i: Obj): Result {
  switch (op) {
    case 'key.validate':
      assertKey(str(i, 'key'));
      return value(true);
    case 'value.encode':
      // decodeValue: JSON.parse (PSMC_PARSE on bad text) and the value rules; encodeValue: the stored text.
      return value(encodeValue(decodeValue(str(i, 'valueJson'))));
    case 'value.type':
      return value(typeOf(assertValue(parseJsonText(str(i, 'valueJson')))));
    case 'value.equal':
      return value(
        valuesEqual(assertValue(parseJsonText(str(i, 'aJson'))), assertValue(parseJsonText(str(i, 'bJson')))),
      );
    case 'clock.parse':
      return value(parseHlc(str(i, 'text')));
    case 'clock.format':
      return value(formatHlc({ ms: i['ms'] as number, counter: i['counter'] as number }));
    case 'clock.next':
      return value(formatHlc(nextHlc(parseHlc(str(i, 'lastText')), i['wallMs'] as number)));
    case 'clock.compare':
      return value(Math.sign(compareHlc(parseHlc(str(i, 'a')), parseHlc(str(i, 'b')))));
    case 'error.info': {
      const info = (ERROR_CODES as Record<string, { exit: number; http: number } | undefined>)[str(i, 'code')];
      return info === undefined ? ABSENT : value({ exit: info.exit, http: info.http });
    }
    case 'schema.parse':
      parseSchemaDocument(i['schema']);
      return value(true);
    case 'schema.validate':
      compileSchema(i['schema']).validate(str(i, 'key'), JSON.parse(str(i, 'valueJson')) as JsonValue);
      return value(true);
    case 'env.coerce': {
      const ks =
        i['keySchema'] === null || i['keySchema'] === undefined
          ? undefined
          : (parseSchemaDocument({ keys: { k: i['keySchema'] } }).keys['k'] as KeySchema);
      return value(coerceEnv(str(i, 'raw'), ks, str(i, 'variable'), str(i, 'key')));
    }
    case 'env.name':
      return value(envName(str(i, 'prefix'), str(i, 'key')));
    case 'env.variable':
      return value(envVariableFor(str(i, 'prefix'), str(i, 'key')) ?? null);
    case 'mirror.render': {
      const entries = (i['entries'] as Array<[string, string]>).map(
        ([k, v]) => [k, JSON.parse(v) as JsonValue] as const,
      );
      return value(codecFor(str(i, 'format') as MirrorFormat).render(entries));
    }
    case 'mirror.parse': {
      const p = codecFor(str(i, 'format') as MirrorFormat).parse(str(i, 'text'));
      const entries = [...p.values].map(([k, v]) => [k, JSON.stringify(v)]);
      return value(p.header === undefined ? { entries } : { entries, version: p.header.version });
    }
    case 'mirror.update': {
      const changes = (i['changes'] as Array<[string, string | null]>).map(([key, v]) => ({
        key,
        value: v === null ? undefined : (JSON.parse(v) as JsonValue),
      }));
      return value(codecFor(str(i, 'format') as MirrorFormat).update(str(i, 'text'), changes));
    }
    case 'mirror.merge': {
      const base = i['base'] as Record<string, string | null>;
      const theirs = i['theirs'] as Record<string, string>;
      const ours = i['ours'] as Record<string, { valueJson: string | null; timeMs: number; source: string }>;
      const own = (o: object, k: string): boolean => Object.hasOwn(o, k);
      const r = mergeMirror({
        keys: [...Object.keys(base), ...Object.keys(theirs), ...Object.keys(ours)],
        theirs: new Map(Object.entries(theirs)),
        base: (k) => (own(base, k) ? (base[k] ?? null) : null),
        ours: (k) => {
          const o = own(ours, k) ? ours[k] : undefined;
          return o === undefined
            ? { text: null, timeMs: 0, source: 'file' }
            : { text: o.valueJson, timeMs: o.timeMs, source: o.source };
        },
        fileTimeMs: i['fileTimeMs'] as number,
      });
      return value({
        apply: r.apply.map((a) => [a.key, a.text]),
        conflicts: r.conflicts.map((c) => ({
          key: c.key,
          winner: c.winner,
          lostJson: c.lost,
          wonJson: c.won,
          loserSource: c.loserSource,
        })),
      });
    }
    case 'snapshot.name':
    case 'snapshot.render':
    case 'snapshot.parse':
    case 'snapshot.diff':
      return value(runSnapshotOp(op, i));
    default:
      throw new Error(`unknown pure op ${JSON.stringify(op)}`);
  }
}

// ---------------------------------------------------------------------------
// Stateful cases

/** One case's stores: `<root>/user` (the user store) and, with `project`, `<root>/proj/.psmc`. */
class Scenario {
  readonly root = mkdtempSync(join(tmpdir(), 'psmc-vector-'));
  readonly userDir = join(this.root, 'user');
  readonly projectRoot = join(this.root, 'proj');
  readonly projectDir = join(this.projectRoot, '.psmc');
  readonly setup: Setup;
  now = START_CLOCK;
  #main: Store | undefined;
  #userOnly: Store | undefined;

  constructor(setup: Setup) {
    this.setup = setup;
    if (setup.project === true) {
      mkdirSync(this.projectDir, { recursive: true });
      mkdirSync(join(this.projectRoot, 'sub'), { recursive: true });
    }
    if (setup.database !== undefined) {
      const dir = setup.database.store === 'user' || setup.project !== true ? this.userDir : this.projectDir;
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'psmc.db');
      if (setup.database.text !== undefined) writeFileSync(file, setup.database.text);
      else {
        const db = new Database(file);
        db.exec(setup.database.sql ?? '');
        db.close();
      }
    }
  }

  #common(): OpenOptions {
    const s = this.setup;
    const o: OpenOptions = { clock: () => this.now, freshnessMs: 0 };
    if (s.envPrefix !== undefined) o.envPrefix = s.envPrefix;
    if (s.overrides !== undefined) o.overrides = s.overrides;
    if (s.defaults !== undefined) o.defaults = s.defaults;
    if (s.source !== undefined) o.source = s.source;
    if (s.durability !== undefined) o.durability = s.durability;
    return o;
  }

  /** The handle every step uses unless it says `"store": "user"` in a project case. */
  main(): Store {
    if (this.#main === undefined) {
      const env: Record<string, string> = { ...(this.setup.env ?? {}) };
      if (this.setup.project === true) {
        assert.ok(
          this.setup.envPrefix !== false,
          'a project case needs an env prefix (the runner names the user store with <PREFIX>_HOME)',
        );
        env[`${this.setup.envPrefix ?? 'PSMC'}_HOME`] = this.userDir;
        this.#main = openStore({ ...this.#common(), env, project: true, cwd: join(this.projectRoot, 'sub') });
      } else {
        this.#main = openStore({ ...this.#common(), env, dir: this.userDir });
      }
    }
    return this.#main;
  }

  /** In a project case, a second handle on the user store alone. */
  userOnly(): Store {
    const o: OpenOptions = { clock: () => this.now, freshnessMs: 0, dir: this.userDir, envPrefix: false };
    if (this.setup.source !== undefined) o.source = this.setup.source;
    this.#userOnly ??= openStore(o);
    return this.#userOnly;
  }

  handle(step: Step): Store {
    if (step.store === 'user' && this.setup.project === true) return this.userOnly();
    return this.main();
  }

  /** The database file a dump/sql/dbInfo step reads: the write store unless the step names one. */
  database(step: Step): string {
    const project = this.setup.project === true && step.store !== 'user';
    return join(project ? this.projectDir : this.userDir, 'psmc.db');
  }

  close(): void {
    this.#main?.close();
    this.#userOnly?.close();
    this.#main = undefined;
    this.#userOnly = undefined;
  }

  dispose(): void {
    this.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A value argument: `valueJson` (JSON text) or `value` (plain JSON). */
function valueArg(o: Obj): unknown {
  if (typeof o['valueJson'] === 'string') return JSON.parse(o['valueJson']) as unknown;
  assert.ok(Object.hasOwn(o, 'value'), 'a set needs "value" or "valueJson"');
  return o['value'];
}

function defaultArg(o: Obj): { default?: unknown } {
  return typeof o['defaultJson'] === 'string' ? { default: JSON.parse(o['defaultJson']) as unknown } : {};
}

function jsonText(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

function sourceOpt(o: Obj): { source?: string } {
  return typeof o['source'] === 'string' ? { source: o['source'] } : {};
}

function dump(file: string): Result {
  if (!existsSync(file)) return ABSENT;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const state = db.prepare('SELECT revision, clock FROM state WHERE id = 1').get() as Obj;
    const entries = db
      .prepare('SELECT key, value, type, revision, updated_at AS updatedAt, source FROM entries ORDER BY key')
      .all();
    const history = db
      .prepare(
        'SELECT revision, seq, key, op, old_value AS oldValue, new_value AS newValue, source, at, note FROM history ORDER BY revision, seq',
      )
      .all();
    const schema = (db.prepare('SELECT doc, revision FROM schema_doc WHERE id = 1').get() as Obj | undefined) ?? null;
    return value({ state: { revision: state['revision'], clock: state['clock'] }, entries, history, schema });
  } finally {
    db.close();
  }
}

function dbInfo(file: string): Result {
  if (!existsSync(file)) return ABSENT;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const names = (type: string): string[] =>
      db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = ? AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .pluck()
        .all(type) as string[];
    return value({
      applicationId: db.pragma('application_id', { simple: true }),
      userVersion: db.pragma('user_version', { simple: true }),
      journalMode: String(db.pragma('journal_mode', { simple: true })).toLowerCase(),
      tables: names('table'),
      indexes: names('index'),
    });
  } finally {
    db.close();
  }
}

function historyRecord(r: {
  revision: number;
  seq: number;
  key: string;
  op: string;
  oldValue: unknown;
  newValue: unknown;
  source: string;
  at: string;
  note: string | undefined;
}): Obj {
  const out: Obj = {
    revision: r.revision,
    seq: r.seq,
    key: r.key,
    op: r.op,
    oldJson: jsonText(r.oldValue),
    newJson: jsonText(r.newValue),
    source: r.source,
    at: r.at,
  };
  if (r.note !== undefined) out['note'] = r.note;
  return out;
}

function runStep(sc: Scenario, s: Step): Result | Commit {
  switch (s.op) {
    case 'set': {
      const opts = {
        ...sourceOpt(s),
        ...(s['expectRevision'] === undefined ? {} : { expectRevision: s['expectRevision'] as number }),
      };
      return sc.handle(s).set(s['key'] as string, valueArg(s), opts);
    }
    case 'delete': {
      const opts = {
        ...sourceOpt(s),
        ...(s['expectRevision'] === undefined ? {} : { expectRevision: s['expectRevision'] as number }),
      };
      return sc.handle(s).delete(s['key'] as string, opts);
    }
    case 'batch': {
      const changes = (s['changes'] as Obj[]).map((c): ChangeRequest => {
        const base = c['expectRevision'] === undefined ? {} : { expectRevision: c['expectRevision'] as number };
        if (c['op'] === 'delete') return { op: 'delete', key: c['key'] as string, ...base };
        assert.equal(c['op'], 'set', 'a batch change is "set" or "delete"');
        return { op: 'set', key: c['key'] as string, value: valueArg(c), ...base };
      });
      return sc.handle(s).batch(changes, sourceOpt(s));
    }
    case 'get': {
      const v = sc.handle(s).get(s['key'] as string, defaultArg(s));
      return v === undefined ? ABSENT : value(v);
    }
    case 'resolve': {
      const r = sc.handle(s).resolve(s['key'] as string, defaultArg(s));
      return value({
        layer: r.layer ?? null,
        revision: r.revision,
        source: r.source ?? null,
        updatedAt: r.updatedAt ?? null,
        valueJson: jsonText(r.value),
      });
    }
    case 'explain': {
      const e = sc.handle(s).explain(s['key'] as string, defaultArg(s));
      const present: Obj = {};
      const errors: Obj = {};
      for (const l of e.layers) {
        present[l.layer] = l.present;
        if (l.error !== undefined) errors[l.layer] = l.error.code;
      }
      const out: Obj = { layer: e.layer ?? null, valueJson: jsonText(e.value), present };
      if (Object.keys(errors).length > 0) out['errors'] = errors;
      return value(out);
    }
    case 'list':
      return value(
        sc
          .handle(s)
          .list(s['prefix'] as string | undefined)
          .map((r) => ({ key: r.key, layer: r.layer ?? null, valueJson: jsonText(r.value) })),
      );
    case 'history': {
      const opts = {
        ...(s['prefix'] === undefined ? {} : { prefix: s['prefix'] as boolean }),
        ...(s['limit'] === undefined ? {} : { limit: s['limit'] as number }),
        ...(s['sinceRevision'] === undefined ? {} : { sinceRevision: s['sinceRevision'] as number }),
        ...(s['untilRevision'] === undefined ? {} : { untilRevision: s['untilRevision'] as number }),
      };
      return value(
        sc
          .handle(s)
          .history(s['key'] as string | undefined, opts)
          .map(historyRecord),
      );
    }
    case 'undo': {
      const opts = {
        ...sourceOpt(s),
        ...(s['revision'] === undefined ? {} : { revision: s['revision'] as number }),
        ...(s['force'] === undefined ? {} : { force: s['force'] as boolean }),
      };
      return sc.handle(s).undo(opts);
    }
    case 'setSchema':
      return sc.handle(s).setSchema(s['schema'] === null ? undefined : (s['schema'] as SchemaDocument), sourceOpt(s));
    case 'revision':
      return value(sc.handle(s).revision());
    case 'export':
      return value(JSON.parse(JSON.stringify(sc.handle(s).exportData())));
    case 'import': {
      const doc = typeof s['docJson'] === 'string' ? (JSON.parse(s['docJson']) as unknown) : s['doc'];
      const opts = {
        ...sourceOpt(s),
        ...(s['replace'] === undefined ? {} : { replace: s['replace'] as boolean }),
        ...(s['file'] === undefined ? {} : { file: s['file'] as string }),
      };
      return sc.handle(s).importData(doc, opts);
    }
    case 'open':
      sc.close();
      sc.handle(s);
      return value(true);
    case 'close':
      sc.close();
      return value(true);
    case 'dump':
      return dump(sc.database(s));
    case 'dbInfo':
      return dbInfo(sc.database(s));
    case 'sql': {
      const db = new Database(sc.database(s), { fileMustExist: true });
      try {
        db.exec(s['sql'] as string);
      } finally {
        db.close();
      }
      return value(true);
    }
    case 'exists':
      return value(existsSync(join(sc.root, ...(s['path'] as string).split('/'))));
    default:
      throw new Error(`unknown step op ${JSON.stringify(s.op)}`);
  }
}

function runStateful(c: Case): void {
  const sc = new Scenario(c.setup ?? {});
  try {
    if (c.setup?.schema !== undefined) sc.main().setSchema(c.setup.schema);
    (c.steps ?? []).forEach((s, n) => {
      if (s.clock !== undefined) sc.now = s.clock;
      check(s.expect, () => runStep(sc, s), `step ${n + 1} (${s.op})`);
    });
  } finally {
    sc.dispose();
  }
}

function runCase(c: Case): void {
  if (c.steps !== undefined) runStateful(c);
  else {
    assert.ok(
      c.op !== undefined && c.input !== undefined && c.expect !== undefined,
      'a pure case needs op, input and expect',
    );
    const op = c.op;
    const input = c.input;
    check(c.expect, () => runPure(op, input), c.op);
  }
}

// ---------------------------------------------------------------------------
// Registration

const version = specVersion();
const expectedFailures = loadExpectedFailures();
const seen = new Set<string>();

for (const file of listJson(fileURLToPath(VECTORS))) {
  const doc = expand(JSON.parse(readFileSync(file, 'utf8'))) as { topic: string; cases: Case[] };
  for (const c of doc.cases) {
    seen.add(c.id);
    const skip = compareSemver(c.since, version) > 0 || (c.until !== undefined && compareSemver(c.until, version) <= 0);
    const reason = expectedFailures.get(c.id);
    test(`${c.id} ${c.description}`, { skip: skip ? `not in spec ${version}` : false }, (t) => {
      if (reason === undefined) {
        runCase(c);
        return;
      }
      let failure: unknown;
      try {
        runCase(c);
      } catch (e) {
        failure = e;
      }
      if (failure === undefined)
        assert.fail(
          `${c.id} is listed in spec/expected-failures/ts.txt (${reason}) but passes: remove it from the list`,
        );
      t.diagnostic(`expected failure (${reason}): ${failure instanceof Error ? failure.message : String(failure)}`);
    });
  }
}

test('spec/expected-failures/ts.txt lists only known vector ids', () => {
  const unknown = [...expectedFailures.keys()].filter((id) => !seen.has(id));
  assert.deepEqual(unknown, [], `unknown ids in spec/expected-failures/ts.txt: ${unknown.join(', ')}`);
});

/**
 * Fuzz of invalid hand edits (spec/sections/mirror-sync.md §mirror.invalid):
 * random byte-level mutations of a valid mirror file that make it invalid —
 * it does not parse (mirror-format.md §mirror.parse), a value breaks the
 * store's schema, or the bytes are not UTF-8 — are never applied: the store
 * is unchanged (exportData() entries with their metadata, and the revision),
 * the file is kept byte for byte, and the error is reported. Restoring the
 * exported bytes then clears the error.
 *
 * Per format, a template store (in the test's temp dir) is built once; each
 * run works on a fresh copy of it: write the mutated file, sync, check, write
 * to the store, check the file again, restore the good file.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import path from 'node:path';
import { openStore } from '../../src/index.js';
import { codecFor, type MirrorFormat } from '../../src/mirror/codecs/index.js';
import { compileSchema, parseSchemaDocument, type SchemaDocument } from '../../src/core/schema.js';
import { backdate, mirrorPath, readText, tmpDir } from './fixtures/engine-helpers.js';

const SCHEMA: SchemaDocument = {
  keys: {
    'limits.max': { type: 'integer', minimum: 0, maximum: 100 },
    'display.units': { type: 'string', enum: ['metric', 'imperial'] },
  },
};
const compiled = compileSchema(parseSchemaDocument(SCHEMA));

const VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['display.units', 'metric'],
  ['limits.max', 50],
  ['plant.name', 'north "line" \\ 1\n2'],
  ['plant.speeds', [1.5, 2, -3e-7]],
  ['plant.window', { width: 800, height: 600, title: 'é😀', empty: {}, none: null }],
  ['flags.on', true],
  ['nothing', null],
];

const SPECIALS = [
  '"',
  ',',
  '}',
  '{',
  ']',
  '[',
  ':',
  '\\',
  '\u0000',
  '/*',
  '//',
  '#',
  '=',
  '- ',
  '\n',
  '\t',
  '&a',
  '*a',
  '!!str',
  '__proto__',
  '1e400',
  '9007199254740993',
];

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
      fc.constantFrom(...SPECIALS).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 24 }) }),
);

function mutate(input: Buffer, ms: readonly Mutation[]): Buffer {
  let b = input;
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    switch (m.kind) {
      case 'set':
        if (b.length === 0) break;
        b = Buffer.from(b);
        b[at % b.length] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at, at + m.len), b.subarray(at + m.len)]);
        break;
    }
  }
  return b;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(b: Buffer): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Why the file is invalid, or undefined when it is a valid edit. */
function invalidity(format: MirrorFormat, bytes: Buffer): string | undefined {
  if (!isUtf8(bytes)) return 'not UTF-8';
  const text = bytes.toString('utf8');
  // Empty files are an editor mid-save (engine-editors.test.ts), not an invalid edit.
  if (text.trim() === '') return undefined;
  let values;
  try {
    values = codecFor(format).parse(text).values;
  } catch (e) {
    return `parse: ${(e as Error).message}`;
  }
  for (const [k, v] of values) {
    try {
      compiled.validate(k, v);
    } catch (e) {
      return `schema: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** A hand-commented mirror file of the store, already imported. */
function handFile(format: MirrorFormat, canonical: string): string {
  const mark = format === 'json' ? '//' : '#';
  const lines = canonical.split('\n');
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (i === 2) out.push(`${mark} a comment by hand`);
    out.push(line);
  }
  return out.join('\n');
}

interface Fixture {
  /** A closed store directory holding the valid, hand-commented file, in sync. */
  template: string;
  format: MirrorFormat;
  good: Buffer;
  entries: string;
  revision: number;
  runs: number;
}

async function fixture(t: TestContext, format: MirrorFormat): Promise<Fixture> {
  const root = tmpDir(t);
  const template = path.join(root, 'template');
  const store = openStore({ dir: template, env: {} });
  try {
    if (format !== 'json') store.setMirrorFormat(format);
    store.setSchema(SCHEMA);
    store.batch(VALUES.map(([key, value]) => ({ op: 'set' as const, key, value })));
    store.syncMirror();
    const file = mirrorPath(template, format);
    const text = handFile(format, readText(file) ?? '');
    fs.writeFileSync(file, text);
    backdate(file, 60_000);
    assert.equal(store.syncMirror().error, undefined);
    assert.equal(store.status().mirror?.state, 'in-sync');
    const good = fs.readFileSync(file);
    return { template, format, good, entries: JSON.stringify(store.exportData()), revision: store.revision(), runs: 0 };
  } finally {
    store.close();
  }
}

/**
 * One run on a fresh copy of the template (so a failing run cannot spoil
 * the next ones, and shrinking reports the right counterexample).
 */
function checkOne(f: Fixture, bad: Buffer, why: string): void {
  const dir = `${f.template}-run${++f.runs}`;
  fs.cpSync(f.template, dir, { recursive: true, preserveTimestamps: true });
  const store = openStore({ dir, env: {} });
  try {
    const file = mirrorPath(dir, f.format);
    fs.writeFileSync(file, bad);
    backdate(file, 30_000);
    const r = store.syncMirror();
    const where = `${why}\n--- file ---\n${bad.toString('utf8')}`;
    assert.equal(JSON.stringify(store.exportData()), f.entries, `the store is unchanged: ${where}`);
    assert.equal(store.revision(), f.revision, `no revision taken: ${where}`);
    assert.ok(r.error !== undefined, `the edit is reported: ${where}`);
    assert.equal(store.status().mirror?.state, 'invalid-edit');
    // A write goes on from the database and does not touch the file.
    store.set('after.edit', 1);
    store.syncMirror();
    assert.deepEqual(fs.readFileSync(file), bad, `the file is kept: ${where}`);
    // Restoring the good file clears the error (and lets the pending write out).
    fs.writeFileSync(file, f.good);
    backdate(file, 20_000);
    assert.equal(store.syncMirror().error, undefined);
    assert.notEqual(store.status().mirror?.state, 'invalid-edit');
    assert.equal(store.status().conflicts, 0);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const format of ['json', 'toml', 'yaml'] as const) {
  describe(`fuzzed invalid edits (${format})`, () => {
    it('a UTF-8 file that does not parse or breaks the schema: never applied, kept, reported', async (t) => {
      const f = await fixture(t, format);
      let checked = 0;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
          const bad = mutate(f.good, ms);
          if (!isUtf8(bad)) return fc.pre(false);
          const why = invalidity(format, bad);
          if (why === undefined) return fc.pre(false);
          checked++;
          checkOne(f, bad, why);
          return true;
        }),
        { numRuns: 250, maxSkipsPerRun: 20, includeErrorInReport: true },
      );
      assert.ok(checked >= 100, `enough invalid mutations were tried (${checked})`);
    });

    it('bytes that are not UTF-8: never applied, kept, reported', async (t) => {
      const f = await fixture(t, format);
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
          const bad = mutate(f.good, ms);
          if (isUtf8(bad) || bad.toString('utf8').trim() === '') return fc.pre(false);
          checkOne(f, bad, 'not UTF-8');
          return true;
        }),
        { numRuns: 100, maxSkipsPerRun: 100, includeErrorInReport: true },
      );
    });
  });
}

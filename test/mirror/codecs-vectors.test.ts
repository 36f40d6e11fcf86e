/**
 * Runs spec/vectors/mirror/format-*.json against the mirror codecs.
 *
 * Op shapes (for the general runner):
 * - `mirror.render` {format, entries: [[key, valueJson], …]} → {okText} | {error}
 * - `mirror.parse`  {format, text} → {ok: {entries: [[key, valueJson], …] in file order, version?}} | {error}
 *   (`valueJson` is the value's encoded form, §value.encoding, compared exactly; `version` only
 *   when the file has a header)
 * - `mirror.update` {format, text, changes: [[key, valueJson | null], …]} → {okText} | {error}
 *   (null = delete the key)
 * - an `error` outcome may list `details` (`line`, `column`): those members of the error's
 *   details are compared too.
 *
 * The cases are `since` 1.1.0; this file runs them whatever SPEC.md's version line says.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPsmcError } from '../../src/core/errors.js';
import type { JsonValue } from '../../src/core/value.js';
import { codecFor, type MirrorFormat } from '../../src/mirror/codecs/index.js';

interface Case {
  id: string;
  description: string;
  op: 'mirror.render' | 'mirror.parse' | 'mirror.update';
  input: {
    format: MirrorFormat;
    entries?: Array<[string, string]>;
    text?: string;
    changes?: Array<[string, string | null]>;
  };
  expect: { okText?: string; ok?: unknown; error?: string; details?: Record<string, unknown> };
}

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'spec', 'vectors'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('spec/vectors not found above ' + import.meta.url);
    dir = up;
  }
  return dir;
}

const DIR = path.join(findRoot(), 'spec', 'vectors', 'mirror');
const parseJson = (text: string): JsonValue => JSON.parse(text) as JsonValue;

function run(c: Case): unknown {
  const codec = codecFor(c.input.format);
  try {
    switch (c.op) {
      case 'mirror.render':
        return { okText: codec.render((c.input.entries ?? []).map(([k, v]) => [k, parseJson(v)] as const)) };
      case 'mirror.parse': {
        const p = codec.parse(c.input.text ?? '');
        const entries = [...p.values].map(([k, v]) => [k, JSON.stringify(v)]);
        return { ok: p.header === undefined ? { entries } : { entries, version: p.header.version } };
      }
      case 'mirror.update':
        return {
          okText: codec.update(
            c.input.text ?? '',
            (c.input.changes ?? []).map(([key, v]) => ({ key, value: v === null ? undefined : parseJson(v) })),
          ),
        };
    }
  } catch (e) {
    if (!isPsmcError(e)) throw e;
    // `details` (spec/vectors/README.md "Outcomes"): only the members the case lists are compared.
    const want = c.expect.details;
    if (want === undefined) return { error: e.code };
    const details = Object.fromEntries(Object.keys(want).map((k) => [k, (e.details as Record<string, unknown>)[k]]));
    return { error: e.code, details };
  }
}

const files = fs
  .readdirSync(DIR)
  .filter((f) => /^format-.*\.json$/.test(f))
  .sort();

describe('mirror format vectors', () => {
  it('has the three files and at least 90 cases', () => {
    assert.deepEqual(files, ['format-json.json', 'format-toml.json', 'format-yaml.json']);
    const total = files.reduce(
      (n, f) => n + (JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { cases: Case[] }).cases.length,
      0,
    );
    assert.ok(total >= 90, `${total} cases`);
  });
  for (const file of files) {
    const doc = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as { cases: Case[] };
    describe(file, () => {
      for (const c of doc.cases) {
        it(`${c.id} ${c.description}`, () => {
          assert.deepEqual(run(c), c.expect);
        });
      }
    });
  }
});

// Runs spec/vectors/snapshot/*.json (pure ops, see test/snapshot/vector-ops.ts) against the TypeScript reference.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isPsmcError } from '../../src/core/errors.js';
import { runSnapshotOp, SNAPSHOT_OPS } from './vector-ops.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(ROOT, 'spec', 'vectors', 'snapshot');
const SPEC_VERSION =
  /\*\*Spec version (\d+\.\d+\.\d+)\*\*/.exec(readFileSync(join(ROOT, 'spec', 'SPEC.md'), 'utf8'))?.[1] ?? '0.0.0';

interface Case {
  id: string;
  spec: string;
  since: string;
  until?: string;
  description: string;
  op: string;
  input: Record<string, unknown>;
  expect: { ok?: unknown; okText?: string; error?: string };
}

function semver(v: string): number[] {
  return v.split('.').map(Number);
}
function newer(a: string, b: string): boolean {
  const x = semver(a);
  const y = semver(b);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}

/** Equal as JSON data, member order ignored; members named *Json compared as ordered JSON text. */
function jsonEqual(actual: unknown, expected: unknown, path = ''): void {
  if (expected !== null && typeof expected === 'object') {
    assert.ok(
      actual !== null && typeof actual === 'object',
      `${path}: expected an object or array, got ${JSON.stringify(actual)}`,
    );
    if (Array.isArray(expected)) {
      assert.ok(Array.isArray(actual), `${path}: expected an array`);
      assert.equal(actual.length, expected.length, `${path}: length`);
      expected.forEach((e, i) => jsonEqual((actual as unknown[])[i], e, `${path}/${i}`));
      return;
    }
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${path}: members`);
    for (const k of Object.keys(e)) {
      if (k.endsWith('Json') && typeof e[k] === 'string' && typeof a[k] === 'string') {
        assert.equal(
          JSON.stringify(JSON.parse(a[k] as string)),
          JSON.stringify(JSON.parse(e[k] as string)),
          `${path}/${k}`,
        );
      } else jsonEqual(a[k], e[k], `${path}/${k}`);
    }
    return;
  }
  assert.equal(actual, expected, path);
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const seen = new Set<string>();
let count = 0;
for (const file of files) {
  const doc = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { cases: Case[] };
  for (const c of doc.cases) {
    count++;
    test(`${c.id} ${c.description}`, (t) => {
      assert.ok(!seen.has(c.id), `duplicate id ${c.id}`);
      seen.add(c.id);
      assert.ok((SNAPSHOT_OPS as readonly string[]).includes(c.op), `unknown op ${c.op}`);
      if (newer(c.since, SPEC_VERSION) || (c.until !== undefined && !newer(c.until, SPEC_VERSION))) {
        t.skip(`applies to spec ${c.since}${c.until === undefined ? '+' : `…${c.until}`}`);
        return;
      }
      let result: unknown;
      let error: unknown;
      try {
        result = runSnapshotOp(c.op, c.input);
      } catch (e) {
        error = e;
      }
      if (c.expect.error !== undefined) {
        assert.ok(
          isPsmcError(error),
          `expected ${c.expect.error}, got ${error === undefined ? JSON.stringify(result) : String(error)}`,
        );
        assert.equal(error.code, c.expect.error);
        return;
      }
      if (error !== undefined) throw error;
      if (c.expect.okText !== undefined) assert.equal(result, c.expect.okText);
      else jsonEqual(result, c.expect.ok);
    });
  }
}

test('the snapshot vectors hold at least 40 cases, with ids snap-NNN', () => {
  assert.ok(count >= 40, `only ${count} cases`);
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { cases: Case[] };
    for (const c of doc.cases) assert.match(c.id, /^snap-\d{3,}$/);
  }
});

/**
 * Runs spec/vectors/schema/validate.json, spec/vectors/env/coerce.json and
 * spec/vectors/env/mapping.json against the core modules. Self-contained; the
 * general vector runner lives elsewhere.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isPsmcError } from '../../src/core/errors.js';
import { coerceEnv, envName, envVariableFor } from '../../src/core/env.js';
import { compileSchema, parseSchemaDocument } from '../../src/core/schema.js';
import type { KeySchema } from '../../src/core/schema.js';
import type { JsonValue } from '../../src/core/value.js';

interface Case {
  id: string;
  spec: string;
  since: string;
  description: string;
  op: string;
  input: Record<string, unknown>;
  expect: { ok?: unknown; okJson?: string; error?: string };
}

// dist/test/core/… → repository root is three levels up from dist/test/core.
const root = new URL('../../../', import.meta.url);

function load(rel: string): Case[] {
  const text = readFileSync(fileURLToPath(new URL(rel, root)), 'utf8');
  const file = JSON.parse(text) as { topic: string; cases: Case[] };
  assert.ok(Array.isArray(file.cases) && file.cases.length > 0, rel);
  return file.cases;
}

function run(c: Case): unknown {
  const i = c.input;
  switch (c.op) {
    case 'schema.parse':
      return parseSchemaDocument(i['schema']);
    case 'schema.validate':
      compileSchema(i['schema']).validate(i['key'] as string, JSON.parse(i['valueJson'] as string) as JsonValue);
      return true;
    case 'env.coerce': {
      const ks =
        i['keySchema'] === null
          ? undefined
          : (parseSchemaDocument({ keys: { k: i['keySchema'] } }).keys['k'] as KeySchema);
      return coerceEnv(i['raw'] as string, ks, i['variable'] as string, i['key'] as string);
    }
    case 'env.name':
      return envName(i['prefix'] as string, i['key'] as string);
    case 'env.variable':
      return envVariableFor(i['prefix'] as string, i['key'] as string) ?? null;
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

const files = ['spec/vectors/schema/validate.json', 'spec/vectors/env/coerce.json', 'spec/vectors/env/mapping.json'];
const seen = new Set<string>();

for (const f of files) {
  describe(f, () => {
    for (const c of load(f)) {
      it(`${c.id} ${c.spec} ${c.description}`, () => {
        assert.ok(!seen.has(c.id), `duplicate id ${c.id}`);
        seen.add(c.id);
        assert.match(c.id, /^(schema|env)-\d{3}$/);
        assert.match(c.spec, /^§(schema|env)\.[a-z]+$/);
        if (c.expect.error !== undefined) {
          assert.throws(
            () => run(c),
            (e: unknown) => isPsmcError(e) && e.code === c.expect.error,
          );
          return;
        }
        const out = run(c);
        if (c.expect.okJson !== undefined) {
          assert.ok(Object.is(out, -0) === false);
          assert.deepEqual(out, JSON.parse(c.expect.okJson));
          assert.equal(JSON.stringify(out), JSON.stringify(JSON.parse(c.expect.okJson)));
        } else if (c.op === 'schema.parse' || c.op === 'schema.validate') {
          assert.equal(c.expect.ok, true);
        } else {
          assert.equal(out, c.expect.ok);
        }
      });
    }
  });
}

/**
 * Client-side checks before a write, with the very code the store runs (src/core): the value
 * rules (§value) and the key's schema (§schema.enforce). The messages are the store's own, so
 * what the GUI says inline is what the server would answer with 422. The server still checks
 * every write; this only saves a round trip and shows the problem while typing.
 */
import { isPsmcError } from '../core/errors.js';
import { checkForKeySchema } from '../core/schema/compile.js';
import type { KeySchema } from '../core/schema/types.js';
import { violationError } from '../core/schema/violation.js';
import { assertValue } from '../core/value.js';
import type { JsonValue } from '../core/value.js';

export interface Problem {
  readonly message: string;
  readonly hint?: string | undefined;
}

/** The first problem with writing `value` to `key`, or undefined when the store would accept it. */
export function checkValue(key: string, schema: KeySchema | undefined, value: unknown): Problem | undefined {
  let v: JsonValue;
  try {
    v = assertValue(value, key);
  } catch (e) {
    if (isPsmcError(e)) return { message: e.message, hint: e.hint };
    throw e;
  }
  if (schema === undefined) return undefined;
  let violation;
  try {
    violation = checkForKeySchema(schema)(v);
  } catch (e) {
    // A schema the GUI cannot compile (the server accepted it): let the server decide.
    console.warn('psmc: cannot check the schema of', key, e);
    return undefined;
  }
  if (violation === undefined) return undefined;
  const err = violationError(key, violation);
  return { message: err.message, hint: err.hint };
}

/** What the editor for a key's schema (or, without one, its current value) should be. */
export type EditorKind = 'enum' | 'bool' | 'number' | 'integer' | 'string' | 'json';

export function editorKind(schema: KeySchema | undefined, value: JsonValue | undefined): EditorKind {
  if (schema !== undefined) {
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'enum';
    const t = schema.type;
    const single = typeof t === 'string' ? t : Array.isArray(t) && t.length === 1 ? t[0] : undefined;
    if (single === 'boolean') return 'bool';
    if (single === 'integer') return 'integer';
    if (single === 'number') return 'number';
    if (single === 'string') return 'string';
    if (single !== undefined || t !== undefined) return 'json';
  }
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'number' : 'number';
    case 'string':
      return 'string';
    default:
      return 'json';
  }
}

/** "between 100 and 10000", "at least 0" … for a number schema, or undefined. */
export function rangeText(schema: KeySchema | undefined): string | undefined {
  if (schema === undefined) return undefined;
  const lo = schema.minimum ?? schema.exclusiveMinimum;
  const hi = schema.maximum ?? schema.exclusiveMaximum;
  const loOp = schema.minimum !== undefined ? '≥' : '>';
  const hiOp = schema.maximum !== undefined ? '≤' : '<';
  const parts: string[] = [];
  if (lo !== undefined && hi !== undefined && schema.minimum !== undefined && schema.maximum !== undefined)
    parts.push(`${lo} – ${hi}`);
  else {
    if (lo !== undefined) parts.push(`${loOp} ${lo}`);
    if (hi !== undefined) parts.push(`${hiOp} ${hi}`);
  }
  if (schema.multipleOf !== undefined) parts.push(`step ${schema.multipleOf}`);
  return parts.length === 0 ? undefined : parts.join(', ');
}

/**
 * A violation: what is wrong with a value, before it becomes an error, and the
 * PSMC_SCHEMA_VIOLATION error built from it (spec/SPEC.md §schema.enforce).
 */
import { PsmcError } from '../errors.js';
import type { JsonValue } from '../value.js';
import { pointerSegment, quote } from './messages.js';

/** What is wrong with a value, before it becomes an error. */
export interface Violation {
  /** Path segments inside the value, innermost first (reversed while unwinding). */
  readonly rpath: string[];
  readonly keyword: string;
  /** E.g. `is 120, above the maximum 100` (subject: the value at the path). */
  readonly problem: string;
  /** A noun phrase for the fix, e.g. `a number of at most 100`, `one of "a", "b"`. */
  readonly expected: string;
}

/** Returns undefined when the value satisfies the schema, else the first violation. */
export type ValueCheck = (value: JsonValue) => Violation | undefined;

/** The JSON pointer of a violation inside the value ('' for the value itself). */
export function violationPath(v: Violation): string {
  let s = '';
  for (let i = v.rpath.length - 1; i >= 0; i--) s += '/' + pointerSegment(v.rpath[i] ?? '');
  return s;
}

/** The PSMC_SCHEMA_VIOLATION error for a violation of `key`'s schema. */
export function violationError(key: string, v: Violation): PsmcError {
  const path = violationPath(v);
  const subject = path === '' ? `The value of key ${quote(key)}` : `The value at ${path} of key ${quote(key)}`;
  return new PsmcError('PSMC_SCHEMA_VIOLATION', `${subject} ${v.problem}.`, {
    hint: `Use ${v.expected}.`,
    details: { key, path, keyword: v.keyword },
  });
}

/**
 * Key rules (spec/SPEC.md §key). Pure: no I/O.
 *
 * A key is one or more segments joined by `.`. A segment is runs of ASCII
 * letters and digits joined by single `_` or `-` characters:
 *
 *     segment = [A-Za-z0-9]+ ( [_-] [A-Za-z0-9]+ )*
 *     key     = segment ( "." segment )*
 *
 * so a segment never starts or ends with `_`/`-` and never holds two of them in
 * a row. That is what makes the environment mapping (`.` ↔ `__`) unambiguous.
 * A key is at most 256 characters and 32 segments long. Segments that could
 * poison an object in some language (`__proto__`, `prototype`, `constructor`
 * and the other names of `Object.prototype`) are refused with
 * PSMC_KEY_RESERVED, compared case-insensitively.
 */
import { PsmcError } from './errors.js';

export const MAX_KEY_LENGTH = 256;
export const MAX_KEY_SEGMENTS = 32;

const KEY_RE = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*(?:\.[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*)*$/;
const SEGMENT_RE = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;

/**
 * Segments refused because they name (or shadow) prototype machinery in
 * JavaScript, Python or Rust-generated bindings. Lower case; compared
 * case-insensitively.
 */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  '__proto__',
  'prototype',
  'constructor',
  'hasownproperty',
  'isprototypeof',
  'propertyisenumerable',
  'tolocalestring',
  'tostring',
  'valueof',
  '__definegetter__',
  '__definesetter__',
  '__lookupgetter__',
  '__lookupsetter__',
]);

function describe(key: string): string {
  return JSON.stringify(key.length > 80 ? key.slice(0, 80) + '…' : key);
}

/** Throws PSMC_KEY_SYNTAX or PSMC_KEY_RESERVED unless `key` is a legal key. */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new TypeError(`${what} must be a string, received ${key === null ? 'null' : typeof key}`);
  }
  if (KEY_RE.test(key) && key.length <= MAX_KEY_LENGTH) {
    // Fast path: only reserved names remain to check.
    const segments = key.split('.');
    if (segments.length <= MAX_KEY_SEGMENTS && !segments.some(isReservedSegment)) return;
  }
  throw keyError(key);
}

/** True when `key` is legal. Never throws. */
export function isValidKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH || !KEY_RE.test(key)) return false;
  const segments = key.split('.');
  return segments.length <= MAX_KEY_SEGMENTS && !segments.some(isReservedSegment);
}

export function isReservedSegment(segment: string): boolean {
  return RESERVED_SEGMENTS.has(segment.toLowerCase());
}

/** Builds the precise error for an illegal key: says which rule, where, and how to fix it. */
export function keyError(key: string): PsmcError {
  const details = { key };
  if (key.length === 0) {
    return new PsmcError('PSMC_KEY_SYNTAX', 'The key is empty.', {
      hint: 'Give a dotted name such as display.units.',
      details,
    });
  }
  const segments = key.split('.');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    if (isReservedSegment(seg)) {
      return new PsmcError(
        'PSMC_KEY_RESERVED',
        `The key ${describe(key)} uses the reserved segment ${JSON.stringify(seg)} (segment ${i + 1}).`,
        {
          hint: 'Segments that name object machinery (__proto__, prototype, constructor, toString …) are refused in every language; rename the segment.',
          details: { ...details, segment: seg },
        },
      );
    }
  }
  if (key.length > MAX_KEY_LENGTH) {
    return new PsmcError(
      'PSMC_KEY_SYNTAX',
      `The key ${describe(key)} is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}.`,
      { hint: 'Use a shorter key; put long data in the value instead.', details },
    );
  }
  if (segments.length > MAX_KEY_SEGMENTS) {
    return new PsmcError(
      'PSMC_KEY_SYNTAX',
      `The key ${describe(key)} has ${segments.length} segments; the limit is ${MAX_KEY_SEGMENTS}.`,
      { hint: 'Flatten the key; nest data inside the value instead.', details },
    );
  }
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    if (SEGMENT_RE.test(seg)) continue;
    let why: string;
    let pos = key.split('.').slice(0, i).join('.').length + (i > 0 ? 1 : 0);
    if (seg.length === 0) {
      why = i === 0 ? 'starts with "."' : i === segments.length - 1 ? 'ends with "."' : 'has an empty segment ("..")';
    } else {
      const bad = /[^A-Za-z0-9_-]/u.exec(seg);
      if (bad) {
        pos += bad.index;
        const cp = bad[0].codePointAt(0) ?? 0;
        why = `has the character ${JSON.stringify(bad[0])} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at position ${pos + 1}`;
      } else if (/^[_-]/.test(seg)) {
        why = `has segment ${JSON.stringify(seg)} that starts with "${seg[0]}"`;
      } else if (/[_-]$/.test(seg)) {
        why = `has segment ${JSON.stringify(seg)} that ends with "${seg[seg.length - 1]}"`;
      } else {
        why = `has segment ${JSON.stringify(seg)} with two "_"/"-" in a row`;
      }
    }
    return new PsmcError('PSMC_KEY_SYNTAX', `The key ${describe(key)} ${why}.`, {
      hint: 'Keys are dot-separated segments of ASCII letters and digits, joined inside a segment by single "_" or "-" (e.g. display.units, sensor-1.max_temp).',
      details: { ...details, position: pos + 1 },
    });
  }
  /* c8 ignore next 3 -- unreachable: the regex and the per-segment checks agree */
  return new PsmcError('PSMC_KEY_SYNTAX', `The key ${describe(key)} is not a legal key.`, {
    hint: 'Keys are dot-separated segments of ASCII letters and digits.',
    details,
  });
}

/** True when `key` equals `prefix` or lies under it (`a.b` is under `a`, `ab` is not). */
export function keyHasPrefix(key: string, prefix: string): boolean {
  if (prefix === '') return true;
  return key === prefix || (key.startsWith(prefix) && key.charCodeAt(prefix.length) === 46); /* . */
}

/**
 * Validates a prefix given to list/history/watch: either empty (everything) or
 * a legal key, optionally followed by a trailing ".".
 */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const p = prefix.endsWith('.') ? prefix.slice(0, -1) : prefix;
  assertKey(p, 'prefix');
  return p;
}

/**
 * Key names in a schema document's `keys` (spec/SPEC.md §schema.keys): an exact legal key, or a
 * pattern in which one or more whole segments are `*` (a `*` matches exactly one segment), and
 * the precedence among patterns when several match a key:
 *   1. an exact key beats every pattern;
 *   2. among patterns, the one with fewer `*` segments wins;
 *   3. then the one whose `*` positions, compared left to right, come later
 *      (so `sensors.a.*` beats `sensors.*.max`, and `*.x.*` beats `*.*.y`).
 * Two distinct patterns of the same length can never tie after rule 3.
 */
import { isReservedSegment, isValidKey, keyError, MAX_KEY_LENGTH, MAX_KEY_SEGMENTS } from '../keys.js';
import { invalid, quote } from './messages.js';

export interface ParsedPattern {
  readonly pattern: string;
  readonly segments: readonly string[];
  /** Indexes of the `*` segments, ascending. */
  readonly stars: readonly number[];
}

/**
 * Checks one name from `keys` (PSMC_SCHEMA_INVALID at `path` when it is neither a legal key nor
 * a legal pattern). Returns undefined for an exact key, else the parsed pattern.
 */
export function parseKeyName(name: string, path: string): ParsedPattern | undefined {
  if (!name.includes('*')) {
    if (!isValidKey(name)) {
      const e = keyError(name);
      throw invalid(path, `the key ${quote(name)} is not a legal key: ${e.message}`, e.hint);
    }
    return undefined;
  }
  const segments = name.split('.');
  const stars: number[] = [];
  segments.forEach((s, i) => {
    if (s === '*') stars.push(i);
    else if (s.includes('*')) {
      throw invalid(
        path,
        `in the key pattern ${quote(name)}, "*" must be a whole segment (found ${quote(s)}).`,
        'Write e.g. sensors.*.max; a "*" matches exactly one segment.',
      );
    } else if (isReservedSegment(s)) {
      throw invalid(
        path,
        `the key pattern ${quote(name)} uses the reserved segment ${quote(s)}.`,
        'Rename the segment.',
      );
    }
  });
  const probe = segments.map((s) => (s === '*' ? 'x' : s)).join('.');
  if (!isValidKey(probe)) {
    const e = keyError(probe);
    const why =
      segments.length > MAX_KEY_SEGMENTS || name.length > MAX_KEY_LENGTH
        ? e.message
        : 'a segment is empty or not letters and digits joined by single "_" or "-".';
    throw invalid(
      path,
      `the key pattern ${quote(name)} is not legal: ${why}`,
      'A pattern is a legal key in which some whole segments are "*".',
    );
  }
  return { pattern: name, segments, stars };
}

/** Most specific first: fewer stars, then later star positions. */
export function comparePatterns(a: ParsedPattern, b: ParsedPattern): number {
  if (a.stars.length !== b.stars.length) return a.stars.length - b.stars.length;
  for (let i = 0; i < a.stars.length; i++) {
    const d = (b.stars[i] ?? 0) - (a.stars[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

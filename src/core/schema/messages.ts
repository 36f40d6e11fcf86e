/**
 * How schema errors are worded: JSON-pointer segments, quoted excerpts, descriptions of the
 * offending input, and the PSMC_SCHEMA_INVALID error every document check throws.
 */
import { PsmcError } from '../errors.js';

/** One JSON-pointer reference token: `~` becomes `~0`, `/` becomes `~1` (RFC 6901). */
export function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `s` as a JSON string, cut to 80 characters so a message stays readable. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

/** The PSMC_SCHEMA_INVALID error for a problem at `path`, a JSON pointer into the document. */
export function invalid(path: string, message: string, hint: string): PsmcError {
  return new PsmcError('PSMC_SCHEMA_INVALID', `Schema error at ${path === '' ? '/' : path}: ${message}`, {
    hint,
    details: { path },
  });
}

/** A short phrase for any JS input, used as "…, not <this>." */
export function describeJs(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

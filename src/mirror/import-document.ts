/**
 * What a file dropped into `imports/` means (see imports.ts for the folder and its safety rules):
 * the plain form (flat key = value, parsed like the mirror file) or the full form (an export or
 * snapshot document), where in the file a key lies, which errors are the store's rather than the
 * file's, the `.reason` text written beside a rejected file, and which file names are unusable.
 * Pure: no I/O.
 */
import { PsmcError } from '../core/errors.js';
import type { JsonValue } from '../core/value.js';
import type { MirrorFormat } from './codecs/types.js';
import { codecs } from './codecs-load.js';
import type { ImportRejected } from './imports.js';
import { locateKey as locateIn } from './locate.js';

const MAX_SOURCE_LENGTH = 128;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The full form: an export document as is; a snapshot document as its entries; other psmc documents refused. */
function fullForm(doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const format = doc['format'];
  if (typeof format !== 'string' || !format.startsWith('psmc-')) return undefined;
  if (format === 'psmc-export') return doc;
  if (format === 'psmc-snapshot') {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    out['format'] = 'psmc-export';
    out['version'] = doc['version'];
    out['entries'] = doc['entries'];
    return out;
  }
  throw new PsmcError('PSMC_PARSE', `The file is a ${JSON.stringify(format)} document, which cannot be imported.`, {
    hint: 'Drop a psmc export document ({"format":"psmc-export",…}), a snapshot file, or a flat file of key = value.',
  });
}

/** The document to give importData: the full form, or a flat object of key → value. */
export function parseImportText(text: string, format: MirrorFormat): unknown {
  let values: Map<string, JsonValue>;
  try {
    values = codecs().codecFor(format).parse(text).values;
  } catch (e) {
    // An export document whose values break a mirror-file rule (e.g. depth) is still an export document.
    if (format === 'json') {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        throw e;
      }
      const full = isPlainObject(raw) ? fullForm(raw) : undefined;
      if (full !== undefined) return full;
    }
    throw e;
  }
  const flat = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of values) flat[key] = value;
  return fullForm(flat) ?? flat;
}

/** 1-based line and column of a top-level key in a dropped file, best effort (for schema errors, which know only the key). */
export function locateKey(text: string, key: string): { line: number; column: number } | undefined {
  return locateIn(text, key, [`"${key}"`, `'${key}'`, `${key}:`, `${key} =`, `${key}=`]);
}

/** Errors that are the store's, not the file's: the file is put back and the run stops. */
export const STORE_ERRORS = new Set([
  'PSMC_BUSY',
  'PSMC_IO',
  'PSMC_CLOSED',
  'PSMC_CORRUPT',
  'PSMC_READ_ONLY',
  'PSMC_INTERNAL',
]);

export function reasonText(
  file: string,
  r: Omit<ImportRejected, 'movedTo' | 'reasonFile' | 'file'>,
  at: number,
): string {
  const lines = [
    `file: ${file}`,
    `rejected: ${new Date(at).toISOString()}`,
    `code: ${r.code}`,
    ...(r.line === undefined ? [] : [`line: ${r.line}`]),
    ...(r.column === undefined ? [] : [`column: ${r.column}`]),
    ...(r.key === undefined ? [] : [`key: ${r.key}`]),
    `message: ${r.message}`,
    `hint: ${r.hint}`,
    '',
    'The store was not changed by this file. Fix it and drop it into imports/ again.',
    '',
  ];
  return lines.join('\n');
}

/** Why the name itself is unusable, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\\')) return 'it is not a plain file name';
  if (!name.isWellFormed() || /[\u0000-\u001f\u007f-\u009f]/.test(name))
    return 'it holds control characters or broken Unicode';
  if ([...`import:${name}`].length > MAX_SOURCE_LENGTH)
    return `it is too long to record as the source (import:<name> is at most ${MAX_SOURCE_LENGTH} characters)`;
  return undefined;
}

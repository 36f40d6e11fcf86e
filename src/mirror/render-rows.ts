/** The canonical JSONC mirror rendered straight from stored rows (the export's fast path). */
import type { StoredRow } from '../core/port.js';
import { decodeStored, type JsonValue } from '../core/value.js';
import { HEADER_TEXT } from './codecs/types.js';

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The canonical JSONC file (mirror-format.md §mirror.canonical.json: the header
 * line, then `JSON.stringify(entries, null, 2)`, then a newline) built straight
 * from stored rows: they are already valid and encoded, and come sorted by key
 * in byte order, so the codec's checks and re-encoding are skipped. Keys that
 * look like array indexes would be reordered by a JS object: those stores go
 * through the codec. test/mirror/engine-render.test.ts checks both agree.
 */
export function renderJsonFromRows(
  rows: readonly StoredRow[],
  viaCodec: (entries: ReadonlyArray<readonly [string, JsonValue]>) => string,
): string {
  if (rows.some((r) => ARRAY_INDEX.test(r.key)))
    return viaCodec(rows.map((r) => [r.key, decodeStored(r.value)] as const));
  if (rows.length === 0) return `// ${HEADER_TEXT}\n{}\n`;
  const parts: string[] = [`// ${HEADER_TEXT}\n{\n`];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as StoredRow;
    const c = r.value.charCodeAt(0);
    const text =
      c === 123 /* { */ || c === 91 /* [ */
        ? JSON.stringify(JSON.parse(r.value), null, 2).replaceAll('\n', '\n  ')
        : r.value;
    parts.push(`  ${JSON.stringify(r.key)}: ${text}${i < rows.length - 1 ? ',' : ''}\n`);
  }
  parts.push('}\n');
  return parts.join('');
}

/**
 * The JSON export/import document (spec/SPEC.md §export).
 *
 * Export: `{"format":"psmc-export","version":1,"revision":N,"entries":{key:{value,type,revision,updatedAt,source}},"schema":{…}?}`.
 * Import accepts that document, or a flat object of dotted key → value.
 * Both are parsed without touching prototypes: member names come from
 * JSON.parse (own properties) and are checked as keys before use.
 */
import { PsmcError } from '../core/errors.js';
import { assertKey } from '../core/keys.js';
import { assertValue, type JsonValue } from '../core/value.js';
import type { SchemaDocument } from '../core/schema.js';
import type { StoredRow, StoredSchema, StoreState } from '../core/port.js';

export interface ExportEntry {
  readonly value: JsonValue;
  readonly type: string;
  readonly revision: number;
  readonly updatedAt: string;
  readonly source: string;
}

export interface ExportDocument {
  format: 'psmc-export';
  version: 1;
  /** The store revision the export was read at. */
  revision: number;
  entries: Record<string, ExportEntry>;
  schema?: SchemaDocument;
}

/**
 * The export document of a store read in one transaction (`StoragePort.readAll()`), or of a
 * store that does not exist yet (`undefined`: revision 0, no entries). Entries are defined as
 * own properties, never through an inherited setter.
 */
export function buildExport(
  all: { state: StoreState; rows: readonly StoredRow[]; schema: StoredSchema | undefined } | undefined,
): ExportDocument {
  const entries: ExportDocument['entries'] = {};
  if (all === undefined) return { format: 'psmc-export', version: 1, revision: 0, entries };
  const { state, rows, schema } = all;
  for (const r of rows) {
    Object.defineProperty(entries, r.key, {
      value: {
        value: JSON.parse(r.value) as JsonValue,
        type: r.type,
        revision: r.revision,
        updatedAt: r.updatedAt,
        source: r.source,
      },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const out: ExportDocument = { format: 'psmc-export', version: 1, revision: state.revision, entries };
  if (schema !== undefined) out.schema = JSON.parse(schema.doc) as SchemaDocument;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function importError(message: string, file: string | undefined, key?: string): PsmcError {
  return new PsmcError('PSMC_PARSE', `${file === undefined ? 'The import document' : file}: ${message}`, {
    hint: 'Give an export document ({"format":"psmc-export","version":1,"entries":{…}}) or a flat object of dotted key → value, e.g. {"display.units": "metric"}.',
    details: { ...(file === undefined ? {} : { file }), ...(key === undefined ? {} : { key }) },
  });
}

/** The key → value pairs of an import document, checked. Throws PSMC_PARSE / key and value errors. */
export function parseExport(doc: unknown, file?: string): Map<string, JsonValue> {
  if (!isPlainObject(doc))
    throw importError(
      `expected a JSON object, found ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}.`,
      file,
    );
  const out = new Map<string, JsonValue>();
  // An object whose "format" is "psmc-export" is an export document; any other object is flat
  // (so a flat import may set a key named "format").
  if (doc['format'] === 'psmc-export') {
    const version = doc['version'];
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      throw importError(`"version" must be a whole number ≥ 1, found ${JSON.stringify(version)}.`, file);
    }
    if (version !== 1) {
      throw new PsmcError(
        'PSMC_FORMAT_TOO_NEW',
        `${file ?? 'The import document'} has export version ${JSON.stringify(doc['version'])}; this psmc reads version 1.`,
        {
          hint: 'Export it again with this psmc version, or upgrade psmc.',
        },
      );
    }
    const entries = doc['entries'];
    if (!isPlainObject(entries)) throw importError('"entries" must be an object.', file);
    for (const key of Object.keys(entries)) {
      assertKey(key);
      const e = entries[key];
      if (!isPlainObject(e) || !Object.hasOwn(e, 'value'))
        throw importError(`entry ${JSON.stringify(key)} must be an object with a "value".`, file, key);
      out.set(key, assertValue(e['value'], key));
    }
    return out;
  }
  for (const key of Object.keys(doc)) {
    assertKey(key);
    out.set(key, assertValue(doc[key], key));
  }
  return out;
}

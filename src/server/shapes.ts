/**
 * The JSON shapes of the HTTP API (docs/http-api.md §shapes): an Entry (a key
 * with where its value comes from), a Change (a history record), a Snapshot
 * summary and the Status. Pure conversions from the library's types.
 */
import type { ChangeRecord } from '../core/change.js';
import { compileSchema, type CompiledSchema, type KeySchema, type SchemaDocument } from '../core/schema.js';
import type { JsonValue } from '../core/value.js';
import type { Explanation, LayerCandidate, Resolved, StoreStatus } from '../store/options.js';
import type { Store } from '../store/store.js';
import type { SnapshotInfo } from '../snapshot/index.js';

/** ISO 8601 time of an HLC text (`2026-11-26T04:03:25.146Z-0003` → `2026-11-26T04:03:25.146Z`); null when none. */
export function timeOf(at: string | undefined): string | null {
  if (at === undefined) return null;
  const m = /^(.*Z)-\d+$/.exec(at);
  return m?.[1] ?? at;
}

export interface ApiLayer {
  readonly layer: string;
  readonly value: JsonValue;
  readonly origin: string;
  readonly revision?: number;
  readonly source?: string;
  readonly time?: string | null;
}

export interface ApiEntry {
  readonly key: string;
  readonly value: JsonValue;
  readonly layer: string;
  readonly revision: number;
  readonly source: string | null;
  readonly time: string | null;
  readonly env?: { readonly var: string; readonly value: JsonValue };
  readonly schema?: KeySchema;
  readonly layers?: ApiLayer[];
}

/** Compiles the store's schema at most once per distinct document. */
export class SchemaCache {
  #text: string | undefined;
  #compiled: CompiledSchema | undefined;

  of(doc: SchemaDocument | undefined): CompiledSchema | undefined {
    if (doc === undefined) {
      this.#text = undefined;
      this.#compiled = undefined;
      return undefined;
    }
    const text = JSON.stringify(doc);
    if (text !== this.#text) {
      this.#compiled = compileSchema(doc);
      this.#text = text;
    }
    return this.#compiled;
  }
}

function layerOf(c: LayerCandidate): ApiLayer {
  return {
    layer: c.layer,
    value: c.value as JsonValue,
    origin: c.origin,
    ...(c.revision === undefined ? {} : { revision: c.revision }),
    ...(c.source === undefined ? {} : { source: c.source }),
    ...(c.updatedAt === undefined ? {} : { time: timeOf(c.updatedAt) }),
  };
}

/** An Entry from a resolved value, with the layers of an explanation when given. */
export function entryOf(r: Resolved, schema: CompiledSchema | undefined, explained?: Explanation): ApiEntry {
  const ks = schema?.schemaFor(r.key);
  const envVar = r.layer === 'env' && r.source?.startsWith('env:') === true ? r.source.slice(4) : undefined;
  return {
    key: r.key,
    value: r.value as JsonValue,
    layer: r.layer ?? 'default',
    revision: r.revision,
    source: r.source ?? null,
    time: timeOf(r.updatedAt),
    ...(envVar === undefined ? {} : { env: { var: envVar, value: r.value as JsonValue } }),
    ...(ks === undefined ? {} : { schema: ks }),
    ...(explained === undefined
      ? {}
      : { layers: explained.layers.filter((l) => l.present && l.layer !== 'caller').map(layerOf) }),
  };
}

/** The explain() result with times in ISO form. */
export function explanationOf(e: Explanation): Record<string, unknown> {
  return {
    key: e.key,
    value: e.value ?? null,
    found: e.found,
    layer: e.layer ?? null,
    revision: e.revision,
    source: e.source ?? null,
    time: timeOf(e.updatedAt),
    reason: e.reason,
    layers: e.layers.map((l) => ({
      layer: l.layer,
      present: l.present,
      ...(l.present ? { value: l.value } : {}),
      origin: l.origin,
      ...(l.revision === undefined ? {} : { revision: l.revision }),
      ...(l.source === undefined ? {} : { source: l.source }),
      ...(l.updatedAt === undefined ? {} : { time: timeOf(l.updatedAt) }),
      ...(l.error === undefined ? {} : { error: l.error }),
    })),
  };
}

export interface ApiChange {
  readonly revision: number;
  readonly seq: number;
  readonly key: string;
  readonly op: string;
  readonly value?: JsonValue;
  readonly previous?: JsonValue;
  readonly source: string;
  readonly time: string | null;
  readonly at: string;
  readonly note?: string;
}

export function changeOf(r: ChangeRecord): ApiChange {
  return {
    revision: r.revision,
    seq: r.seq,
    key: r.key,
    op: r.op,
    ...(r.newValue === undefined ? {} : { value: r.newValue }),
    ...(r.oldValue === undefined ? {} : { previous: r.oldValue }),
    source: r.source,
    time: timeOf(r.at),
    at: r.at,
    ...(r.note === undefined ? {} : { note: r.note }),
  };
}

export function snapshotOf(s: SnapshotInfo): Record<string, unknown> {
  return {
    name: s.name,
    created: s.createdAt,
    revision: s.revision,
    keys: s.keys,
    reason: s.reason,
    auto: s.reason !== 'manual',
    source: s.source,
    bytes: s.bytes,
  };
}

export interface ApiStatus {
  readonly ok: boolean;
  readonly version: string;
  readonly store: { readonly path: string; readonly layer: string; readonly exists: boolean };
  readonly revision: number;
  readonly database: { readonly ok: boolean; readonly path: string; readonly error?: string };
  readonly mirror: {
    readonly path: string;
    readonly format: string;
    readonly state: string;
    readonly revision: number;
    readonly lastExport: string | null;
    readonly lastImport: string | null;
    readonly error: unknown;
    readonly syncError?: string;
  } | null;
  readonly conflicts: number;
  readonly watchers: number;
  readonly imports: { readonly waiting: number };
}

/** The Status of a store, never throwing: a store that cannot be read gives `database.ok: false`. */
export function statusOf(
  store: Store,
  version: string,
  watchers: number,
  /** How many files wait in the imports folder of a store directory. */
  waitingImports: (storeDir: string) => number,
): ApiStatus {
  let s: StoreStatus;
  try {
    s = store.status();
  } catch (e) {
    const info = store.info;
    const slot = info.writeLayer === 'project' ? info.project : info.user;
    return {
      ok: false,
      version,
      store: { path: slot?.dir ?? '', layer: info.writeLayer, exists: true },
      revision: 0,
      database: { ok: false, path: slot?.database ?? '', error: (e as Error).message },
      mirror: null,
      conflicts: 0,
      watchers,
      imports: { waiting: 0 },
    };
  }
  const m = s.mirror;
  const mirrorError = m?.error ?? null;
  return {
    ok: mirrorError === null,
    version,
    store: { path: s.dir, layer: s.layer, exists: s.exists },
    revision: s.revision,
    database: { ok: true, path: s.database },
    mirror:
      m === undefined
        ? null
        : {
            path: m.file,
            format: m.format,
            state: m.state,
            revision: m.revision,
            lastExport: m.exportedAt ?? null,
            lastImport: m.importedAt ?? null,
            error: mirrorError,
            ...(m.syncError === undefined ? {} : { syncError: m.syncError }),
          },
    conflicts: s.conflicts,
    watchers,
    imports: { waiting: waitingImports(s.dir) },
  };
}

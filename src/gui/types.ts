/**
 * The shapes of the HTTP API v1 as the GUI reads them (docs/http-api.md is the contract).
 * Only what the GUI uses is typed; extra members are ignored.
 */
import type { JsonValue } from '../core/value.js';
import type { KeySchema, SchemaDocument } from '../core/schema/types.js';

export type { JsonValue, KeySchema, SchemaDocument };

export type LayerName = 'override' | 'env' | 'project' | 'user' | 'default' | 'caller';

export interface LayerValue {
  readonly layer: LayerName;
  readonly value: JsonValue;
  readonly origin?: string;
  readonly revision?: number;
  readonly source?: string;
  readonly time?: string | null;
  readonly var?: string;
}

export interface Entry {
  readonly key: string;
  readonly value: JsonValue;
  readonly layer: LayerName;
  /** Store revision of the stored value; 0 when the value is not stored. */
  readonly revision: number;
  readonly source: string;
  readonly time: string | null;
  readonly env?: { readonly var: string; readonly value: string };
  readonly schema?: KeySchema;
  readonly layers?: readonly LayerValue[];
}

export interface KeyList {
  readonly revision: number;
  readonly keys: readonly Entry[];
}

export interface Change {
  readonly revision: number;
  readonly seq?: number;
  readonly key: string;
  readonly op: 'set' | 'delete' | 'schema' | 'conflict';
  readonly value?: JsonValue;
  readonly previous?: JsonValue;
  readonly source: string;
  readonly time: string;
  readonly note?: string;
}

export interface MirrorError {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly key?: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface Status {
  readonly ok: boolean;
  readonly version: string;
  readonly store: { readonly path: string; readonly layer?: string };
  readonly revision: number;
  readonly database: { readonly ok: boolean; readonly error?: string };
  readonly mirror: {
    readonly path: string;
    readonly format: string;
    readonly state?: string;
    readonly lastExport?: string | null;
    readonly lastImport?: string | null;
    readonly error: MirrorError | null;
  } | null;
  readonly conflicts: number;
  readonly watchers: number;
}

export interface Session {
  readonly scopes: readonly string[];
  readonly name: string;
  readonly kind?: string;
  readonly store: string;
}

export interface Snapshot {
  readonly name: string;
  readonly created: string;
  readonly revision: number;
  readonly keys: number;
  readonly reason: string;
  readonly auto: boolean;
  readonly source?: string;
  readonly bytes?: number;
}

export interface DiffItem {
  readonly key: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly before?: JsonValue;
  readonly after?: JsonValue;
}

export interface SnapshotDiff {
  readonly from: { readonly name: string; readonly revision: number };
  readonly to: { readonly name: string; readonly revision: number };
  readonly changes: readonly DiffItem[];
}

export interface WriteResult {
  readonly key: string;
  readonly revision: number;
  readonly storeRevision: number;
  readonly changed?: boolean;
}

export interface RestoreResult {
  readonly storeRevision: number;
  readonly changes: number;
  readonly autoSnapshot: string;
}

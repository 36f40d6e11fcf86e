/**
 * Differences between two snapshots, or a snapshot and the live store
 * (§snapshot.diff): per key, added / removed / changed, sorted by key in byte
 * order. Values compare by §value.equality (member order ignored, 1 = 1.0).
 */
import { valuesEqual, type JsonValue } from '../core/value.js';
import { compareKeys, type SnapshotDocument, valuesOf } from './format.js';
import type { SnapshotHost } from './host.js';
import { readSnapshot, resolveName } from './snapshots.js';

export interface DiffItem {
  readonly key: string;
  /** `added`: only in the second; `removed`: only in the first; `changed`: in both, with different values. */
  readonly change: 'added' | 'removed' | 'changed';
  /** The value in the first (absent for `added`). */
  readonly before?: JsonValue;
  /** The value in the second (absent for `removed`). */
  readonly after?: JsonValue;
}

type Values = ReadonlyMap<string, JsonValue> | Readonly<Record<string, JsonValue>>;

function toMap(v: Values): ReadonlyMap<string, JsonValue> {
  if (v instanceof Map) return v;
  const m = new Map<string, JsonValue>();
  for (const k of Object.keys(v)) m.set(k, (v as Record<string, JsonValue>)[k] as JsonValue);
  return m;
}

/** What changed from `a` to `b` (key → value maps or plain objects). Pure. */
export function diffEntries(a: Values, b: Values): DiffItem[] {
  const ma = toMap(a);
  const mb = toMap(b);
  const out: DiffItem[] = [];
  for (const [key, before] of ma) {
    if (!mb.has(key)) out.push({ key, change: 'removed', before });
    else {
      const after = mb.get(key) as JsonValue;
      if (!valuesEqual(before, after)) out.push({ key, change: 'changed', before, after });
    }
  }
  for (const [key, after] of mb) if (!ma.has(key)) out.push({ key, change: 'added', after });
  return out.sort((x, y) => compareKeys(x.key, y.key));
}

/** One side of a diff. */
export interface DiffSide {
  /** The snapshot name as spelled on disk, or `current` for the live store. */
  readonly name: string;
  readonly revision: number;
}

export interface SnapshotDiff {
  readonly from: DiffSide;
  readonly to: DiffSide;
  readonly changes: DiffItem[];
}

export const CURRENT = 'current';

function side(host: SnapshotHost, name: string): { side: DiffSide; values: Map<string, JsonValue> } {
  if (name.toLowerCase() === CURRENT) {
    const exported = host.exportData();
    const values = new Map<string, JsonValue>();
    for (const k of Object.keys(exported.entries)) values.set(k, (exported.entries[k] as { value: JsonValue }).value);
    return { side: { name: CURRENT, revision: exported.revision }, values };
  }
  const doc: SnapshotDocument = readSnapshot(host, resolveName(host, name));
  return { side: { name: doc.name, revision: doc.revision }, values: valuesOf(doc) };
}

/** What changed from snapshot `a` to snapshot `b` (`current`, the default, is the live store). */
export function diffSnapshots(host: SnapshotHost, a: string, b: string = CURRENT): SnapshotDiff {
  const from = side(host, a);
  const to = side(host, b);
  return { from: from.side, to: to.side, changes: diffEntries(from.values, to.values) };
}

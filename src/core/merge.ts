/**
 * The mirror's 3-way merge (spec/sections/mirror-sync.md §mirror.merge). Pure.
 *
 * base = the values of the last export (or import) of the file, theirs = the
 * file as saved now, ours = the database now. Per key:
 * - file unchanged (theirs = base): keep ours;
 * - changed only in the file (ours = base): apply theirs;
 * - changed on both sides to the same value: nothing to do;
 * - changed on both sides differently: a conflict, resolved by time — the
 *   side changed later wins (the file's time is its modification time, the
 *   database's the HLC time of the key's last change; a tie goes to the file,
 *   the human edit). The losing value is recorded as a `conflict` history
 *   record, so it is never lost.
 * Values are compared as JSON values (member order does not matter).
 */
import { decodeStored, valuesEqual, type JsonValue } from './value.js';

export interface OursEntry {
  /** Encoded value, or null when the key is absent (deleted) in the database. */
  readonly text: string | null;
  /** Wall ms of the key's last change (its deletion, when absent); 0 when never set. */
  readonly timeMs: number;
  /** Source of the key's last change. */
  readonly source: string;
}

export interface MergeInput {
  /** Every key that may differ: the file's keys, and the keys the database changed since base. */
  readonly keys: Iterable<string>;
  /** The file: key → encoded value. */
  readonly theirs: ReadonlyMap<string, string>;
  /** Encoded value at the base revision, or null when absent then. */
  base(key: string): string | null;
  ours(key: string): OursEntry;
  /** The file's modification time, wall ms. */
  readonly fileTimeMs: number;
}

export interface MergeConflict {
  readonly key: string;
  readonly winner: 'file' | 'store';
  /** The losing value (encoded; null for a losing delete). */
  readonly lost: string | null;
  /** The winning value (encoded; null for a winning delete). */
  readonly won: string | null;
  /** Source of the losing side (`file` when the file lost). */
  readonly loserSource: string;
}

export interface MergeResult {
  /** Changes to apply from the file, in key order: encoded value, or null to delete. */
  readonly apply: ReadonlyArray<{ readonly key: string; readonly text: string | null }>;
  readonly conflicts: readonly MergeConflict[];
}

function same(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return valuesEqual(decodeStored(a) as JsonValue, decodeStored(b) as JsonValue);
}

export function mergeMirror(input: MergeInput): MergeResult {
  const apply: Array<{ key: string; text: string | null }> = [];
  const conflicts: MergeConflict[] = [];
  for (const key of [...new Set(input.keys)].sort()) {
    const t = input.theirs.get(key) ?? null;
    const b = input.base(key);
    if (same(t, b)) continue;
    const o = input.ours(key);
    if (same(o.text, b)) {
      apply.push({ key, text: t });
      continue;
    }
    if (same(t, o.text)) continue;
    if (input.fileTimeMs >= o.timeMs) {
      apply.push({ key, text: t });
      conflicts.push({ key, winner: 'file', lost: o.text, won: t, loserSource: o.source });
    } else {
      conflicts.push({ key, winner: 'store', lost: t, won: o.text, loserSource: 'file' });
    }
  }
  return { apply, conflicts };
}

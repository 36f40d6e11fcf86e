/** Small helpers the doctor's checks and its database rebuild share. */
import { lstatSync, type Stats } from 'node:fs';
import type { MirrorFormat } from '../mirror/codecs/types.js';
import type { Store } from '../store/store.js';

export const FORMATS: readonly MirrorFormat[] = ['json', 'toml', 'yaml'];

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Syncs the mirror, waiting (≤ 3 s) while the file is too fresh to import (it may be mid-save). */
export function settle(store: Store): { error?: { code: string; message: string } } {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = store.syncMirror({ imports: false });
    if (r.retryInMs === undefined || Date.now() > deadline) return r;
    sleepMs(Math.min(r.retryInMs, 250));
  }
}

export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `20260526T101112Z`: a UTC time usable in a file name everywhere. */
export function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

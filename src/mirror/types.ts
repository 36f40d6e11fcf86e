/** The mirror engine's public types: its host, its status, the result of a sync, a refused edit. */
import type { WallClock } from '../core/clock.js';
import type { CommitResult } from '../core/engine.js';
import type { StoragePort, WriteTx } from '../core/port.js';
import type { CompiledSchema } from '../core/schema.js';
import type { MirrorFormat } from './codecs/types.js';

export type MirrorSetting = MirrorFormat | 'off';

/** What the engine needs from the store it mirrors. */
export interface MirrorHost {
  readonly dir: string;
  readonly storage: StoragePort;
  schemaIn(tx: WriteTx): CompiledSchema | undefined;
  readonly clock: WallClock;
  /** Called after a commit made by the engine (an import): updates caches and notifies watchers. */
  applyCommit(result: CommitResult): void;
  /** Called inside the import transaction, before a hand edit is applied (automatic snapshot). */
  beforeImport?(): void;
}

export interface MirrorError {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly key?: string;
}

export type MirrorState = 'in-sync' | 'pending-export' | 'invalid-edit' | 'pending-import' | 'missing' | 'off';

export interface MirrorStatus {
  readonly file: string;
  readonly format: MirrorSetting;
  readonly state: MirrorState;
  /** The store revision the file reflects. */
  readonly revision: number;
  readonly exportedAt: string | undefined;
  readonly importedAt: string | undefined;
  /** The pending invalid hand edit, when there is one. */
  readonly error: MirrorError | undefined;
}

export interface SyncResult {
  /** Nothing to do until the user fixes the file (or the mirror is off). */
  readonly waiting?: boolean;
  /** The commit that applied a hand edit, when one was imported. */
  readonly imported: CommitResult | undefined;
  readonly exported: boolean;
  /** The file is being written (or is empty): sync again after this many ms. */
  readonly retryInMs: number | undefined;
  /** The hand edit that was refused (also recorded for status). */
  readonly error: MirrorError | undefined;
}

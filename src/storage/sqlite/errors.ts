/** Maps SQLite failures to PsmcError codes with a hint. The one place that reads SQLite error codes. */
import { PsmcError } from '../../core/errors.js';

interface SqliteErrorLike {
  code?: unknown;
  message?: unknown;
}

export function sqliteCode(e: unknown): string {
  const code = (e as SqliteErrorLike | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Turns a SQLite error into a PsmcError; returns other errors unchanged. */
export function mapSqliteError(e: unknown, location: string): unknown {
  if (e instanceof PsmcError) return e;
  const code = sqliteCode(e);
  const msg = String((e as SqliteErrorLike | null)?.message ?? e);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new PsmcError(
      'PSMC_BUSY',
      `The store at ${location} stayed locked by another writer past the busy timeout (${msg}).`,
      {
        hint: 'Another process holds a long write transaction. Retry, raise busyTimeoutMs, or find the stuck process (psmc doctor).',
        cause: e,
      },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new PsmcError('PSMC_CORRUPT', `The database ${location} is damaged or is not a SQLite database (${msg}).`, {
      hint: 'Move the file aside and restore from a snapshot (psmc doctor --repair), or open another store.',
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new PsmcError('PSMC_READ_ONLY', `The database ${location} cannot be written (${msg}).`, {
      hint: 'Check the permissions of the store directory and its files (they should belong to you, mode 0700/0600).',
      cause: e,
    });
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_PERM')
  ) {
    return new PsmcError('PSMC_IO', `Cannot use the database ${location}: ${msg}.`, {
      hint:
        code === 'SQLITE_FULL'
          ? 'The disk is full; free space and retry.'
          : 'Check that the directory exists, is writable, and the disk is healthy.',
      cause: e,
    });
  }
  return e;
}

/**
 * The SQLite adapter of the storage port (spec/SPEC.md §storage.sqlite).
 *
 * - WAL journal, a busy timeout, and BEGIN IMMEDIATE for every transaction
 *   that may write: a deferred transaction that reads and then writes fails
 *   with SQLITE_BUSY under load instead of waiting for the lock.
 * - synchronous=FULL by default (an acknowledged write survives power loss);
 *   `durability: 'normal'` trades that for speed.
 * - The database file is created 0600 before SQLite opens it; SQLite gives its
 *   -wal and -shm files the same mode.
 * - Nothing else opens, copies or hashes the database file.
 */
import type Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PsmcError } from '../../core/errors.js';
import { formatHlc, HLC_ZERO } from '../../core/clock.js';
import type { ChangeOp } from '../../core/change.js';
import type {
  HistoryQuery,
  StoragePort,
  StoredChange,
  StoredRow,
  StoredSchema,
  StoreState,
  WriteTx,
} from '../../core/port.js';
import { APPLICATION_ID, FORMAT_VERSION, MIGRATIONS } from './migrations.js';
import { mapSqliteError, sqliteCode } from './errors.js';

type Db = Database.Database;

// better-sqlite3 is CommonJS: loading it through require skips the ESM wrapper's export scan,
// a measurable part of a one-shot CLI's start-up.
const require = createRequire(import.meta.url);
let DatabaseCtor: typeof Database | undefined;
function loadDatabase(): typeof Database {
  return (DatabaseCtor ??= require('better-sqlite3') as typeof Database);
}
type Stmt = Database.Statement;

export interface SqliteOptions {
  /** Path of the database file. */
  readonly file: string;
  /** @default 'full' */
  readonly durability?: 'full' | 'normal';
  /** @default 10000 */
  readonly busyTimeoutMs?: number;
  /** Do not create the file; refuse writes. @default false */
  readonly readOnly?: boolean;
  /** Test hook: the wall clock for `created_at`. */
  readonly now?: () => number;
}

interface RowRecord {
  key: string;
  value: string;
  type: string;
  revision: number;
  updated_at: string;
  source: string;
}

interface ChangeRow {
  revision: number;
  seq: number;
  key: string;
  op: string;
  old_value: string | null;
  new_value: string | null;
  source: string;
  at: string;
  note: string | null;
}

/** An object whose properties prepare their statement on first access (`PLUCK:` prefix: pluck mode). */
function lazyStatements(db: Db, sqls: Record<string, string>): Record<string, Stmt> {
  const out: Record<string, Stmt> = {};
  for (const [name, sql] of Object.entries(sqls)) {
    Object.defineProperty(out, name, {
      configurable: true,
      enumerable: true,
      get(): Stmt {
        const stmt = sql.startsWith('PLUCK:') ? db.prepare(sql.slice(6)).pluck() : db.prepare(sql);
        Object.defineProperty(out, name, { value: stmt, enumerable: true });
        return stmt;
      },
    });
  }
  return out;
}

/** The compiled addon, found directly: skips the `bindings` package's probing of a dozen paths. */
function nativeBinding(): string | undefined {
  try {
    const path = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    return existsSync(path) ? path : undefined;
  } catch (e) {
    // Not a standard build layout: let better-sqlite3 find its addon itself.
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

function toRow(r: RowRecord): StoredRow {
  return { key: r.key, value: r.value, type: r.type, revision: r.revision, updatedAt: r.updated_at, source: r.source };
}

function toChange(r: ChangeRow): StoredChange {
  return {
    revision: r.revision,
    seq: r.seq,
    key: r.key,
    op: r.op as ChangeOp,
    oldValue: r.old_value,
    newValue: r.new_value,
    source: r.source,
    at: r.at,
    note: r.note,
  };
}

/** `key = p OR key LIKE 'p.%'` without LIKE's wildcards: the range ['p.', 'p/') — '/' follows '.' in ASCII. */
const PREFIX_WHERE = `(key = @p OR (key >= @p || '.' AND key < @p || '/'))`;

type Statements = {
  dataVersion: Stmt;
  state: Stmt;
  row: Stmt;
  listAll: Stmt;
  listPrefix: Stmt;
  putRow: Stmt;
  deleteRow: Stmt;
  appendChange: Stmt;
  writeState: Stmt;
  changesAt: Stmt;
  lastChanged: Stmt;
  lastOfKey: Stmt;
  keysSince: Stmt;
  schema: Stmt;
  schemaRevision: Stmt;
  putSchema: Stmt;
  deleteSchema: Stmt;
  meta: Stmt;
  putMeta: Stmt;
  deleteMeta: Stmt;
  valueAt: Stmt;
  keysAfter: Stmt;
  conflicts: Stmt;
};

export class SqliteStorage implements StoragePort {
  readonly location: string;
  readonly #db: Db;
  readonly #readOnly: boolean;
  readonly #stmts: Statements;
  readonly #tx: WriteTx;
  readonly #runWrite: Database.Transaction<(fn: (tx: WriteTx) => unknown) => unknown>;
  readonly #runRead: Database.Transaction<(fn: (tx: WriteTx) => unknown) => unknown>;
  #closed = false;
  #durability: 'full' | 'normal';
  #busyTimeoutMs: number;

  constructor(options: SqliteOptions) {
    this.#durability = options.durability ?? 'full';
    this.#busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000));
    this.location = options.file;
    this.#readOnly = options.readOnly ?? false;
    if (!this.#readOnly && !existsSync(options.file)) {
      // Create the file 0600 before SQLite does, so it is never world-readable.
      // 'a' never truncates: a racing creator's content is kept.
      closeSync(openSync(options.file, 'a', 0o600));
    }
    // SQLite reads a file shorter than one page (512 bytes) as an empty database and would
    // write over it; a real database is never that short, so it is a damaged one.
    const size = existsSync(options.file) ? statSync(options.file).size : 0;
    if (size > 0 && size < 512) {
      throw new PsmcError('PSMC_CORRUPT', `${options.file} is ${size} bytes long, too short to be a SQLite database.`, {
        hint: 'The file is damaged or is not a psmc database. Move it aside and restore from a snapshot or an export.',
      });
    }
    let db: Db;
    try {
      const binding = nativeBinding();
      const Ctor = loadDatabase();
      db = new Ctor(options.file, {
        readonly: this.#readOnly,
        fileMustExist: true,
        ...(binding === undefined ? {} : { nativeBinding: binding }),
      });
    } catch (e) {
      if (sqliteCode(e) === 'SQLITE_CANTOPEN' && !existsSync(options.file)) {
        throw new PsmcError('PSMC_STORE_NOT_FOUND', `There is no store database at ${options.file}.`, {
          hint: 'Create it by writing a value (psmc set …), or check --store / PSMC_HOME.',
          cause: e,
        });
      }
      throw mapSqliteError(e, options.file);
    }
    this.#db = db;
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
      this.#checkForeign();
      if (!this.#readOnly) {
        const mode = enableWal(db, options.busyTimeoutMs ?? 10_000);
        if (String(mode).toLowerCase() !== 'wal') {
          throw new PsmcError('PSMC_IO', `Cannot switch ${options.file} to WAL mode (got ${String(mode)}).`, {
            hint: 'Keep the store on a local file system; WAL does not work on some network file systems.',
          });
        }
      }
      db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      // 32 MiB page cache: a 100,000-key batch stays in memory until its commit.
      db.pragma('cache_size = -32768');
      this.#migrate(options.now ?? Date.now);
    } catch (e) {
      db.close();
      throw mapSqliteError(e, options.file);
    }
    // Statements are prepared on first use: a one-shot CLI `get` prepares one, not sixteen.
    const s = (sql: string): string => sql;
    const sqls = {
      dataVersion: s('PLUCK:PRAGMA data_version'),
      state: s('SELECT revision, clock, store_id AS storeId FROM state WHERE id = 1'),
      row: s('SELECT key, value, type, revision, updated_at, source FROM entries WHERE key = ?'),
      listAll: s('SELECT key, value, type, revision, updated_at AS updatedAt, source FROM entries ORDER BY key'),
      listPrefix: s(
        `SELECT key, value, type, revision, updated_at, source FROM entries WHERE ${PREFIX_WHERE} ORDER BY key`,
      ),
      putRow: s(
        `INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, type = excluded.type, revision = excluded.revision,
           updated_at = excluded.updated_at, source = excluded.source`,
      ),
      deleteRow: s('DELETE FROM entries WHERE key = ?'),
      appendChange: s(
        `INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      writeState: s('UPDATE state SET revision = ?, clock = ? WHERE id = 1'),
      changesAt: s('SELECT * FROM history WHERE revision = ? ORDER BY seq'),
      lastChanged: s("PLUCK:SELECT COALESCE(MAX(revision), 0) FROM history WHERE op IN ('set', 'delete', 'schema')"),
      lastOfKey: s('PLUCK:SELECT COALESCE(MAX(revision), 0) FROM history WHERE key = ?'),
      keysSince: s('PLUCK:SELECT DISTINCT key FROM history WHERE revision > ? LIMIT ?'),
      schema: s('SELECT doc, revision FROM schema_doc WHERE id = 1'),
      schemaRevision: s('PLUCK:SELECT COALESCE((SELECT revision FROM schema_doc WHERE id = 1), 0)'),
      putSchema: s(
        `INSERT INTO schema_doc (id, doc, revision) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, revision = excluded.revision`,
      ),
      deleteSchema: s('DELETE FROM schema_doc WHERE id = 1'),
      meta: s('PLUCK:SELECT value FROM meta WHERE name = ?'),
      putMeta: s(
        'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
      deleteMeta: s('DELETE FROM meta WHERE name = ?'),
      valueAt: s(
        `SELECT op, new_value FROM history WHERE key = ? AND revision <= ? AND op IN ('set', 'delete')
         ORDER BY revision DESC, seq DESC LIMIT 1`,
      ),
      keysAfter: s(`PLUCK:SELECT DISTINCT key FROM history WHERE revision > ? AND op IN ('set', 'delete')`),
      conflicts: s(`PLUCK:SELECT count(*) FROM history WHERE op = 'conflict'`),
    };
    this.#stmts = lazyStatements(db, sqls) as Statements;
    const st = this.#stmts;
    this.#tx = {
      readState: () => this.readState(),
      writeState: (revision, clock) => {
        st.writeState.run(revision, clock);
      },
      readRow: (key) => this.readRow(key),
      putRow: (r) => {
        // Positional parameters: binding by name costs a property lookup per column.
        st.putRow.run(r.key, r.value, r.type, r.revision, r.updatedAt, r.source);
      },
      deleteRow: (key) => {
        st.deleteRow.run(key);
      },
      appendChange: (c) => {
        st.appendChange.run(c.revision, c.seq, c.key, c.op, c.oldValue, c.newValue, c.source, c.at, c.note);
      },
      changesAt: (revision) => (st.changesAt.all(revision) as ChangeRow[]).map(toChange),
      lastChangedRevision: () => st.lastChanged.get() as number,
      lastRevisionOf: (key) => st.lastOfKey.get(key) as number,
      readSchema: () => this.readSchema(),
      readSchemaRevision: () => st.schemaRevision.get() as number,
      writeSchema: (doc, revision) => {
        if (doc === undefined) st.deleteSchema.run();
        else st.putSchema.run(doc, revision);
      },
      allRows: () => this.listRows(''),
      readMeta: (name) => this.readMeta(name),
      writeMeta: (name, value) => {
        if (value === undefined) st.deleteMeta.run(name);
        else st.putMeta.run(name, value);
      },
      valueAt: (key, revision) => {
        const r = st.valueAt.get(key, revision) as { op: string; new_value: string | null } | undefined;
        return r === undefined || r.op === 'delete' ? null : r.new_value;
      },
      keysChangedAfter: (revision) => st.keysAfter.all(revision) as string[],
    };
    this.#runWrite = db.transaction((fn: (tx: WriteTx) => unknown) => fn(this.#tx));
    this.#runRead = this.#runWrite;
  }

  /** Refuses SQLite files that belong to something else. */
  #checkForeign(): void {
    // One read transaction: all three facts from one snapshot. Read one by one, a process
    // creating the store at the same moment could commit between them, and its fresh tables
    // would look like a foreign database's (ids 0, tables > 0).
    const { appId, version, tables } = this.#db
      .transaction(() => ({
        appId: this.#db.pragma('application_id', { simple: true }) as number,
        version: this.#db.pragma('user_version', { simple: true }) as number,
        tables: this.#db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get() as number,
      }))
      .deferred();
    if (appId === 0 && version === 0) {
      if (tables > 0) {
        throw new PsmcError(
          'PSMC_CORRUPT',
          `${this.location} is a SQLite database, but not a psmc store (it has other tables).`,
          {
            hint: 'Point psmc at a store directory of its own; psmc never writes into foreign databases.',
          },
        );
      }
      return;
    }
    if (appId !== APPLICATION_ID) {
      throw new PsmcError(
        'PSMC_CORRUPT',
        `${this.location} is a SQLite database of another application (application_id ${appId}).`,
        {
          hint: 'Point psmc at a store directory of its own; psmc never writes into foreign databases.',
        },
      );
    }
    if (version > FORMAT_VERSION) {
      throw new PsmcError(
        'PSMC_FORMAT_TOO_NEW',
        `${this.location} has store format ${version}; this psmc reads format ${FORMAT_VERSION} and older.`,
        { hint: 'Upgrade psmc (and every client that writes this store) to a version that supports it.' },
      );
    }
  }

  #migrate(now: () => number): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current === FORMAT_VERSION) return;
    if (this.#readOnly) {
      throw new PsmcError(
        'PSMC_READ_ONLY',
        `${this.location} needs a format upgrade (${current} → ${FORMAT_VERSION}) but was opened read-only.`,
        {
          hint: 'Open it once for writing (any psmc write) to upgrade it.',
        },
      );
    }
    const run = this.#db.transaction(() => {
      // Re-read inside the lock: another process may have migrated meanwhile.
      let v = this.#db.pragma('user_version', { simple: true }) as number;
      if (v > FORMAT_VERSION) this.#checkForeign();
      for (; v < FORMAT_VERSION; v++) {
        const step = MIGRATIONS[v];
        if (step === undefined) throw new Error(`no migration from format ${v}`);
        this.#db.exec(step);
        if (v === 0) {
          this.#db
            .prepare('INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 0, ?, ?, ?)')
            .run(formatHlc(HLC_ZERO), globalThis.crypto.randomUUID(), new Date(now()).toISOString());
          this.#db.pragma(`application_id = ${APPLICATION_ID}`);
        }
        this.#db.pragma(`user_version = ${v + 1}`);
      }
    });
    run.immediate();
  }

  #ensureOpen(): void {
    if (this.#closed) {
      throw new PsmcError('PSMC_CLOSED', `The store at ${this.location} was closed.`, {
        hint: 'Open the store again; a handle cannot be used after close().',
      });
    }
  }

  dataVersion(): number {
    return this.#stmts.dataVersion.get() as number;
  }

  readState(): StoreState {
    const s = this.#stmts.state.get() as StoreState | undefined;
    if (s === undefined) {
      throw new PsmcError('PSMC_CORRUPT', `${this.location} has no state row.`, {
        hint: 'The store was damaged; restore it from a snapshot.',
      });
    }
    return s;
  }

  readRow(key: string): StoredRow | undefined {
    const r = this.#stmts.row.get(key) as RowRecord | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  listRows(prefix: string): StoredRow[] {
    this.#ensureOpen();
    // The full listing selects columns under StoredRow's names: no second object per row.
    if (prefix === '') return this.#stmts.listAll.all() as StoredRow[];
    return (this.#stmts.listPrefix.all({ p: prefix }) as RowRecord[]).map(toRow);
  }

  history(q: HistoryQuery): StoredChange[] {
    this.#ensureOpen();
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.key !== undefined) {
      params['p'] = q.key;
      where.push(q.prefix === true ? PREFIX_WHERE : 'key = @p');
    }
    if (q.afterRevision !== undefined) {
      where.push('revision > @after');
      params['after'] = q.afterRevision;
    }
    if (q.uptoRevision !== undefined) {
      where.push('revision <= @upto');
      params['upto'] = q.uptoRevision;
    }
    const order = q.ascending === true ? 'revision ASC, seq ASC' : 'revision DESC, seq DESC';
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
    const sql = `SELECT * FROM history${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${order}${limit}`;
    return (this.#db.prepare(sql).all(params) as ChangeRow[]).map(toChange);
  }

  keysChangedSince(revision: number, limit: number): string[] {
    return this.#stmts.keysSince.all(revision, limit + 1) as string[];
  }

  readSchema(): StoredSchema | undefined {
    return this.#stmts.schema.get() as StoredSchema | undefined;
  }

  /** How many conflict records history holds. */
  countConflicts(): number {
    try {
      return this.#stmts.conflicts.get() as number;
    } catch (e) {
      throw mapSqliteError(e, this.location);
    }
  }

  readMeta(name: string): string | undefined {
    return (this.#stmts.meta.get(name) as string | undefined) ?? undefined;
  }

  readAll(): { state: StoreState; rows: StoredRow[]; schema: StoredSchema | undefined } {
    this.#ensureOpen();
    // A deferred transaction that only reads: one consistent view, no write lock.
    return this.#db.transaction(() => ({
      state: this.readState(),
      rows: this.listRows(''),
      schema: this.readSchema(),
    }))();
  }

  /**
   * Applies a handle's durability and busy timeout to the shared connection
   * (one connection serves every handle of a process); cheap when unchanged.
   */
  configure(durability: 'full' | 'normal', busyTimeoutMs: number): void {
    if (durability !== this.#durability) {
      this.#db.pragma(`synchronous = ${durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.#durability = durability;
    }
    const ms = Math.max(0, Math.floor(busyTimeoutMs));
    if (ms !== this.#busyTimeoutMs) {
      this.#db.pragma(`busy_timeout = ${ms}`);
      this.#busyTimeoutMs = ms;
    }
  }

  write<T>(fn: (tx: WriteTx) => T): T {
    this.#ensureOpen();
    if (this.#readOnly) {
      throw new PsmcError('PSMC_READ_ONLY', `The store at ${this.location} was opened read-only.`, {
        hint: 'Open it without readOnly to write.',
      });
    }
    try {
      return this.#runWrite.immediate(fn) as T;
    } catch (e) {
      throw mapSqliteError(e, this.location);
    }
  }

  read<T>(fn: (tx: WriteTx) => T): T {
    this.#ensureOpen();
    try {
      // A deferred transaction (plain BEGIN): a snapshot for reading, no write lock.
      return this.#runRead.deferred(fn) as T;
    } catch (e) {
      throw mapSqliteError(e, this.location);
    }
  }

  checkIntegrity(): string[] {
    this.#ensureOpen();
    const rows = this.#db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
    return problems;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

/**
 * Switches the file to WAL and returns the journal mode it then has. Switching needs the file to
 * itself, and SQLite answers SQLITE_BUSY at once, without waiting on the busy handler, when another
 * process is opening the same new store: so retry until the busy timeout, as every other
 * statement waits. (Python and Rust do the same.)
 */
function enableWal(db: Database.Database, busyTimeoutMs: number): unknown {
  const deadline = Date.now() + Math.max(0, busyTimeoutMs);
  let pause = 1;
  for (;;) {
    try {
      return db.pragma('journal_mode = WAL', { simple: true });
    } catch (e) {
      const code = sqliteCode(e);
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() >= deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
      pause = Math.min(pause * 2, 50);
    }
  }
}

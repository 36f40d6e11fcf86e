/**
 * The raw better-sqlite3 baseline the bench compares psmc's set() and batch() against: psmc's table layout
 * (migrations.ts), WAL and synchronous=FULL, hand-written transactions, positional parameters as psmc's
 * adapter binds them.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../src/storage/sqlite/migrations.js';
import { msSince, now } from './common.js';

const UPSERT_SQL = `INSERT INTO entries (key, value, type, revision, updated_at, source) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, type = excluded.type, revision = excluded.revision,
    updated_at = excluded.updated_at, source = excluded.source`;
const HISTORY_SQL = `INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
  VALUES (?, ?, ?, 'set', ?, ?, ?, ?, NULL)`;

/** A raw better-sqlite3 database with psmc's table layout (migrations.ts), WAL and synchronous=FULL. */
export function openRaw(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(MIGRATIONS[0] as string);
  db.prepare("INSERT INTO state (id, revision, clock, store_id, created_at) VALUES (1, 0, '0', 'raw', '')").run();
  return db;
}

/** The raw baseline for set(): one hand-written transaction per op. */
export class RawBaseline {
  readonly db: Database.Database;
  #revision = 0;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #hist: Database.Statement;
  readonly #state: Database.Statement;

  constructor(file: string, keys: readonly string[]) {
    const db = openRaw(file);
    this.db = db;
    this.#upsert = db.prepare(UPSERT_SQL);
    this.#hist = db.prepare(HISTORY_SQL);
    this.#state = db.prepare('UPDATE state SET revision = ?, clock = ? WHERE id = 1');
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    // Populate like psmc's batch: one transaction, one revision, a history row per key.
    this.#revision = 1;
    const at = new Date().toISOString();
    db.transaction(() => {
      keys.forEach((key, seq) => {
        const value = String(seq);
        this.#upsert.run(key, value, 'number', 1, at, 'bench');
        this.#hist.run(1, seq, key, null, value, 'bench', at);
      });
    }).immediate();
  }

  synchronous(level: 'FULL' | 'NORMAL'): void {
    this.db.pragma(`synchronous = ${level}`);
  }

  /** BEGIN IMMEDIATE; UPSERT entry; INSERT history; [UPDATE state;] COMMIT. */
  set(key: string, value: string, withState = false): void {
    const revision = ++this.#revision;
    const at = new Date().toISOString();
    this.#begin.run();
    try {
      this.#upsert.run(key, value, 'number', revision, at, 'bench');
      this.#hist.run(revision, 0, key, null, value, 'bench', at);
      if (withState) this.#state.run(revision, at);
      this.#commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }
}

/** The raw baseline for batch(): one transaction; per key a row read (for the old value), an upsert and a history row. */
export function rawBatch(file: string, keys: readonly string[], value: (i: number) => unknown): number {
  const db = openRaw(file);
  const read = db.prepare('SELECT key, value, type, revision, updated_at, source FROM entries WHERE key = ?');
  const upsert = db.prepare(UPSERT_SQL);
  const hist = db.prepare(HISTORY_SQL);
  const state = db.prepare('UPDATE state SET revision = ?, clock = ? WHERE id = 1');
  const t0 = now();
  const at = new Date().toISOString();
  db.transaction(() => {
    keys.forEach((key, seq) => {
      const old = read.get(key) as { value: string } | undefined;
      const text = JSON.stringify(value(seq));
      upsert.run(key, text, 'object', 1, at, 'bench');
      hist.run(1, seq, key, old?.value ?? null, text, 'bench', at);
    });
    state.run(1, at);
  }).immediate();
  const ms = msSince(t0);
  db.close();
  return ms;
}

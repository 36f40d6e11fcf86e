/**
 * The SQLite adapter (spec/SPEC.md §storage.sqlite, §storage.format,
 * §storage.transactions, §paths file modes): layout, migrations, refusal of
 * foreign/newer/garbage files without modifying them, WAL, modes, busy.
 *
 * Reading the database bytes here is test-only: it proves that a refused file
 * was not modified.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { openStore, PsmcError, type PsmcErrorCode, type Store } from '../../src/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/adapter.js';
import { APPLICATION_ID, FORMAT_VERSION } from '../../src/storage/sqlite/migrations.js';

const WIN = process.platform === 'win32';
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');
const MODE_SKIP = WIN ? 'POSIX file modes do not exist on Windows (ACLs instead)' : false;

function tmp(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'psmc-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(t: TestContext, dir: string, extra: Record<string, unknown> = {}): Store {
  const s = openStore({ dir, env: {}, ...extra });
  t.after(() => s.close());
  return s;
}

function expectError(fn: () => unknown, code: PsmcErrorCode, messagePart?: string): PsmcError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof PsmcError,
    `expected PsmcError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`,
  );
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.hint.trim().length > 0);
  if (messagePart !== undefined)
    assert.ok(caught.message.includes(messagePart), `${caught.message} should include ${messagePart}`);
  return caught;
}

/** All bytes of the database and its side files. */
function filesOf(dbFile: string): Record<string, Buffer | null> {
  const out: Record<string, Buffer | null> = {};
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const f = dbFile + suffix;
    out[suffix || 'db'] = fs.existsSync(f) ? fs.readFileSync(f) : null;
  }
  return out;
}

function assertUnmodified(dbFile: string, before: Record<string, Buffer | null>): void {
  const after = filesOf(dbFile);
  for (const k of Object.keys(before)) {
    if (before[k] === null) assert.equal(after[k], null, `${k} was created`);
    else assert.ok(after[k]?.equals(before[k] as Buffer), `${k} was modified`);
  }
}

/** Open file descriptors of this process that point at `file` (Linux only). */
function openFds(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('layout and migration', () => {
  it('a new store gets user_version 2, application_id 0x50534d43, WAL, the spec tables and a zero state row', (t) => {
    const dir = tmp(t);
    const s = open(t, dir);
    s.set('a', 1);
    const db = new Database(path.join(dir, 'psmc.db'), { readonly: true });
    t.after(() => db.close());
    assert.equal(FORMAT_VERSION, 2);
    assert.equal(APPLICATION_ID, 0x50534d43);
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.equal(db.pragma('application_id', { simple: true }), 0x50534d43);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const objects = db
      .prepare("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .all();
    assert.deepEqual(objects, [
      { type: 'table', name: 'entries' },
      { type: 'table', name: 'history' },
      { type: 'index', name: 'history_by_key' },
      { type: 'table', name: 'meta' },
      { type: 'table', name: 'schema_doc' },
      { type: 'table', name: 'state' },
    ]);
    const state = db.prepare('SELECT * FROM state').all() as Array<Record<string, unknown>>;
    assert.equal(state.length, 1);
    assert.equal(state[0]?.['id'], 1);
    assert.equal(state[0]?.['revision'], 1);
    assert.match(
      String(state[0]?.['store_id']),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.deepEqual(db.prepare('SELECT key, value, type, revision, source FROM entries').all(), [
      { key: 'a', value: '1', type: 'integer', revision: 1, source: 'api' },
    ]);
  });

  it('the initial state row is (1, 0, zero clock, uuid, now)', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    const st = new SqliteStorage({ file, now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    st.close();
    const db = new Database(file, { readonly: true });
    t.after(() => db.close());
    const row = db.prepare('SELECT * FROM state').get() as Record<string, unknown>;
    assert.equal(row['revision'], 0);
    assert.equal(row['clock'], '1970-01-01T00:00:00.000Z-0000');
    assert.equal(row['created_at'], '2026-01-02T03:04:05.006Z');
  });

  it('two stores get different store ids', (t) => {
    const a = new SqliteStorage({ file: path.join(tmp(t), 'psmc.db') });
    const b = new SqliteStorage({ file: path.join(tmp(t), 'psmc.db') });
    assert.notEqual(a.readState().storeId, b.readState().storeId);
    a.close();
    b.close();
  });

  it('an empty (0-byte) file is a new store', (t) => {
    const dir = tmp(t);
    fs.writeFileSync(path.join(dir, 'psmc.db'), '');
    const s = open(t, dir);
    s.set('a', 1);
    assert.equal(s.get('a'), 1);
  });

  it('reopening an existing store keeps its data and does not migrate again', (t) => {
    const dir = tmp(t);
    const s = openStore({ dir, env: {} });
    s.set('a', 1);
    const id = new SqliteStorage({ file: path.join(dir, 'psmc.db') });
    const storeId = id.readState().storeId;
    id.close();
    s.close();
    const again = open(t, dir, { freshnessMs: 0 });
    assert.equal(again.get('a'), 1);
    const st = new SqliteStorage({ file: path.join(dir, 'psmc.db') });
    assert.equal(st.readState().storeId, storeId);
    st.close();
  });
});

describe('refusing files it must not touch', () => {
  function makeDb(file: string, setup: (db: Database.Database) => void): void {
    const db = new Database(file);
    setup(db);
    db.close();
  }

  it('user_version 99 with our application_id: PSMC_FORMAT_TOO_NEW, file unmodified', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    makeDb(file, (db) => {
      db.exec('CREATE TABLE future (x)');
      db.exec("INSERT INTO future VALUES ('data from the future')");
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma('user_version = 99');
    });
    const before = filesOf(file);
    const e = expectError(() => openStore({ dir, env: {} }), 'PSMC_FORMAT_TOO_NEW', file);
    assert.match(e.message, /99/);
    assertUnmodified(file, before);
    expectError(() => new SqliteStorage({ file }), 'PSMC_FORMAT_TOO_NEW');
    expectError(() => new SqliteStorage({ file, readOnly: true }), 'PSMC_FORMAT_TOO_NEW');
    assertUnmodified(file, before);
  });

  it('a foreign SQLite database with other tables: PSMC_CORRUPT, file unmodified', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    makeDb(file, (db) => {
      db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
      db.exec("INSERT INTO customers (name) VALUES ('Ada')");
    });
    const before = filesOf(file);
    const e = expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', file);
    assert.match(e.message, /not a psmc store/);
    // Also when the first access is a write through a handle opened earlier.
    assertUnmodified(file, before);
    expectError(() => new SqliteStorage({ file }), 'PSMC_CORRUPT');
    assertUnmodified(file, before);
  });

  it('a SQLite database of another application (other application_id): PSMC_CORRUPT, unmodified', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    makeDb(file, (db) => {
      db.pragma('application_id = 1234');
    });
    const before = filesOf(file);
    expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', '1234');
    assertUnmodified(file, before);
  });

  it('a file of random bytes: PSMC_CORRUPT naming the path, unmodified', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    for (const size of [100, 512, 4096, 65536]) {
      fs.writeFileSync(file, randomBytes(size));
      const before = filesOf(file);
      expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', file);
      assertUnmodified(file, before);
    }
  });

  it('a 1-byte garbage file is refused too, not overwritten by a new store (SQLite opens it as empty)', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    fs.writeFileSync(file, Buffer.from([0x42]));
    const before = filesOf(file);
    expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', file);
    assertUnmodified(file, before);
  });

  it('a text file where the database should be: PSMC_CORRUPT naming the path', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    fs.writeFileSync(file, '{"display.units": "metric"}\n'.repeat(50));
    const before = filesOf(file);
    expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', file);
    assertUnmodified(file, before);
  });

  it(
    'a refused open leaves no database connection behind',
    { skip: process.platform !== 'linux' ? 'uses /proc/self/fd' : false },
    (t) => {
      const dir = tmp(t);
      const file = path.join(dir, 'psmc.db');
      makeDb(file, (db) => db.exec('CREATE TABLE other (x)'));
      for (let i = 0; i < 3; i++) expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT');
      assert.equal(openFds(file), 0);
    },
  );

  it(
    'a store whose state row is missing: PSMC_CORRUPT, and no connection is leaked',
    { skip: process.platform !== 'linux' ? 'uses /proc/self/fd' : false },
    (t) => {
      const dir = tmp(t);
      const file = path.join(dir, 'psmc.db');
      new SqliteStorage({ file }).close();
      makeDb(file, (db) => db.exec('DELETE FROM state'));
      expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT', 'state');
      assert.equal(openFds(file), 0, 'the SQLite connection opened before the failure must be closed');
    },
  );

  it('after a refused open, a repaired file opens normally (nothing cached from the failure)', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    fs.writeFileSync(file, randomBytes(1000));
    expectError(() => openStore({ dir, env: {} }), 'PSMC_CORRUPT');
    fs.rmSync(file);
    const s = open(t, dir);
    s.set('a', 1);
    assert.equal(s.get('a'), 1);
  });

  it('readOnly on a missing database file: PSMC_STORE_NOT_FOUND, nothing created', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    expectError(() => new SqliteStorage({ file, readOnly: true }), 'PSMC_STORE_NOT_FOUND', file);
    assert.equal(fs.existsSync(file), false);
  });

  it('readOnly on an empty, unmigrated database: PSMC_READ_ONLY, unmodified', (t) => {
    const dir = tmp(t);
    const file = path.join(dir, 'psmc.db');
    fs.writeFileSync(file, '');
    expectError(() => new SqliteStorage({ file, readOnly: true }), 'PSMC_READ_ONLY');
    assert.equal(fs.statSync(file).size, 0);
  });
});

describe('file modes', { skip: MODE_SKIP }, () => {
  it('the created store directory is 0700, psmc.db and its -wal/-shm files are 0600', (t) => {
    const root = tmp(t);
    const dir = path.join(root, 'a', 'b', 'store');
    const old = process.umask(0o022);
    try {
      const s = open(t, dir);
      s.set('a', 1);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700, 'store dir');
      assert.equal(fs.statSync(path.join(root, 'a')).mode & 0o777, 0o700, 'created parent dirs');
      assert.equal(fs.statSync(path.join(dir, 'psmc.db')).mode & 0o777, 0o600, 'psmc.db');
      let checked = 0;
      for (const side of ['psmc.db-wal', 'psmc.db-shm']) {
        const f = path.join(dir, side);
        if (fs.existsSync(f)) {
          assert.equal(fs.statSync(f).mode & 0o777, 0o600, side);
          checked++;
        }
      }
      assert.ok(checked >= 1, 'WAL mode should have created the side files while the store is open');
    } finally {
      process.umask(old);
    }
  });

  it('modes hold even with a permissive umask (0000)', (t) => {
    const root = tmp(t);
    const dir = path.join(root, 'store');
    const old = process.umask(0);
    try {
      const s = open(t, dir);
      s.set('a', 1);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(dir, 'psmc.db')).mode & 0o777, 0o600);
      for (const side of ['psmc.db-wal', 'psmc.db-shm']) {
        const f = path.join(dir, side);
        if (fs.existsSync(f)) assert.equal(fs.statSync(f).mode & 0o777, 0o600, side);
      }
    } finally {
      process.umask(old);
    }
  });
});

describe('locking', () => {
  it('a writer blocked by another connection past busyTimeoutMs fails with PSMC_BUSY and changes nothing', (t) => {
    const dir = tmp(t);
    const s = open(t, dir, { busyTimeoutMs: 50, freshnessMs: 0 });
    s.set('k', 'before');
    const revision = s.revision();
    const historyLength = s.history().length;
    const other = new Database(path.join(dir, 'psmc.db'));
    t.after(() => {
      if (other.open) other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const e = expectError(() => s.set('k', 'after'), 'PSMC_BUSY', path.join(fs.realpathSync(dir), 'psmc.db'));
      assert.ok(Date.now() - started < 5000, 'the busy timeout is honoured');
      assert.match(e.hint, /busyTimeoutMs|Retry/);
      expectError(() => s.batch([{ op: 'set', key: 'x', value: 1 }]), 'PSMC_BUSY');
      expectError(() => s.undo(), 'PSMC_BUSY');
      expectError(() => s.setSchema({ keys: {} }), 'PSMC_BUSY');
      // Readers are not blocked by a writer in WAL mode.
      assert.equal(s.get('k'), 'before');
      assert.equal(s.exportData().entries['k']?.value, 'before');
    } finally {
      other.exec('ROLLBACK');
    }
    assert.equal(s.get('k'), 'before');
    assert.equal(s.revision(), revision);
    assert.equal(s.history().length, historyLength);
    // Once the lock is free, writes work again.
    s.set('k', 'after');
    assert.equal(s.get('k'), 'after');
  });

  it('a writer waits for a short lock instead of failing', async (t) => {
    const dir = tmp(t);
    const s = open(t, dir, { busyTimeoutMs: 10_000 });
    s.set('k', 1);
    // Hold the lock in a child process for ~100 ms; better-sqlite3 is synchronous, so a lock held
    // in this thread could never be released while we wait.
    const { spawn } = await import('node:child_process');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D=require(${JSON.stringify(BETTER_SQLITE3)});const db=new D(process.argv[1]);db.exec('BEGIN IMMEDIATE');process.stdout.write('locked\\n');setTimeout(()=>{db.exec('ROLLBACK');db.close();},150);`,
        path.join(dir, 'psmc.db'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('locked')) resolve();
      });
      holder.on('error', reject);
      holder.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    s.set('k', 2);
    assert.equal(s.get('k'), 2);
    await new Promise((r) => holder.on('close', r));
  });
});

describe('integrity', () => {
  it('checkIntegrity of a healthy store is empty', (t) => {
    const dir = tmp(t);
    const s = open(t, dir);
    for (let i = 0; i < 200; i++) s.set(`k${i}`, { i, text: 'x'.repeat(i) });
    s.batch(Array.from({ length: 50 }, (_, i) => ({ op: 'delete' as const, key: `k${i}` })));
    assert.deepEqual(s.checkIntegrity(), []);
    const st = new SqliteStorage({ file: path.join(dir, 'psmc.db') });
    assert.deepEqual(st.checkIntegrity(), []);
    st.close();
  });

  it('a closed adapter refuses with PSMC_CLOSED', (t) => {
    const st = new SqliteStorage({ file: path.join(tmp(t), 'psmc.db') });
    st.close();
    st.close();
    expectError(() => st.listRows(''), 'PSMC_CLOSED');
    expectError(() => st.write(() => 1), 'PSMC_CLOSED');
    expectError(() => st.checkIntegrity(), 'PSMC_CLOSED');
    expectError(() => st.readAll(), 'PSMC_CLOSED');
    expectError(() => st.history({}), 'PSMC_CLOSED');
  });

  it('a read-only adapter refuses writes with PSMC_READ_ONLY', (t) => {
    const file = path.join(tmp(t), 'psmc.db');
    new SqliteStorage({ file }).close();
    const st = new SqliteStorage({ file, readOnly: true });
    t.after(() => st.close());
    expectError(() => st.write(() => 1), 'PSMC_READ_ONLY');
  });

  it('an error thrown inside write() rolls everything back', (t) => {
    const file = path.join(tmp(t), 'psmc.db');
    const st = new SqliteStorage({ file });
    t.after(() => st.close());
    assert.throws(
      () =>
        st.write((tx) => {
          tx.putRow({
            key: 'a',
            value: '1',
            type: 'integer',
            revision: 1,
            updatedAt: '1970-01-01T00:00:00.000Z-0001',
            source: 'x',
          });
          tx.writeState(1, '1970-01-01T00:00:00.000Z-0001');
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(st.readRow('a'), undefined);
    assert.equal(st.readState().revision, 0);
  });

  it('listRows by prefix uses whole segments and byte order', (t) => {
    const file = path.join(tmp(t), 'psmc.db');
    const st = new SqliteStorage({ file });
    t.after(() => st.close());
    st.write((tx) => {
      for (const key of ['a', 'a.b', 'a.b.c', 'a-b', 'a_b', 'ab', 'a.B', 'b']) {
        tx.putRow({
          key,
          value: '1',
          type: 'integer',
          revision: 1,
          updatedAt: '1970-01-01T00:00:00.000Z-0001',
          source: 'x',
        });
      }
    });
    assert.deepEqual(
      st.listRows('a').map((r) => r.key),
      ['a', 'a.B', 'a.b', 'a.b.c'],
    );
    assert.deepEqual(
      st.listRows('a.b').map((r) => r.key),
      ['a.b', 'a.b.c'],
    );
    assert.deepEqual(
      st.listRows('').map((r) => r.key),
      ['a', 'a-b', 'a.B', 'a.b', 'a.b.c', 'a_b', 'ab', 'b'],
    );
  });
});

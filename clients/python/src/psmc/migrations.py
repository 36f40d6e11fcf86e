"""The SQLite table layout and its migrations (spec/SPEC.md §storage.sqlite, §storage.format;
TypeScript: src/storage/sqlite/migrations.ts — the SQL text here is identical)."""

#: The on-disk format this code reads and writes (``PRAGMA user_version``).
FORMAT_VERSION = 2

#: ``PRAGMA application_id``: "PSMC" in ASCII.
APPLICATION_ID = 0x50534D43

#: Each entry migrates from version ``index`` to ``index + 1``.
MIGRATIONS = [
    # 0 → 1: the first layout
    """
  CREATE TABLE state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    revision   INTEGER NOT NULL,
    clock      TEXT    NOT NULL,
    store_id   TEXT    NOT NULL,
    created_at TEXT    NOT NULL
  );
  CREATE TABLE entries (
    key        TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    source     TEXT    NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE history (
    revision   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    op         TEXT    NOT NULL CHECK (op IN ('set', 'delete', 'schema')),
    old_value  TEXT,
    new_value  TEXT,
    source     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    note       TEXT,
    PRIMARY KEY (revision, seq)
  ) WITHOUT ROWID;
  CREATE INDEX history_by_key ON history (key, revision);
  CREATE TABLE schema_doc (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    doc      TEXT    NOT NULL,
    revision INTEGER NOT NULL
  );
  """,
    # 1 → 2: the mirror's bookkeeping (meta) and conflict records in history.
    # SQLite cannot change a CHECK constraint in place, so history is rebuilt.
    """
  CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE history_v2 (
    revision   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    op         TEXT    NOT NULL CHECK (op IN ('set', 'delete', 'schema', 'conflict')),
    old_value  TEXT,
    new_value  TEXT,
    source     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    note       TEXT,
    PRIMARY KEY (revision, seq)
  ) WITHOUT ROWID;
  INSERT INTO history_v2 (revision, seq, key, op, old_value, new_value, source, at, note)
    SELECT revision, seq, key, op, old_value, new_value, source, at, note FROM history;
  DROP INDEX history_by_key;
  DROP TABLE history;
  ALTER TABLE history_v2 RENAME TO history;
  CREATE INDEX history_by_key ON history (key, revision);
  """,
]


def statements(script):
    """The statements of a migration script, one by one (``executescript`` would COMMIT first)."""
    return [s.strip() for s in script.split(";") if s.strip()]

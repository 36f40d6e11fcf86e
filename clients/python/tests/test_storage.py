"""The SQLite adapter and the store on disk: file modes, format checks, BEGIN IMMEDIATE under
contention across processes, PSMC_BUSY, and the read cache seeing other processes' commits."""
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time

import pytest

import psmc
from psmc import PsmcError, open_store

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))
POSIX = os.name == "posix"


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(not POSIX, reason="POSIX file modes")
def test_first_write_creates_dir_0700_and_files_0600(tmp_path):
    d = tmp_path / "a" / "b" / "store"
    old = os.umask(0o022)
    try:
        with open_store(dir=str(d), env={}) as s:
            assert not d.exists(), "opening never creates the store"
            assert s.get("x") is None
            assert not d.exists(), "reads never create the store"
            s.set("x", 1)
            assert _mode(d) == 0o700
            assert _mode(d / "psmc.db") == 0o600
            for extra in ("psmc.db-wal", "psmc.db-shm"):
                if (d / extra).exists():
                    assert _mode(d / extra) == 0o600
    finally:
        os.umask(old)


def test_failed_write_does_not_create_the_store(tmp_path):
    d = tmp_path / "s"
    with open_store(dir=str(d), env={}) as s:
        with pytest.raises(PsmcError) as e:
            s.set("a", 1, expect_revision=3)
        assert e.value.code == "PSMC_CONFLICT"
        with pytest.raises(PsmcError) as e:
            s.undo()
        assert e.value.code == "PSMC_NOTHING_TO_UNDO"
        with pytest.raises(PsmcError):
            s.set("a..b", 1)
    assert not d.exists()


@pytest.mark.parametrize("size", [1, 100, 511])
def test_short_file_is_corrupt(tmp_path, size):
    (tmp_path / "psmc.db").write_bytes(b"x" * size)
    with pytest.raises(PsmcError) as e:
        open_store(dir=str(tmp_path), env={})
    assert e.value.code == "PSMC_CORRUPT"
    assert (tmp_path / "psmc.db").read_bytes() == b"x" * size


def test_wal_synchronous_and_layout(tmp_path):
    with open_store(dir=str(tmp_path), env={}, durability="normal") as s:
        s.set("a", 1)
    con = sqlite3.connect(str(tmp_path / "psmc.db"))
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x50534D43
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
        state = con.execute("SELECT revision, clock, store_id, created_at FROM state").fetchone()
        assert state[0] == 1
        assert len(state[2]) == 36 and state[2][14] == "4"
        assert state[3].endswith("Z")
    finally:
        con.close()


def test_python_sqlite_opens_deferred_by_default_but_adapter_uses_immediate(tmp_path):
    """Every write transaction starts with BEGIN IMMEDIATE (traced)."""
    from psmc.storage import SqliteStorage

    st = SqliteStorage(str(tmp_path / "psmc.db"))
    seen = []
    st._db.set_trace_callback(seen.append)
    st.write(lambda tx: tx.write_state(0, "1970-01-01T00:00:00.000Z-0000"))
    st.close()
    assert "BEGIN IMMEDIATE" in seen and "COMMIT" in seen


HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.execute("ROLLBACK")
    """
)


def test_busy_when_the_lock_is_held_past_the_timeout(tmp_path):
    with open_store(dir=str(tmp_path), env={}, busy_timeout_ms=200) as s:
        s.set("a", 1)
        p = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "psmc.db"), "3"], stdout=subprocess.PIPE)
        try:
            assert p.stdout.readline().strip() == b"locked"
            t0 = time.monotonic()
            with pytest.raises(PsmcError) as e:
                s.set("a", 2)
            waited = time.monotonic() - t0
            assert e.value.code == "PSMC_BUSY"
            assert e.value.exit_code == 6
            assert 0.15 <= waited < 2.5
        finally:
            p.kill()
            p.wait()
        assert s.get("a") == 1, "a failed write changes nothing"
        assert s.revision() == 1
        s.set("a", 3)
        assert s.get("a") == 3


INCREMENT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from psmc import open_store, PsmcError
    store = open_store(dir=sys.argv[2], env={}, source="worker-" + sys.argv[3], busy_timeout_ms=30000, durability="normal")
    done = retries = 0
    while done < int(sys.argv[4]):
        r = store.resolve("counter")
        current = r.value if r.found else 0
        try:
            store.set("counter", current + 1, expect_revision=r.revision)
            done += 1
        except PsmcError as e:
            if e.code != "PSMC_CONFLICT":
                raise
            retries += 1
    store.close()
    print(retries)
    """
)


def test_four_processes_cas_increment_without_losing_one(tmp_path):
    workers, each = 4, 200
    d = str(tmp_path / "store")
    with open_store(dir=d, env={}) as s:
        s.set("counter", 0)
    procs = [
        subprocess.Popen([sys.executable, "-c", INCREMENT, SRC, d, str(i), str(each)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(workers)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
    with open_store(dir=d, env={}) as s:
        assert s.get("counter") == workers * each
        assert s.revision() == 1 + workers * each
        hist = s.history("counter")
        assert len(hist) == 1 + workers * each
        revs = [h.revision for h in hist]
        assert revs == sorted(revs, reverse=True) and len(set(revs)) == len(revs)
        ats = [h.at for h in reversed(hist)]
        assert ats == sorted(ats) and len(set(ats)) == len(ats), "HLC timestamps strictly increase"
        assert s.check_integrity() == []


CREATE = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from psmc import open_store
    d, start = sys.argv[2], float(sys.argv[3])
    store = open_store(dir=d, env={})  # lazy: creates nothing
    while time.time() < start:
        pass
    store.set("k" + sys.argv[4], 1)
    store.close()
    """
)


def test_processes_creating_one_fresh_store_at_once_never_see_a_foreign_database(tmp_path):
    # The foreign-database check once read application_id, user_version and the table count one
    # by one: a creation committed by another process between those reads looked like another
    # program's tables (PSMC_CORRUPT). The workers spin until a shared start time, so their first
    # writes (which create the store) land together.
    workers = 4
    for round_ in range(4):
        d = str(tmp_path / ("store%d" % round_))
        start = time.time() + 1.0
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CREATE, SRC, d, repr(start), str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for i in range(workers)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, "round %d: %s" % (round_, err.decode())
        with open_store(dir=d, env={}) as s:
            assert sorted(s.all()) == ["k%d" % i for i in range(workers)]
            assert s.check_integrity() == []


def test_reads_see_other_processes_commits(tmp_path):
    d = str(tmp_path)
    with open_store(dir=d, env={}, freshness_ms=0) as s:
        s.set("a", 1)
        assert s.get("a") == 1
        code = "import sys; sys.path.insert(0, %r); from psmc import open_store; open_store(dir=%r, env={}).set('a', 2)" % (SRC, d)
        subprocess.check_call([sys.executable, "-c", code])
        assert s.get("a") == 2
        assert s.resolve("a").revision == 2


def test_handles_in_one_process_share_writes(tmp_path):
    d = str(tmp_path)
    a = open_store(dir=d, env={})
    b = open_store(dir=d, env={}, freshness_ms=10000)
    try:
        a.set("k", "v1")
        assert b.get("k") == "v1"
        b.set("k", "v2")
        assert a.get("k") == "v2"
    finally:
        a.close()
        b.close()


def test_closed_handle(tmp_path):
    s = open_store(dir=str(tmp_path), env={})
    s.close()
    s.close()
    with pytest.raises(PsmcError) as e:
        s.get("a")
    assert e.value.code == "PSMC_CLOSED"


def test_values_returned_are_copies(tmp_path):
    with open_store(dir=str(tmp_path), env={}) as s:
        s.set("obj", {"a": [1, 2]})
        v = s.get("obj")
        v["a"].append(3)
        assert s.get("obj") == {"a": [1, 2]}


def test_lazy_package_import():
    code = "import sys, psmc; assert 'sqlite3' not in sys.modules and 'psmc.store' not in sys.modules; psmc.open_store; assert 'psmc.store' in sys.modules"
    subprocess.check_call([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC))


_FORMAT_1 = """
PRAGMA application_id = 1347636547;
CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL, clock TEXT NOT NULL,
  store_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE entries (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, type TEXT NOT NULL,
  revision INTEGER NOT NULL, updated_at TEXT NOT NULL, source TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE history (revision INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('set', 'delete', 'schema')), old_value TEXT, new_value TEXT,
  source TEXT NOT NULL, at TEXT NOT NULL, note TEXT, PRIMARY KEY (revision, seq)) WITHOUT ROWID;
CREATE INDEX history_by_key ON history (key, revision);
CREATE TABLE schema_doc (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL, revision INTEGER NOT NULL);
INSERT INTO state VALUES (1, 2, '2026-01-01T00:00:00.001Z-0000', 'b5e1c7a2-0000-4000-8000-000000000001',
  '2026-01-01T00:00:00.000Z');
INSERT INTO entries VALUES ('a', '2', 'integer', 2, '2026-01-01T00:00:00.001Z-0000', 'cli');
INSERT INTO history VALUES (1, 0, 'a', 'set', NULL, '1', 'cli', '2026-01-01T00:00:00.000Z-0000', NULL);
INSERT INTO history VALUES (2, 0, 'a', 'set', '1', '2', 'cli', '2026-01-01T00:00:00.001Z-0000', 'n');
PRAGMA user_version = 1;
"""


def test_format_1_store_is_migrated_to_format_2(tmp_path):
    db = tmp_path / "psmc.db"
    con = sqlite3.connect(str(db))
    con.executescript(_FORMAT_1)
    con.close()
    with open_store(dir=str(tmp_path), env={}) as s:
        assert s.get("a") == 2
        assert [(r.revision, r.old_value, r.new_value, r.note) for r in s.history("a")] == [
            (2, 1, 2, "n"),
            (1, None, 1, None),
        ]
    con = sqlite3.connect(str(db))
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master ORDER BY name")]
        assert "meta" in names and "history_v2" not in names and "history_by_key" in names
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'history'").fetchone()[0]
        assert "'conflict'" in sql
        # The rebuilt table takes conflict records.
        con.execute(
            "INSERT INTO history VALUES (3, 0, 'a', 'conflict', '5', '2', 'file', '2026-01-01T00:00:00.002Z-0000', NULL)"
        )
        con.commit()
    finally:
        con.close()


def test_new_store_has_the_format_2_ddl_of_the_reference(tmp_path):
    """The DDL is the TypeScript text (src/storage/sqlite/migrations.ts), so sqlite_master matches."""
    from psmc.migrations import MIGRATIONS, statements

    with open_store(dir=str(tmp_path), env={}) as s:
        s.set("a", 1)
    ref = sqlite3.connect(":memory:")
    for m in MIGRATIONS:
        for stmt in statements(m):
            ref.execute(stmt)
    con = sqlite3.connect(str(tmp_path / "psmc.db"))
    try:
        q = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        assert con.execute(q).fetchall() == ref.execute(q).fetchall()
    finally:
        con.close()
        ref.close()


def test_conflict_records_are_listed_and_skipped_by_undo(tmp_path):
    from psmc.engine import ConflictNote, commit_changes, prepare_changes

    with open_store(dir=str(tmp_path), env={}, source="t") as s:
        s.set("a", 1)
        s.set("b", 1)
    from psmc.storage import SqliteStorage

    st = SqliteStorage(str(tmp_path / "psmc.db"))
    try:
        prepared = prepare_changes([{"op": "set", "key": "b", "value": 2}])
        note = ConflictNote("a", "9", "1", "file", "lost to the store")
        r = st.write(lambda tx: commit_changes(tx, prepared, 1767225600000, "file", lambda tx: None, None, [note]))
        assert r.revision == 3 and [(c.key, c.op, c.seq) for c in r.records] == [("b", "set", 0), ("a", "conflict", 1)]
        # A commit of conflict records alone takes a revision too.
        r = st.write(lambda tx: commit_changes(tx, [], 1767225600000, "file", lambda tx: None, None, [note]))
        assert r.revision == 4 and [c.op for c in r.records] == ["conflict"]
    finally:
        st.close()
    with open_store(dir=str(tmp_path), env={}, source="t") as s:
        h = s.history("a")
        assert [(c.revision, c.op, c.old_value, c.new_value, c.source, c.note) for c in h[:2]] == [
            (4, "conflict", 9, 1, "file", "lost to the store"),
            (3, "conflict", 9, 1, "file", "lost to the store"),
        ]
        # Undo of a conflict-only revision changes nothing.
        c = s.undo()
        assert c.changes == [] and s.get("a") == 1
        # Undo of revision 3 reverts b only; a keeps its value.
        c = s.undo(revision=3)
        assert [(x.key, x.op) for x in c.changes] == [("b", "set")]
        assert s.get("b") == 1 and s.get("a") == 1

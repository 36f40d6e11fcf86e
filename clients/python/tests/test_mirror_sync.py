"""The mirror protocol in Python (spec/sections/mirror-sync.md): exports after commits (atomic,
comment-keeping, one rewrite per batch, flushed at close and at exit), hand edits imported on
open, before writes and on reads, the 3-way merge with conflicts kept in history, invalid edits
refused and recorded without touching the file, deleted and emptied files, format switches."""
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

import psmc
from psmc import PsmcError
from psmc.mirror import engine

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))
HEADER = "// psmc mirror v1: edit freely; saved changes merge into the store. Docs: spec/sections/mirror-format.md\n"


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def read(p):
    with open(p, "rb") as f:
        return f.read().decode("utf-8")


def save(p, text, age_s=5.0):
    """Writes a hand edit whose mtime lies ``age_s`` in the past (settled: not mid-save)."""
    with open(p, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    t = time.time() - age_s
    os.utime(p, (t, t))


def meta(d):
    db = sqlite3.connect(os.path.join(str(d), "psmc.db"))
    try:
        return dict(db.execute("SELECT name, value FROM meta").fetchall())
    finally:
        db.close()


def test_set_exports_the_canonical_file_with_bookkeeping(tmp_path):
    with open_(tmp_path) as s:
        s.set("b", {"x": [1, 2]})
        s.set("a.b", "metric")
    f = tmp_path / "config.json"
    assert read(f) == HEADER + '{\n  "a.b": "metric",\n  "b": {\n    "x": [\n      1,\n      2\n    ]\n  }\n}\n'
    assert stat.S_IMODE(os.stat(str(f)).st_mode) == 0o600
    m = meta(tmp_path)
    import hashlib

    assert m["mirror.revision"] == "2"
    assert m["mirror.hash"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert m["mirror.size"] == str(f.stat().st_size) and m["mirror.mtime"] == str(f.stat().st_mtime_ns // 1000000)
    assert not [n for n in os.listdir(str(tmp_path)) if ".psmc-tmp-" in n]


def test_a_batch_is_one_rewrite_and_a_burst_is_coalesced(tmp_path, monkeypatch):
    renames = []
    real = engine.commit_temp
    monkeypatch.setattr(engine, "commit_temp", lambda tmp, target: (renames.append(target), real(tmp, target)))
    with open_(tmp_path) as s:
        s.set("first", 0)  # creates the file (a full export, not counted)
        renames.clear()
        engine_m = s._write.shared.mirror
        engine_m._last_export = float("-inf")
        s.batch([{"op": "set", "key": "k%d" % i, "value": i} for i in range(50)])
        assert len(renames) == 1
        renames.clear()
        for i in range(200):
            s.set("burst", i)
        # One export now and then (the interval), not one per write; the rest is pending until close.
        assert len(renames) < 50
    assert json.loads(read(tmp_path / "config.json").split("\n", 1)[1])["burst"] == 199


def test_a_pending_export_is_flushed_at_interpreter_exit(tmp_path):
    code = (
        "import psmc\n"
        "s = psmc.open_store(dir=%r, env={})\n"
        "for i in range(100): s.set('n', i)\n"
        "import os; os._exit(0) if False else None\n" % str(tmp_path)
    )
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"n": 99' in read(tmp_path / "config.json")
    with open_(tmp_path) as s:
        assert s.status()["mirror"]["state"] == "in-sync"


def test_span_edits_keep_comments_and_layout(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.set("b", 2)
    f = tmp_path / "config.json"
    save(str(f), HEADER + '{\n  // the answer\n  "a": 1,\n\n  /* keep */ "b": 2 // trailing\n}\n')
    with open_(tmp_path) as s:
        s.set("b", 3)
        s.set("c", [True])
        s.delete("a")
    text = read(f)
    assert "// the answer" in text and '/* keep */ "b": 3' in text and "// trailing" in text  # bytes: test_ts_parity
    assert '"a"' not in text and json.loads(text.split("\n", 1)[1].replace("// the answer", "").replace("/* keep */", "")
                                            .replace("// trailing", "")) == {"b": 3, "c": [True]}


@pytest.mark.parametrize("when", ["open", "get", "set"])
def test_a_hand_edit_is_imported_with_source_file(tmp_path, when):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.set("gone", True)
        s.flush()  # the second set came within the export interval: write it out now
        f = s.mirror_file
        if when == "open":
            s.close()
        save(f, HEADER + '{\n  "a": 2,\n  "new.key": "x" // added by hand\n}\n')
        if when == "get":
            s._write.shared._last_check = float("-inf")
            s._write.shared._last_mirror_check = float("-inf")
            assert s.get("a") == 2
        elif when == "set":
            s.set("other", 0)
    with open_(tmp_path) as s:
        assert s.all() == ({"a": 2, "new.key": "x"} if when != "set" else {"a": 2, "new.key": "x", "other": 0})
        h = s.history(since_revision=2, until_revision=3)
        assert {(r.key, r.op, r.source) for r in h} == {("a", "set", "file"), ("gone", "delete", "file"), ("new.key", "set", "file")}
        assert len({r.revision for r in h}) == 1, "one import is one commit"
    assert "// added by hand" in read(f)


def _both_sides_changed(s, theirs_age_s):
    """k: "base" in the file and the database; then "ours" in the database (export held back) and
    "theirs" in the file."""
    s.set("k", "base")
    s.flush()
    m = s._write.shared.mirror
    m._last_export = time.monotonic() + 3600  # hold the next export back
    s.set("k", "ours", source="gui")
    assert m.pending
    f = s.mirror_file
    save(f, read(f).replace('"base"', '"theirs"'), age_s=theirs_age_s)
    m._last_export = float("-inf")
    return f


def test_conflict_file_newer_wins_and_the_store_value_is_kept_in_history(tmp_path):
    with open_(tmp_path, clock=lambda: 1_000_000) as s:  # the database's changes are from 1970
        _both_sides_changed(s, 1)
        s.sync_mirror()
        assert s.get("k") == "theirs"
        c = [r for r in s.history("k") if r.op == "conflict"]
        assert len(c) == 1 and c[0].old_value == "ours" and c[0].new_value == "theirs" and c[0].source == "gui"
        assert c[0].note == "lost to a hand edit of config.json"
        assert s.history("k")[0].source == "file" or s.history("k")[1].source == "file"
        assert s.status()["conflicts"] == 1


def test_conflict_store_newer_wins_and_the_file_is_corrected(tmp_path):
    future = int(time.time() * 1000) + 3_600_000
    with open_(tmp_path, clock=lambda: future) as s:
        f = _both_sides_changed(s, 5)
        s.sync_mirror()
        assert s.get("k") == "ours"
        c = [r for r in s.history("k") if r.op == "conflict"]
        assert len(c) == 1 and c[0].old_value == "theirs" and c[0].new_value == "ours" and c[0].source == "file"
        assert c[0].note == "hand edit of config.json lost to a later change"
    assert '"k": "ours"' in read(f)


@pytest.mark.parametrize(
    "text,code,line,column",
    [
        ('{\n  "a": 1,\n  "b": \n}\n', "PSMC_PARSE", 4, 1),
        ('{\n  "a": 1,\n  "bad key": 2\n}\n', "PSMC_KEY_SYNTAX", 3, 3),
    ],
)
def test_an_invalid_edit_is_refused_recorded_and_never_overwritten(tmp_path, text, code, line, column):
    with open_(tmp_path) as s:
        s.set("a", 1)
        f = s.mirror_file
    save(f, text)
    with open_(tmp_path) as s:
        assert s.get("a") == 1  # reads go on from the database
        st = s.status()["mirror"]
        assert st["state"] == "invalid-edit"
        e = st["error"]
        assert e["code"] == code and e["line"] == line and e["column"] == column and e["file"] == f
        assert e["message"].startswith("%s:%d:%d: " % (f, line, column)) and "psmc status" in e["hint"]
        s.set("a", 5)  # writes go on too, and do not overwrite the user's file
        assert s.get("a") == 5
        assert s.sync_mirror()["error"]["code"] == code if "error" in s.sync_mirror() else True
    assert read(f) == text
    # The TypeScript CLI reads the same record.
    node = _node()
    if node is not None:
        r = subprocess.run([node, PSMC_CJS, "status", "--store", str(tmp_path), "--json"], capture_output=True, text=True)
        assert json.loads(r.stdout)["mirror"]["error"]["line"] == line
    # Fixed: imported, then the pending change exported around the user's text.
    save(f, '{\n  "a": 5,\n  "b": 2\n}\n')
    with open_(tmp_path) as s:
        assert s.get("b") == 2 and s.status()["mirror"]["state"] == "in-sync"
        assert "error" not in s.status()["mirror"]


def test_a_schema_violation_in_the_file_names_the_key_and_its_line(tmp_path):
    with open_(tmp_path) as s:
        s.set_schema({"version": 1, "keys": {"port": {"type": "integer", "maximum": 65535}}})
        s.set("port", 80)
        f = s.mirror_file
    save(f, HEADER + '{\n  "port": 99999\n}\n')
    with open_(tmp_path) as s:
        assert s.get("port") == 80
        e = s.status()["mirror"]["error"]
        assert e["code"] == "PSMC_SCHEMA_VIOLATION" and e["key"] == "port" and e["line"] == 3


def test_non_utf8_is_refused_with_the_place_of_the_bad_byte(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", "x")
        f = s.mirror_file
    with open(f, "wb") as fh:
        fh.write(b'{\n  "a": "caf\xe9"\n}\n')
    os.utime(f, (1, 1))
    with open_(tmp_path) as s:
        e = s.status()["mirror"]["error"]
        assert e["code"] == "PSMC_PARSE" and e["line"] == 2 and e["column"] == 12 and "UTF-8" in e["message"]


def test_deleting_the_file_regenerates_it_and_an_empty_file_waits(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        f = s.mirror_file
    os.unlink(f)
    with open_(tmp_path) as s:
        assert s.get("a") == 1
    assert '"a": 1' in read(f)
    save(f, "  \n", age_s=0)
    with open_(tmp_path) as s:
        assert s.sync_mirror().get("retryInMs", 0) > 0
        assert s.get("a") == 1
    assert read(f) == "  \n"
    save(f, "\n", age_s=10)  # empty for longer than the grace period: regenerated, nothing deleted
    with open_(tmp_path) as s:
        assert s.get("a") == 1
    assert '"a": 1' in read(f)
    save(f, "{}\n")  # an empty document deletes every key
    with open_(tmp_path) as s:
        assert s.all() == {}


def test_a_file_mid_save_is_not_imported_yet(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        f = s.mirror_file
        save(f, '{"a": 2}', age_s=0)
        r = s.sync_mirror()
        assert r["retryInMs"] > 0 and s.get("a") == 1
        time.sleep(0.05)
        assert s.sync_mirror() == {} and s.get("a") == 2


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_format_switch_and_edits_in_toml_and_yaml(tmp_path, fmt):
    with open_(tmp_path) as s:
        s.set("a.b", "x")
        s.set_mirror_format(fmt)
        f = s.mirror_file
        assert f.endswith("config." + fmt) and os.path.exists(f)
        assert s.status()["mirror"]["format"] == fmt
    text = read(f)
    edited = text + ("# mine\n\"n\" = 1\n" if fmt == "toml" else "# mine\nn: 1\n")
    save(f, edited)
    with open_(tmp_path) as s:
        assert s.get("n") == 1
        s.set("z", True)
    assert "# mine" in read(f)
    assert os.path.exists(str(tmp_path / "config.json")), "the old format's file stays"


def test_read_only_handles_and_mirror_false_never_touch_the_file(tmp_path):
    with open_(tmp_path, mirror=False) as s:
        s.set("a", 1)
    assert not os.path.exists(str(tmp_path / "config.json"))
    with open_(tmp_path, read_only=True) as s:
        assert s.get("a") == 1
    assert not os.path.exists(str(tmp_path / "config.json"))
    with open_(tmp_path) as s:
        assert s.get("a") == 1
    assert '"a": 1' in read(str(tmp_path / "config.json"))


def test_stale_temp_files_are_swept_on_open(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
    old = tmp_path / ".config.json.psmc-tmp-999-deadbeef"
    old.write_text("partial")
    os.utime(str(old), (1, 1))
    fresh = tmp_path / ".config.json.psmc-tmp-998-deadbeef"
    fresh.write_text("in progress")
    with open_(tmp_path):
        pass
    assert not old.exists() and fresh.exists()


def test_a_store_error_during_export_is_kept_for_status_and_retried(tmp_path, monkeypatch):
    with open_(tmp_path) as s:
        s.set("a", 1)

        def fail(tmp, target):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(engine, "commit_temp", fail)
        s._write.shared.mirror._last_export = float("-inf")
        s.set("a", 2)  # the commit stands; the export failed and stays pending
        assert s.get("a") == 2
        assert "No space" in s.status()["mirror"]["syncError"]
        assert s.status()["mirror"]["state"] == "pending-export"
        monkeypatch.undo()
    assert '"a": 2' in read(str(tmp_path / "config.json"))
    assert not [n for n in os.listdir(str(tmp_path)) if ".psmc-tmp-" in n]


def test_two_handles_and_processes_share_one_bookkeeping(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
    code = "import psmc\nwith psmc.open_store(dir=%r, env={}) as s: s.set('b', 2)\n" % str(tmp_path)
    subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC), check=True)
    with open_(tmp_path) as s:
        assert s.status()["mirror"]["state"] == "in-sync"
        assert s.all() == {"a": 1, "b": 2}
    assert '"b": 2' in read(str(tmp_path / "config.json"))


# -- helpers shared with the TypeScript comparison ----------------------------------------------

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PSMC_CJS = os.path.join(ROOT, "bin", "psmc.cjs")


def _node():
    import shutil

    node = shutil.which("node")
    if node is None or not os.path.exists(os.path.join(ROOT, "dist", "src", "index.js")):
        return None
    return node


def test_the_get_hot_path_keeps_the_freshness_bound_and_hands_out_copies(tmp_path):
    with open_(tmp_path, freshness_ms=5) as s:
        s.set("a", 1)
        s.set("o", {"x": [1]})
        assert s.get("a") == 1 and s._fast is not None
        code = "import psmc\nwith psmc.open_store(dir=%r, env={}) as s: s.set('a', 2)\n" % str(tmp_path)
        subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC), check=True)
        time.sleep(0.02)
        assert s.get("a") == 2
        o = s.get("o")
        o["x"].append(2)
        assert s.get("o") == {"x": [1]}
    with open_(tmp_path, env={"PSMC_A": "7"}) as s:
        assert s._fast is None and s.get("a") == 7  # an env value: no hot path
    with open_(tmp_path, overrides={"a": 9}) as s:
        assert s.get("a") == 9
    s = open_(tmp_path)
    s.get("a")
    s.close()
    with pytest.raises(PsmcError) as e:
        s.get("a")
    assert e.value.code == "PSMC_CLOSED"

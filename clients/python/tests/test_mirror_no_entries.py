"""A mirror file that parses as a document with no entries (spec/sections/mirror-sync.md
§mirror.detect): while the base (the values at mirror.revision) has a key it is waited on like an
empty file -- an in-place save cut inside the header comment looks exactly like this -- and imported
only once it has stayed unchanged for EMPTY_GRACE_MS. Over an empty base it imports at once. Real
files; the file's age is set by backdating its mtime (os.utime)."""
import os
import time

import pytest

import psmc
from psmc.mirror.engine import EMPTY_GRACE_MS, SETTLE_MS

NO_ENTRIES = {
    "json": ["{}\n", "// cleared by hand\n{ }\n"],
    "toml": ["# only a comment\n", "\n# psmc mirror\n# another comment line\n"],
    "yaml": ["# only a comment\n", "\n# psmc mirror\n\n# another comment line\n"],
}
CASES = [(fmt, text) for fmt, texts in NO_ENTRIES.items() for text in texts]


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def save(p, text, age_ms):
    """Writes ``text`` to ``p`` with its mtime ``age_ms`` in the past."""
    with open(p, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    backdate(p, age_ms)


def backdate(p, age_ms):
    t = time.time() - age_ms / 1000.0
    os.utime(p, (t, t))


def read(p):
    with open(p, "rb") as f:
        return f.read().decode("utf-8")


def file_deletes(s, key):
    return [h for h in s.history(key) if h.op == "delete" and h.source == "file"]


@pytest.mark.parametrize("fmt,text", CASES)
def test_no_entries_over_a_base_with_keys_waits_for_the_grace_then_imports(tmp_path, fmt, text):
    with open_(tmp_path) as s:
        s.set_mirror_format(fmt)
        s.set("a", 1)
        s.set("b.c", "two")
        s.sync_mirror()
        f = s.mirror_file
        save(f, text, SETTLE_MS + 200)
        early = s.sync_mirror()
        assert "error" not in early, early
        assert 0 < early["retryInMs"] <= EMPTY_GRACE_MS - SETTLE_MS - 200
        assert s.all() == {"a": 1, "b.c": "two"}
        assert s.status()["mirror"]["state"] == "pending-import"
        assert read(f) == text  # left as written
        s.set("during", 1)  # a write during the grace is kept, and survives the import
        assert s.all() == {"a": 1, "b.c": "two", "during": 1}
        backdate(f, EMPTY_GRACE_MS + 500)
        late = s.sync_mirror()
        assert "error" not in late and "retryInMs" not in late, late
        assert s.all() == {"during": 1}
        for key in ("a", "b.c"):
            assert len(file_deletes(s, key)) == 1, key
        assert s.status()["mirror"]["state"] != "invalid-edit"
    with open_(tmp_path) as s:
        assert s.all() == {"during": 1}


@pytest.mark.parametrize("fmt", sorted(NO_ENTRIES))
def test_no_entries_over_an_empty_base_imports_at_once(tmp_path, fmt):
    with open_(tmp_path) as s:
        s.set_mirror_format(fmt)  # creates the store, with an empty mirror file
        s.sync_mirror()
        f = s.mirror_file
        text = NO_ENTRIES[fmt][0]
        save(f, text, SETTLE_MS + 200)
        r = s.sync_mirror()
        assert "error" not in r and "retryInMs" not in r, r
        assert s.status()["mirror"]["state"] == "in-sync"
        assert read(f) == text
        assert s.all() == {}


@pytest.mark.parametrize("fmt", sorted(NO_ENTRIES))
def test_no_entries_over_a_base_whose_keys_were_deleted_since_still_waits(tmp_path, fmt):
    with open_(tmp_path) as s:
        s.set_mirror_format(fmt)
        s.set("a", 1)
        s.sync_mirror()
        f = s.mirror_file
        save(f, NO_ENTRIES[fmt][0], SETTLE_MS + 200)
        s.delete("a")
        assert s.sync_mirror()["retryInMs"] > 0  # the base is the last export, which had a key
        backdate(f, EMPTY_GRACE_MS + 500)
        assert s.sync_mirror() == {}
        assert s.status()["mirror"]["state"] == "in-sync"
        assert s.all() == {}
        assert file_deletes(s, "a") == []  # deleted by the program, not by the file


def test_a_header_only_prefix_of_an_in_place_save_is_not_imported_before_the_grace(tmp_path):
    """The hazard in docs/mirror.md, "Editors that write in place": the first write of an in-place
    save ends inside the header comment and the writer stalls past SETTLE_MS."""
    with open_(tmp_path) as s:
        s.set_mirror_format("toml")
        s.set("a", 1)
        s.set("b", "two")
        s.sync_mirror()
        f = s.mirror_file
        full = read(f).replace('"a" = 1', '"a" = 42')
        header_end = full.index("\n") + 1
        assert full[:header_end].startswith("#")
        with open(f, "w", encoding="utf-8", newline="") as out:
            out.write(full[: header_end // 2])
            out.flush()
            backdate(f, 1000)  # stalled for a second: older than SETTLE_MS, younger than the grace
            r = s.sync_mirror()
            assert r["retryInMs"] > 0 and "error" not in r, r
            assert s.all() == {"a": 1, "b": "two"}
            out.write(full[header_end // 2 :])
        backdate(f, 200)
        assert "error" not in s.sync_mirror()
        assert s.all() == {"a": 42, "b": "two"}
        assert file_deletes(s, "a") == [] and file_deletes(s, "b") == []

"""Automatic snapshots taken by the Python client (§snapshot.auto): before a hand edit of the mirror
is imported, before import_data and drop-folder imports, every `every` revisions, rotated to `keep`;
manual ones never rotated; the files are read (and restored) by the TypeScript CLI."""
import json
import os
import shutil
import subprocess
import time

import psmc
from psmc.snapshot import parse_snapshot

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PSMC_CJS = os.path.join(ROOT, "bin", "psmc.cjs")
NODE = shutil.which("node")


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def snaps(d):
    sd = os.path.join(str(d), "snapshots")
    return sorted(os.listdir(sd)) if os.path.isdir(sd) else []


def test_a_hand_edit_import_is_preceded_by_a_snapshot_of_the_store_before_it(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.flush()
        f = s.mirror_file
    with open(f) as fh:
        text = fh.read()
    with open(f, "w") as fh:
        fh.write(text.replace('"a": 1', '"a": 2'))
    os.utime(f, (1, 1))
    with open_(tmp_path) as s:
        assert s.get("a") == 2
    assert snaps(tmp_path) == ["auto-1-before-import.json"]
    with open(os.path.join(str(tmp_path), "snapshots", "auto-1-before-import.json")) as fh:
        doc = parse_snapshot(fh.read(), expect_name="auto-1-before-import")
    assert doc.reason == "before-import" and doc.source == "file" and doc.entries["a"].value == 1
    st = os.stat(os.path.join(str(tmp_path), "snapshots", "auto-1-before-import.json"))
    assert st.st_mode & 0o777 == 0o600
    if NODE is not None and os.path.exists(os.path.join(ROOT, "dist", "src", "index.js")):
        r = subprocess.run([NODE, PSMC_CJS, "snapshot", "list", "--json", "--store", str(tmp_path)],
                           capture_output=True, text=True)
        listed = json.loads(r.stdout)
        names = [x["name"] for x in (listed["snapshots"] if isinstance(listed, dict) else listed)]
        assert names == ["auto-1-before-import"]
        r = subprocess.run([NODE, PSMC_CJS, "snapshot", "restore", "auto-1-before-import", "--yes", "--store", str(tmp_path)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open_(tmp_path) as s:
            assert s.get("a") == 1


def test_import_data_and_drops_take_a_before_import_snapshot(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.import_data({"b": 2}, source="import:test")
        assert snaps(tmp_path) == ["auto-1-before-import.json"]
        s.import_data({"c": 3}, snapshot=False)
        assert len(snaps(tmp_path)) == 1
        os.makedirs(os.path.join(str(tmp_path), "imports"))
        p = os.path.join(str(tmp_path), "imports", "x.json")
        with open(p, "w") as fh:
            fh.write('{"d": 4}')
        os.utime(p, (time.time() - 5, time.time() - 5))
        s.process_imports()
        assert s.get("d") == 4
        assert snaps(tmp_path) == ["auto-1-before-import.json", "auto-3-before-import.json"]


def test_every_changes_snapshots_rotate_and_manual_ones_stay(tmp_path):
    with open_(tmp_path) as s:
        s.set("x", 0)
        assert s.snapshot_settings() == {"keep": 20, "every": 100}
        assert s.set_snapshot_settings(keep=2, every=3) == {"keep": 2, "every": 3}
        s.snapshot("mine")
        for i in range(1, 13):
            s.set("x", i)
        names = snaps(tmp_path)
        assert "mine.json" in names
        auto = sorted(n for n in names if n.startswith("auto-"))
        assert auto == ["auto-12-every-changes.json", "auto-9-every-changes.json"]
        listed = s.list_snapshots()
        assert [i["name"] for i in listed] == ["auto-12-every-changes", "auto-9-every-changes", "mine"]
        assert listed[-1]["reason"] == "manual" and listed[0]["source"] == "python" and listed[0]["keys"] == 1

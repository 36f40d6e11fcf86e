"""Listing snapshots reuses what it read before only for files whose bytes are unchanged
(psmc.snapshot.auto._listed): an automatic snapshot lists the directory to rotate it, and must not
parse every kept snapshot each time; yet a file changed in any way, even keeping its size and
mtime, is read and checked again."""
import os

import psmc
from psmc.snapshot import auto
from psmc.snapshot.files import read_snapshot_file


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def fresh_listing(d):
    """The listing with nothing remembered: every file parsed and checked."""
    auto._listed.pop(d, None)
    return auto.list_snapshots(d)


def overwrite_keeping_stat(path, data):
    st = os.stat(path)
    assert len(data) == st.st_size
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_the_facts_remembered_for_a_written_snapshot_are_those_a_parse_of_its_file_gives(tmp_path):
    with open_(tmp_path, source="caf\u00e9-\U0001f600") as s:
        s.batch([{"op": "set", "key": "k%d" % i, "value": {"n": i, "s": "\u00e9\u2028\"x\""}} for i in range(50)])
        s.snapshot("name-1.x_y")
        s.set_snapshot_settings(every=5, keep=3)
        for i in range(23):
            s.set("counter", i)
        d = s.snapshots_dir
        remembered = auto.list_snapshots(d)
        assert len(remembered[0]) == 4  # the manual one and the newest three automatic ones
        assert remembered == fresh_listing(d)
        for info in remembered[0]:
            doc, size, path = read_snapshot_file(d, info["name"])
            assert (info["bytes"], info["path"], info["keys"], info["revision"]) == (size, path, len(doc.entries),
                                                                                     doc.revision)


def test_a_snapshot_changed_in_place_with_the_same_size_and_mtime_is_read_again(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        info = s.snapshot("one")
        d = s.snapshots_dir
        assert [i["name"] for i in s.list_snapshots()] == ["one"]
        path = info["path"]
        with open(path, "rb") as f:
            data = f.read()
        # Same length, same mtime: the "reason" becomes one that does not exist.
        broken = data.replace(b'"reason": "manual"', b'"reason": "manuaL"')
        assert broken != data
        overwrite_keeping_stat(path, broken)
        infos, problems = auto.list_snapshots(d)
        assert infos == [] and [p["code"] for p in problems] == ["PSMC_PARSE"]
        # Put back, then change the source the same way: the new facts are listed, not the old.
        overwrite_keeping_stat(path, data)
        assert [i["source"] for i in auto.list_snapshots(d)[0]] == ["python"]
        overwrite_keeping_stat(path, data.replace(b'"source": "python"', b'"source": "pythoN"'))
        assert [i["source"] for i in auto.list_snapshots(d)[0]] == ["pythoN"]


def test_listed_facts_are_copies(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.snapshot("one")
        first = s.list_snapshots()
        first[0]["revision"] = 999
        first[0]["name"] = "changed"
        assert [(i["name"], i["revision"]) for i in s.list_snapshots()] == [("one", 1)]


def test_a_deleted_snapshot_is_forgotten(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.snapshot("one")
        s.snapshot("two")
        d = s.snapshots_dir
        auto.list_snapshots(d)
        assert sorted(auto._listed[d]) == ["one", "two"]
        os.unlink(os.path.join(d, "one.json"))
        assert [i["name"] for i in auto.list_snapshots(d)[0]] == ["two"]
        assert sorted(auto._listed[d]) == ["two"]

"""Watch (spec/sections/watch.md) and the imports/ drop folder it processes: order, filtering,
exact resume, other processes and hand edits, callback errors, close inside a callback, and
``python -m psmc watch`` as a real process stopped by SIGTERM."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import psmc
from psmc import PsmcError

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("PSMC_")}
    e["PYTHONPATH"] = SRC
    return e


def py_set(d, key, value):
    subprocess.run([sys.executable, "-m", "psmc", "set", key, value, "--store", str(d)], env=env(), check=True,
                   capture_output=True)


def test_replay_in_order_with_prefix_and_position(tmp_path):
    with open_(tmp_path) as s:
        s.set("display.units", "metric")
        s.set("displayx", 1)
        s.batch([{"op": "set", "key": "display.a", "value": 1}, {"op": "set", "key": "other", "value": 2}])
        s.delete("display.units")
        w = s.watch(since=0, prefix="display")
        events = w.poll()
        assert [(e.revision, e.key, e.op) for e in events] == [
            (1, "display.units", "set"), (3, "display.a", "set"), (4, "display.units", "delete")]
        assert w.revision == 4
        s.set("other", 3)  # filtered out, but the position passes it
        assert w.poll() == [] and w.revision == 5
        every = s.watch(since=0).poll()
        assert [(e.revision, e.seq) for e in every] == sorted((e.revision, e.seq) for e in every)
        assert len(every) == 6


def test_exact_resume_none_twice_none_missed(tmp_path):
    with open_(tmp_path) as s:
        for i in range(5):
            s.set("k%d" % i, i)
        w = s.watch(since=0)
        seen = [(e.revision, e.seq) for e in w.poll()]
        pos = w.revision
        w.close()
        for i in range(5, 9):
            s.batch([{"op": "set", "key": "k%d" % i, "value": i}, {"op": "set", "key": "x%d" % i, "value": i}])
        w2 = s.watch(since=pos)
        seen += [(e.revision, e.seq) for e in w2.poll()]
    assert seen == sorted(set(seen)) and len(seen) == 5 + 8
    assert [r for r, _ in seen] == [1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8, 9, 9]


def test_default_start_is_now_and_since_above_waits(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        w = s.watch()
        assert w.revision == 1 and w.poll() == []
        later = s.watch(since=3)
        s.set("a", 2)
        s.set("a", 3)
        assert [e.new_value for e in w.poll()] == [2, 3]
        assert later.poll() == []
        s.set("a", 4)
        assert [e.new_value for e in later.poll()] == [4]


def test_changes_from_other_processes_and_hand_edits(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.flush()
        w = s.watch()
        py_set(tmp_path, "b", "2")
        ev = w.poll()
        assert [(e.key, e.source) for e in ev] == [("b", "python")]
        f = s.mirror_file
        with open(f) as fh:
            text = fh.read()
        with open(f, "w") as fh:
            fh.write(text.replace('"a": 1', '"a": 10'))
        t = time.time() - 5
        os.utime(f, (t, t))
        ev = w.poll()
        assert [(e.key, e.new_value, e.source) for e in ev] == [("a", 10, "file")]


def test_a_failing_callback_is_reported_and_delivery_goes_on(tmp_path):
    errors = []
    got = []

    def cb(e):
        got.append(e.key)
        if e.key == "bad":
            raise ValueError("boom")

    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": k, "value": 1} for k in ("a", "bad", "c")])
        w = s.watch(cb, since=0, on_error=errors.append)
        w.poll()
        w.poll()
    assert got == ["a", "bad", "c"] and len(errors) == 1 and str(errors[0]) == "boom"


def test_close_inside_a_callback_finishes_the_revision(tmp_path):
    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": k, "value": 1} for k in ("a", "b", "c")])
        s.set("d", 1)
        got = []

        def cb(e):
            got.append(e.key)
            w.close()

        w = s.watch(cb, since=0)
        w.poll()
        assert got == ["a", "b", "c"] and w.revision == 1 and w.closed


def test_iteration_counts_only_what_the_loop_received(tmp_path):
    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": k, "value": 1} for k in ("a", "b")])
        s.set("c", 1)
        w = s.watch(since=0)
        it = iter(w)
        assert next(it).key == "a"
        assert w.revision == 0
        assert next(it).key == "b"
        assert w.revision == 1  # c (revision 2) was read but not taken
        w2 = s.watch(since=w.revision)
        assert [e.key for e in w2.poll()] == ["c"]
        assert next(it).key == "c" and w.revision == 2


def test_run_with_timeout_and_local_commits(tmp_path):
    got = []
    with open_(tmp_path) as s:
        s.set("start", 0)

        def cb(e):
            got.append(e.key)
            if e.key == "one":
                s.set("two", 2)  # a local commit: the loop scans again at once
            if e.key == "two":
                w.close()

        w = s.watch(cb, poll_ms=10)
        s.set("one", 1)
        t0 = time.monotonic()
        w.run(timeout=5)
        assert got == ["one", "two"] and time.monotonic() - t0 < 5
        w3 = s.watch(poll_ms=10)
        t0 = time.monotonic()
        w3.run(timeout=0.1)
        assert time.monotonic() - t0 >= 0.1


def test_closing_the_store_closes_its_watches_and_argument_errors(tmp_path):
    s = open_(tmp_path)
    s.set("a", 1)
    w = s.watch()
    s.close()
    assert w.closed and w.poll() == []
    with open_(tmp_path) as s:
        with pytest.raises(ValueError):
            s.watch(since=-1)
        with pytest.raises(ValueError):
            s.watch(poll_ms=1)
        with pytest.raises(TypeError):
            s.watch(callback=3)
        with pytest.raises(PsmcError):
            s.watch(prefix="bad key")


def test_a_store_replaced_by_an_older_copy_is_reported_once(tmp_path):
    errors = []
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.set("a", 2)
        w = s.watch(on_error=errors.append)
        w._highest = 10  # as if the store had been at revision 10 before being replaced
        w.poll()
        w.poll()
    assert [e.code for e in errors] == ["PSMC_CORRUPT"]


def test_get_and_set_start_no_thread(tmp_path):
    before = threading.active_count()
    with open_(tmp_path) as s:
        for i in range(50):
            s.set("k", i)
            s.get("k")
        assert threading.active_count() == before


# -- imports/ -------------------------------------------------------------------------------------


def drop(d, name, text, age_s=5):
    imports = os.path.join(str(d), "imports")
    os.makedirs(imports, exist_ok=True)
    p = os.path.join(imports, name)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


def test_imports_folder_done_rejected_and_skipped(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        drop(tmp_path, "plain.toml", '"net.port" = 8080\nx = "y"\n')
        drop(tmp_path, "full.json", json.dumps({"format": "psmc-export", "version": 1, "entries": {"e": {"value": [1]}}}))
        drop(tmp_path, "bad.yaml", "a: 1\nbad key: 2\n")
        drop(tmp_path, "notes.txt", "hello")
        drop(tmp_path, "fresh.json", '{"f": 1}', age_s=0)
        drop(tmp_path, "draft.json.swp", "x")
        os.symlink("/etc/passwd", os.path.join(str(tmp_path), "imports", "link.json"))
        w = s.watch()
        ev = w.poll()
        assert {(e.key, e.source) for e in ev} == {("net.port", "import:plain.toml"), ("x", "import:plain.toml"),
                                                   ("e", "import:full.json")}
        assert s.get("net.port") == 8080 and s.get("e") == [1] and s.get("f") is None
        imports = os.path.join(str(tmp_path), "imports")
        assert sorted(os.listdir(os.path.join(imports, "done"))) == ["full.json", "plain.toml"]
        rejected = sorted(os.listdir(os.path.join(imports, "rejected")))
        assert rejected == ["bad.yaml", "bad.yaml.reason", "link.json", "link.json.reason", "notes.txt", "notes.txt.reason"]
        with open(os.path.join(imports, "rejected", "bad.yaml.reason")) as f:
            reason = f.read()
        assert "code: PSMC_KEY_SYNTAX" in reason and "line: 2" in reason and "key: bad key" in reason
        assert os.path.islink(os.path.join(imports, "rejected", "link.json"))
        assert sorted(n for n in os.listdir(imports) if n not in ("done", "rejected")) == ["draft.json.swp", "fresh.json"]
        drop(tmp_path, "plain.toml", '"net.port" = 9090\n')  # the same name again: kept beside the first
        w.poll()
        assert sorted(os.listdir(os.path.join(imports, "done"))) == ["full.json", "plain-1.toml", "plain.toml"]
        assert s.get("net.port") == 9090


def test_a_schema_violation_in_a_drop_is_rejected_whole(tmp_path):
    with open_(tmp_path) as s:
        s.set_schema({"version": 1, "keys": {"port": {"type": "integer"}}})
        drop(tmp_path, "x.json", '{\n  "ok": 1,\n  "port": "eighty"\n}\n')
        r = s.process_imports()
        assert r["done"] == [] and r["rejected"][0]["code"] == "PSMC_SCHEMA_VIOLATION"
        assert r["rejected"][0]["line"] == 3 and s.get("ok") is None


def test_a_claim_left_by_a_dead_process_is_put_back(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        p = drop(tmp_path, "x.json", '{"from.claim": 1}')
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        os.rename(p, os.path.join(os.path.dirname(p), ".psmc-import-%d-0badc0de-x.json" % dead.pid))
        r = s.process_imports()
        assert [d["file"] for d in r["done"]] == ["x.json"] and s.get("from.claim") == 1


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_watch_json_sigterm_and_resume(tmp_path):
    d = str(tmp_path)
    py_set(d, "a", "1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "psmc", "watch", "--since", "0", "--json", "--store", d],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    try:
        deadline = time.time() + 10
        line = proc.stdout.readline()
        assert json.loads(line)["key"] == "a"
        py_set(d, "b", '{"x":1}')
        with open_(d) as s:
            s.set("c", None, source="gui")
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
        assert time.time() < deadline
        assert [(l["revision"], l["key"], l["source"]) for l in lines] == [(2, "b", "python"), (3, "c", "gui")]
        assert lines[1]["newValue"] is None and "oldValue" not in lines[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == ""
    assert err.startswith("Watching %s after revision 0." % os.path.realpath(d))
    # Resume after revision 2: exactly revision 3 (none twice, none missed), human lines.
    proc = subprocess.Popen(
        [sys.executable, "-m", "psmc", "watch", "--since", "2", "--store", d],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert line.startswith("r3 ") and "gui  c  (unset) \u2192 null" in line and out == ""


def test_cli_watch_usage_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "psmc", "watch", "--since", "x", "--store", str(tmp_path)],
                       capture_output=True, text=True, env=env())
    assert r.returncode == 2 and "--since" in r.stderr
    r = subprocess.run([sys.executable, "-m", "psmc", "watch", "bad key", "--store", str(tmp_path)],
                       capture_output=True, text=True, env=env())
    assert r.returncode == 5

"""The CLI through real processes: output shapes, exit codes, errors on stderr, and cold start."""
import json
import os
import subprocess
import sys

import pytest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PSMC_")}
    e["PYTHONPATH"] = SRC
    e.update(extra)
    return e


def run(*args, **kw):
    p = subprocess.run([sys.executable, "-m", "psmc"] + list(args), capture_output=True, text=True, env=env(**kw))
    return p.returncode, p.stdout, p.stderr


def test_set_get_json_and_plain(tmp_path):
    d = str(tmp_path)
    assert run("set", "display.units", "metric", "--store", d)[:2] == (0, 'display.units = "metric" (revision 1)\n')
    code, out, err = run("get", "display.units", "--store", d, "--json")
    assert code == 0 and err == ""
    r = json.loads(out)
    assert list(r) == ["key", "value", "found", "layer", "revision", "source", "updatedAt"]
    assert r["value"] == "metric" and r["layer"] == "user" and r["revision"] == 1 and r["source"] == "python"
    assert run("get", "display.units", "--store", d)[1] == "metric\n"
    assert run("set", "n", "1.50", "--store", d, "--source", "me")[0] == 0
    assert run("get", "n", "--store", d)[1] == "1.5\n"
    assert run("set", "s", "1.0", "--string", "--store", d)[0] == 0
    assert run("get", "s", "--store", d, "--json")[1].count('"1.0"') == 1
    assert run("set", "neg", "-5", "--store", d)[0] == 0
    assert run("get", "neg", "--store", d)[1] == "-5\n"
    assert run("set", "--store", d, "dash", "--", "-x")[0] == 0
    assert run("get", "dash", "--store", d)[1] == "-x\n"


def test_errors_and_exit_codes(tmp_path):
    d = str(tmp_path)
    code, out, err = run("get", "nope", "--store", d)
    assert code == 3 and out == "" and err.startswith('psmc: The key "nope" is not set in any layer.\n  hint: ')
    assert not os.path.exists(os.path.join(d, "psmc.db")), "a read creates nothing"
    code, out, err = run("get", "nope", "--store", d, "--json")
    assert code == 3 and json.loads(out)["error"]["code"] == "PSMC_NOT_FOUND"
    assert run("get", "a..b", "--store", d)[0] == 5
    assert run("bogus")[0] == 2
    assert run("get")[0] == 2
    assert run("get", "k", "--nope")[0] == 2
    run("set", "k", "1", "--store", d)
    code, _, err = run("set", "k", "2", "--expect-revision", "7", "--store", d)
    assert code == 4 and "  current: k = 1 (revision 1)" in err
    assert run("set", "k", "2", "--expect-revision", "x", "--store", d)[0] == 2
    assert run("undo", "99", "--store", d)[0] == 3
    assert run("undo", "--store", str(tmp_path / "empty"))[0] == 3
    assert not os.path.exists(str(tmp_path / "empty"))


def test_unset_list_explain_history_undo(tmp_path):
    d = str(tmp_path)
    run("set", "a.b", "1", "--store", d)
    run("set", "a.c", '{"x":[1,2]}', "--store", d)
    code, out, _ = run("list", "a", "--store", d, "--json")
    assert code == 0 and [r["key"] for r in json.loads(out)] == ["a.b", "a.c"]
    code, out, _ = run("explain", "a.b", "--store", d, "--json", PSMC_A__B="7")
    e = json.loads(out)
    assert e["layer"] == "env" and e["value"] == 7 and [l["layer"] for l in e["layers"]][:2] == ["override", "env"]
    code, out, _ = run("history", "--store", d, "--json")
    assert [h["key"] for h in json.loads(out)] == ["a.c", "a.b"]
    code, out, _ = run("unset", "a.b", "--store", d, "--json")
    assert json.loads(out)["changed"] is True
    code, out, _ = run("undo", "--store", d, "--json")
    u = json.loads(out)
    assert code == 0 and u["undone"] == "undo of revision 3" and u["revision"] == 4
    assert run("revision", "--store", d)[1] == "4\n"
    assert run("history", "a", "--prefix", "--limit", "1", "--store", d)[0] == 0


def test_project_and_home(tmp_path):
    home = tmp_path / "home"
    proj = tmp_path / "proj"
    (proj / ".psmc").mkdir(parents=True)
    (proj / "sub").mkdir()
    p = subprocess.run(
        [sys.executable, "-m", "psmc", "set", "k", "p"], cwd=str(proj / "sub"), capture_output=True, text=True,
        env=env(PSMC_HOME=str(home)),
    )
    assert p.returncode == 0
    assert (proj / ".psmc" / "psmc.db").exists() and not home.exists()
    p = subprocess.run(
        [sys.executable, "-m", "psmc", "get", "k", "--json"], cwd=str(proj / "sub"), capture_output=True, text=True,
        env=env(PSMC_HOME=str(home)),
    )
    assert json.loads(p.stdout)["layer"] == "project"


def _imports_of_get(d):
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "psmc", "get", "k", "--store", d],
        capture_output=True, text=True, env=env(),
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    return p, loaded


CODECS_AND_MERGE = ("psmc.mirror.common", "psmc.mirror.json", "psmc.mirror.toml", "psmc.mirror.yaml", "psmc.merge",
                    "psmc.snapshot", "psmc.mirror.imports", "psmc.watch", "hashlib")


def test_cold_start_get_loads_only_what_it_needs(tmp_path):
    """`python -m psmc get` stays a small start-up: on a store whose mirror file did not change it
    looks at the file (one stat) but never imports the mirror codecs, the merge, the drop folder,
    the watcher, the snapshot code or even hashlib. (Start-up time itself is measured, not asserted:
    see clients/python/bench/bench.py.)"""
    d = str(tmp_path)
    run("set", "k", "v", "--store", d)
    assert os.path.exists(os.path.join(d, "config.json"))
    p, loaded = _imports_of_get(d)
    assert p.returncode == 0 and p.stdout == "v\n", p.stderr[-2000:]
    assert "psmc" in loaded and "psmc.mirror.engine" in loaded
    for heavy in CODECS_AND_MERGE:
        assert not any(m == heavy or m.startswith(heavy + ".") for m in loaded), heavy


def test_get_imports_a_hand_edit_and_only_then_loads_the_codec(tmp_path):
    d = str(tmp_path)
    run("set", "k", "v", "--store", d)
    f = os.path.join(d, "config.json")
    with open(f) as fh:
        text = fh.read()
    with open(f, "w") as fh:
        fh.write(text.replace('"v"', '"edited"'))
    os.utime(f, (1, 1))  # long settled (an mtime in the past)
    p, loaded = _imports_of_get(d)
    assert p.returncode == 0 and p.stdout == "edited\n", p.stderr[-2000:]
    # (-X importtime does not list modules loaded by importlib.import_module, as the codecs are; every
    # codec imports psmc.mirror.common, which it lists.)
    assert "psmc.mirror.common" in loaded and "psmc.merge" in loaded
    code, out, _ = run("history", "k", "--store", d, "--json")
    assert json.loads(out)[0]["source"] == "file"

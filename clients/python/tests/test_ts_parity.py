"""Byte-identical mirror exports (issue 4, spec/sections/mirror-sync.md §mirror.export): the same
changes written through the TypeScript CLI (bin/psmc.cjs, the reference) and through
``python -m psmc`` leave mirror files that are equal byte for byte, in JSON, TOML and YAML, from the
canonical file through a hand-edited file with comments (imported, then updated span by span).

Needs Node and the TypeScript build (``npm run build``; .ci/run builds before pytest)."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import psmc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))
PSMC_CJS = os.path.join(ROOT, "bin", "psmc.cjs")
INDEX_JS = os.path.join(ROOT, "dist", "src", "index.js")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not os.path.exists(INDEX_JS),
    reason="needs node and the TypeScript build (run `npm run build` at the repository root)",
)


_PYCACHE = os.path.join(__import__("tempfile").gettempdir(), "psmc-test-pycache-%d" % os.getuid())


def _env():
    # Compiled modules cached outside the tree (as an installed package has them), whatever
    # PYTHONDONTWRITEBYTECODE says: this test starts many short processes.
    e = {k: v for k, v in os.environ.items() if not k.startswith("PSMC_") and k != "PYTHONDONTWRITEBYTECODE"}
    e["PYTHONPATH"] = SRC
    e["PYTHONPYCACHEPREFIX"] = _PYCACHE
    return e


def ts(*args):
    r = subprocess.run([NODE, PSMC_CJS] + list(args), capture_output=True, text=True, env=_env())
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def py(*args):
    r = subprocess.run([sys.executable, "-m", "psmc"] + list(args), capture_output=True, text=True, env=_env())
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def ts_set_format(d, fmt):
    script = (
        "const { openStore } = await import(process.argv[1]);"
        "const s = openStore({ dir: process.argv[2], env: {} }); s.setMirrorFormat(process.argv[3]); s.close();"
    )
    r = subprocess.run(
        [NODE, "--input-type=module", "-e", script, "file://" + INDEX_JS, d, fmt], capture_output=True, text=True, env=_env()
    )
    assert r.returncode == 0, r.stderr


def py_set_format(d, fmt):
    with psmc.open_store(dir=d, env={}) as s:
        s.set_mirror_format(fmt)


FILES = {"json": "config.json", "toml": "config.toml", "yaml": "config.yaml"}
COMMENT = {"json": "//", "toml": "#", "yaml": "#"}

STEPS = [
    ("set", "a.b", "metric"),
    ("set", "n", "1.5"),
    ("set", "o", '{"z":1,"a":[1,null,{"$json":2}],"e":{},"10":true,"2":"x"}'),
    ("set", "s", 'line\n"two"\t\u2028 \U0001F600 #not-a-comment // nor this'),
    ("set", "neg", "-9007199254740991"),
    ("set", "tiny", "1e-7"),
    ("set", "list", '[[],[1.0,2.5],{},"",6.02e-23]'),
    ("set", "null.value", "null"),
    ("set", "Zeta", "true"),
    ("unset", "n"),
    ("set", "a.b", "imperial"),
]

AFTER_EDIT = [
    ("set", "new.key", "42"),
    ("set", "o", "[1,2]"),
    ("unset", "s"),
    ("set", "a.b", '"x y"'),
]


def _run(runner, d, step):
    op, key = step[0], step[1]
    if op == "set":
        runner("set", key, step[2], "--store", d)
    else:
        runner("unset", key, "--store", d)


def _read(d, fmt):
    with open(os.path.join(d, FILES[fmt]), "rb") as f:
        return f.read()


def _hand_edit(text, fmt):
    """The canonical file with comments added (a whole line after the header, one before the last
    entry's line, one at the end of a line) and one value edited by hand."""
    c = COMMENT[fmt]
    lines = text.split("\n")
    out = [lines[0], "%s settings for the plant, edited by hand" % c]
    for i, line in enumerate(lines[1:], 1):
        if "imperial" in line:
            line = line.replace("imperial", "metric") + " %s the units, edited by hand" % c
        if i == len(lines) - 3:
            out.append("")
            out.append("%s a comment before one of the last lines" % c)
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_exports_are_byte_identical_to_typescript(tmp_path, fmt):
    t = str(tmp_path / "ts")
    p = str(tmp_path / "py")
    ts_set_format(t, fmt)
    py_set_format(p, fmt)
    assert _read(t, fmt) == _read(p, fmt)
    for step in STEPS:
        _run(ts, t, step)
        _run(py, p, step)
        assert _read(t, fmt) == _read(p, fmt), step

    # The same hand edit with comments in both stores; then more changes through each CLI: the
    # edit is imported (source file) and every later export edits spans around the comments.
    edited = _hand_edit(_read(t, fmt).decode("utf-8"), fmt)
    past = time.time() - 10
    for d in (t, p):
        with open(os.path.join(d, FILES[fmt]), "w", encoding="utf-8", newline="") as f:
            f.write(edited)
        os.utime(os.path.join(d, FILES[fmt]), (past, past))
    for step in AFTER_EDIT:
        _run(ts, t, step)
        _run(py, p, step)
        assert _read(t, fmt) == _read(p, fmt), step
    text = _read(p, fmt).decode("utf-8")
    assert "edited by hand" in text and "a comment before one of the last lines" in text

    # Both stores hold the same values and recorded the hand edit with source "file".
    for d in (t, p):
        hist = json.loads(ts("history", "a.b", "--json", "--store", d))
        assert any(h["source"] == "file" and h.get("newValue") == "metric" for h in hist), hist
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("updatedAt", "source")} for r in rows]  # noqa: E731
    assert strip(json.loads(ts("list", "--json", "--store", t))) == strip(json.loads(ts("list", "--json", "--store", p)))


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_python_and_typescript_take_turns_on_one_store(tmp_path, fmt):
    """One store, writes alternating between the two CLIs: each picks up the other's file and
    bookkeeping (no spurious import, no rewrite from scratch), and the result equals a store written
    by TypeScript alone."""
    both = str(tmp_path / "both")
    alone = str(tmp_path / "alone")
    ts_set_format(both, fmt)
    ts_set_format(alone, fmt)
    for i, step in enumerate(STEPS[:3] + STEPS[-3:]):
        _run(ts if i % 2 == 0 else py, both, step)
        _run(ts, alone, step)
        assert _read(both, fmt) == _read(alone, fmt), step
    hist = json.loads(ts("history", "--json", "--store", both))
    assert not [h for h in hist if h["source"] == "file"], "no write was mistaken for a hand edit"
    status = json.loads(ts("status", "--json", "--store", both))
    assert status["mirror"]["state"] == "in-sync"


def _both(*args):
    t = subprocess.run([NODE, PSMC_CJS] + list(args), capture_output=True, text=True, env=_env())
    p = subprocess.run([sys.executable, "-m", "psmc"] + list(args), capture_output=True, text=True, env=_env())
    return t, p


def test_status_text_and_json_are_the_same_as_typescript(tmp_path):
    d = str(tmp_path)
    t, p = _both("status", "--store", d)  # no store yet
    assert (p.returncode, p.stdout, p.stderr) == (t.returncode, t.stdout, t.stderr)
    py("set", "a", "1", "--store", d)
    for args in (("status", "--store", d), ("status", "--json", "--store", d)):
        t, p = _both(*args)
        assert (p.returncode, p.stdout, p.stderr) == (t.returncode, t.stdout, t.stderr)
    f = os.path.join(d, "config.json")
    with open(f, "w") as fh:
        fh.write('// mine\n{\n  "a": 1,\n  "b c": 2\n}\n')
    os.utime(f, (1, 1))
    py("get", "a", "--store", d)  # records the invalid edit
    for args in (("status", "--store", d), ("status", "--json", "--store", d)):
        t, p = _both(*args)
        assert (p.returncode, p.stdout, p.stderr) == (t.returncode, t.stdout, t.stderr)
    assert json.loads(p.stdout)["mirror"]["state"] == "invalid-edit"

"""The Python runner of the conformance vectors (format: spec/vectors/README.md; the
TypeScript runner test/spec/vectors.test.ts is followed to the letter).

- Every ``spec/vectors/**/*.json`` file is loaded; each case is one test named by its id.
- Pure cases call the core functions; stateful cases open real SQLite stores in a fresh
  temporary directory through the public API, with the wall clock fixed per step.
- ``spec/expected-failures/python.txt`` lists cases known to fail (``<id> <reason>``). A listed
  case that passes fails the run, and so does a listed id that no vector has.
"""
import json
import os
import re
import shutil
import sqlite3
import tempfile

import pytest

from psmc.change import Commit
from psmc.clock import compare_hlc, format_hlc, next_hlc, parse_hlc
from psmc.env import coerce_env, env_name, env_variable_for
from psmc.errors import PsmcError, error_info
from psmc.keys import assert_key
from psmc.schema import compile_schema, parse_schema_document
from psmc.store import MISSING, open_store
from psmc.value import assert_value, decode_value, encode_value, member_order, parse_json, stringify, type_of, values_equal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VECTORS = os.path.join(ROOT, "spec", "vectors")
EXPECTED_FAILURES = os.path.join(ROOT, "spec", "expected-failures", "python.txt")
START_CLOCK = 1767225600000


class Absent(object):
    pass


ABSENT = Absent()


# ---------------------------------------------------------------------------
# Loading


def list_json(d):
    out = []
    for dirpath, _, files in os.walk(d):
        for f in files:
            if f.endswith(".json") and f != "vector.schema.json":
                out.append(os.path.join(dirpath, f))
    return sorted(out, key=lambda p: os.path.relpath(p, d).replace(os.sep, "/"))


def expand(v):
    """Replaces every ``{"$text": [part…]}`` by the concatenated text."""
    if isinstance(v, list):
        return [expand(x) for x in v]
    if not isinstance(v, dict):
        return v
    if list(v) == ["$text"]:
        parts = v["$text"]
        assert isinstance(parts, list), "$text must hold an array"
        out = []
        for p in parts:
            if isinstance(p, str):
                out.append(p)
            else:
                assert isinstance(p["repeat"], str) and isinstance(p["count"], int) and p["count"] >= 0
                out.append(p["repeat"] * p["count"])
        return "".join(out)
    return {k: expand(x) for k, x in v.items()}


def semver(v):
    return tuple(int(x) for x in v.split("."))


def spec_version():
    with open(os.path.join(ROOT, "spec", "SPEC.md"), encoding="utf-8") as f:
        m = re.search(r"\*\*Spec version (\d+\.\d+\.\d+)\*\*", f.read())
    assert m is not None, 'spec/SPEC.md must state "**Spec version X.Y.Z**"'
    return m.group(1)


def load_expected_failures():
    out = {}
    if not os.path.exists(EXPECTED_FAILURES):
        return out
    with open(EXPECTED_FAILURES, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            line = raw.strip()
            if line == "" or line.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+(\S.*)$", line)
            assert m is not None, 'spec/expected-failures/python.txt: "%s" must be "<id> <reason>"' % line
            out[m.group(1)] = m.group(2)
    return out


def load_cases():
    cases = []
    for path in list_json(VECTORS):
        with open(path, encoding="utf-8") as f:
            doc = expand(json.load(f))
        for c in doc["cases"]:
            cases.append(c)
    return cases


VERSION = spec_version()
EXPECTED = load_expected_failures()
CASES = load_cases()


# ---------------------------------------------------------------------------
# Comparison


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_equal(a, b, ordered):
    """Equality of JSON data: numbers by value, booleans never equal numbers; ``ordered``: member
    order counts (ECMAScript order, as a JavaScript object keeps it)."""
    if _is_num(a) and _is_num(b):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if a is None or b is None or not isinstance(a, (list, dict)) or not isinstance(b, (list, dict)):
        return type(a) is type(b) and a == b
    if isinstance(a, list) != isinstance(b, list):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y, ordered) for x, y in zip(a, b))
    ka = member_order(list(a))
    kb = member_order(list(b))
    if len(ka) != len(kb):
        return False
    if ordered and ka != kb:
        return False
    return all(k in b and match_member(k, a[k], b[k]) for k in ka)


def match_member(name, actual, expected):
    if name.endswith("Json") and isinstance(actual, str) and isinstance(expected, str):
        return json_equal(json.loads(actual), json.loads(expected), True)
    return json_equal(actual, expected, False)


def show(v):
    try:
        return stringify(v)
    except Exception:
        return repr(v)


def check(outcome, run, what):
    try:
        result = run()
    except PsmcError as e:
        if "error" in outcome:
            assert e.code == outcome["error"], "%s: expected error %s, got %s: %s" % (what, outcome["error"], e.code, e)
            return
        pytest.fail("%s: expected %s, got error %s: %s" % (what, show(outcome), e.code, e))
    if "error" in outcome:
        pytest.fail("%s: expected error %s, got %s" % (what, outcome["error"], show_result(result)))
    if "commit" in outcome:
        assert isinstance(result, Commit), "%s: expected a commit, got %s" % (what, show_result(result))
        want = outcome["commit"]
        got = {"revision": result.revision, "changes": len(result.changes), "at": result.at}
        ok = got["revision"] == want["revision"] and got["changes"] == want["changes"] and (
            "at" not in want or want["at"] == got["at"]
        )
        assert ok, "%s: expected commit %s, got %s" % (what, show(want), show(got))
        return
    assert not isinstance(result, Commit), "%s: a write's expectation must be \"commit\" or \"error\"" % what
    if outcome.get("absent") is True:
        assert result is ABSENT, "%s: expected absent, got %s" % (what, show_result(result))
        return
    assert result is not ABSENT, "%s: expected %s, got absent" % (what, show(outcome))
    if "okText" in outcome:
        assert isinstance(result, str) and result == outcome["okText"], "%s: expected text %s, got %s" % (
            what,
            show(outcome["okText"]),
            show(result),
        )
    elif "okJson" in outcome:
        assert json_equal(result, json.loads(outcome["okJson"]), True), "%s: expected %s, got %s" % (
            what,
            outcome["okJson"],
            show(result),
        )
    elif "ok" in outcome:
        assert json_equal(result, outcome["ok"], False), "%s: expected %s, got %s" % (what, show(outcome["ok"]), show(result))
    else:
        pytest.fail("%s: the expectation %s has no outcome" % (what, show(outcome)))


def show_result(r):
    if r is ABSENT:
        return "absent"
    if isinstance(r, Commit):
        return show(r.to_json())
    return show(r)


# ---------------------------------------------------------------------------
# Pure operations


def s(i, k):
    v = i.get(k)
    assert isinstance(v, str), "input.%s must be a string" % k
    return v


def run_pure(op, i):
    if op == "key.validate":
        assert_key(s(i, "key"))
        return True
    if op == "value.encode":
        return encode_value(decode_value(s(i, "valueJson")))
    if op == "value.type":
        return type_of(assert_value(parse_json(s(i, "valueJson"))))
    if op == "value.equal":
        return values_equal(assert_value(parse_json(s(i, "aJson"))), assert_value(parse_json(s(i, "bJson"))))
    if op == "clock.parse":
        t = parse_hlc(s(i, "text"))
        return {"ms": t.ms, "counter": t.counter}
    if op == "clock.format":
        return format_hlc((i["ms"], i["counter"]))
    if op == "clock.next":
        return format_hlc(next_hlc(parse_hlc(s(i, "lastText")), i["wallMs"]))
    if op == "clock.compare":
        d = compare_hlc(parse_hlc(s(i, "a")), parse_hlc(s(i, "b")))
        return (d > 0) - (d < 0)
    if op == "error.info":
        info = error_info(s(i, "code"))
        return ABSENT if info is None else info
    if op == "schema.parse":
        parse_schema_document(i["schema"])
        return True
    if op == "schema.validate":
        compile_schema(i["schema"]).validate(s(i, "key"), parse_json(s(i, "valueJson")))
        return True
    if op == "env.coerce":
        ks = i.get("keySchema")
        key_schema = None if ks is None else parse_schema_document({"keys": {"k": ks}})["keys"]["k"]
        return coerce_env(s(i, "raw"), key_schema, s(i, "variable"), s(i, "key"))
    if op == "env.name":
        return env_name(s(i, "prefix"), s(i, "key"))
    if op == "env.variable":
        return env_variable_for(s(i, "prefix"), s(i, "key"))
    if op == "mirror.merge":
        return run_merge(i)
    if op.startswith("mirror."):
        return run_mirror(op, i)
    if op.startswith("snapshot."):
        return run_snapshot(op, i)
    raise AssertionError("unknown pure op %r" % op)


def run_mirror(op, i):
    """The mirror codec ops (shapes: test/mirror/codecs-vectors.test.ts)."""
    from psmc.mirror import DELETE, codec_for

    codec = codec_for(s(i, "format"))
    if op == "mirror.render":
        return codec.render([(k, json.loads(v)) for k, v in i["entries"]])
    if op == "mirror.parse":
        p = codec.parse(s(i, "text"))
        entries = [[k, stringify(v)] for k, v in p.values.items()]
        return {"entries": entries} if p.header is None else {"entries": entries, "version": p.header["version"]}
    if op == "mirror.update":
        changes = [(k, DELETE if v is None else json.loads(v)) for k, v in i["changes"]]
        return codec.update(s(i, "text"), changes)
    raise AssertionError("unknown mirror op %r" % op)


def run_merge(i):
    """The 3-way merge (shape: test/spec/vectors.test.ts, case 'mirror.merge')."""
    from psmc.merge import OursEntry, merge_mirror

    base = i["base"]
    theirs = i["theirs"]
    ours = i["ours"]

    def ours_of(k):
        o = ours.get(k)
        return OursEntry(None, 0, "file") if o is None else OursEntry(o["valueJson"], o["timeMs"], o["source"])

    r = merge_mirror(
        keys=list(base) + list(theirs) + list(ours),
        theirs=theirs,
        base=lambda k: base.get(k),
        ours=ours_of,
        file_time_ms=i["fileTimeMs"],
    )
    return {
        "apply": [[k, t] for k, t in r.apply],
        "conflicts": [
            {"key": c.key, "winner": c.winner, "lostJson": c.lost, "wonJson": c.won, "loserSource": c.loser_source}
            for c in r.conflicts
        ],
    }


def run_snapshot(op, i):
    """The pure snapshot ops (shapes: test/snapshot/vector-ops.ts, runSnapshotOp)."""
    from psmc import snapshot

    if op == "snapshot.name":
        snapshot.assert_snapshot_name(i.get("name"))
        return True
    if op == "snapshot.render":
        entries = {}
        for e in i["entries"]:
            entries[e["key"]] = {
                "value": decode_value(s(e, "valueJson")),
                "revision": e["revision"],
                "updated_at": e["updatedAt"],
                "source": e["source"],
            }
        schema = parse_json(i["schemaJson"]) if isinstance(i.get("schemaJson"), str) else snapshot.NO_SCHEMA
        doc = snapshot.build_snapshot(
            i["name"], i["createdAt"], i["revision"], i["reason"], i["source"], entries, schema=schema
        )
        return snapshot.render_snapshot(doc)
    if op == "snapshot.parse":
        f = i.get("file")
        expect_name = None
        if isinstance(f, str):
            n = snapshot.name_of_file(f)
            problem = "it is not <name>.json" if n is None else snapshot.name_problem(n)
            if problem is not None:
                raise PsmcError("PSMC_PARSE", "%s is not a snapshot file name: %s" % (show(f), problem), "vector")
            expect_name = n
        doc = snapshot.parse_snapshot(
            s(i, "text"), file=f if isinstance(f, str) else "vector", expect_name=expect_name
        )
        return {
            "name": doc.name,
            "createdAt": doc.created_at,
            "revision": doc.revision,
            "reason": doc.reason,
            "source": doc.source,
            "entries": [
                {
                    "key": k,
                    "valueJson": stringify(doc.entries[k].value),
                    "type": doc.entries[k].type,
                    "revision": doc.entries[k].revision,
                    "updatedAt": doc.entries[k].updated_at,
                    "source": doc.entries[k].source,
                }
                for k in sorted(doc.entries, key=snapshot.compare_keys)
            ],
            "schemaJson": None if doc.schema is None else stringify(doc.schema),
        }
    if op == "snapshot.diff":
        return snapshot.diff_entries(i["a"], i["b"])
    raise AssertionError("unknown snapshot op %r" % op)


# ---------------------------------------------------------------------------
# Stateful cases


class Scenario(object):
    def __init__(self, setup):
        self.root = tempfile.mkdtemp(prefix="psmc-vector-")
        self.user_dir = os.path.join(self.root, "user")
        self.project_root = os.path.join(self.root, "proj")
        self.project_dir = os.path.join(self.project_root, ".psmc")
        self.setup = setup
        self.now = START_CLOCK
        self._main = None
        self._user_only = None
        if setup.get("project") is True:
            os.makedirs(self.project_dir)
            os.makedirs(os.path.join(self.project_root, "sub"))
        db = setup.get("database")
        if db is not None:
            d = self.user_dir if db.get("store") == "user" or setup.get("project") is not True else self.project_dir
            os.makedirs(d, exist_ok=True)
            f = os.path.join(d, "psmc.db")
            if "text" in db:
                with open(f, "wb") as fh:
                    fh.write(db["text"].encode("utf-8"))
            else:
                con = sqlite3.connect(f)
                con.executescript(db.get("sql", ""))
                con.close()

    def _common(self):
        st = self.setup
        o = {"clock": lambda: self.now, "freshness_ms": 0, "source": st.get("source", "api")}
        if "envPrefix" in st:
            o["env_prefix"] = st["envPrefix"]
        if "overrides" in st:
            o["overrides"] = st["overrides"]
        if "defaults" in st:
            o["defaults"] = st["defaults"]
        if "durability" in st:
            o["durability"] = st["durability"]
        return o

    def main(self):
        if self._main is None:
            env = dict(self.setup.get("env") or {})
            if self.setup.get("project") is True:
                prefix = self.setup.get("envPrefix", "PSMC")
                assert prefix is not False, "a project case needs an env prefix"
                env["%s_HOME" % prefix] = self.user_dir
                self._main = open_store(env=env, project=True, cwd=os.path.join(self.project_root, "sub"), **self._common())
            else:
                self._main = open_store(env=env, dir=self.user_dir, **self._common())
        return self._main

    def user_only(self):
        if self._user_only is None:
            self._user_only = open_store(
                clock=lambda: self.now,
                freshness_ms=0,
                dir=self.user_dir,
                env_prefix=False,
                source=self.setup.get("source", "api"),
            )
        return self._user_only

    def handle(self, step):
        if step.get("store") == "user" and self.setup.get("project") is True:
            return self.user_only()
        return self.main()

    def database(self, step):
        project = self.setup.get("project") is True and step.get("store") != "user"
        return os.path.join(self.project_dir if project else self.user_dir, "psmc.db")

    def close(self):
        if self._main is not None:
            self._main.close()
        if self._user_only is not None:
            self._user_only.close()
        self._main = None
        self._user_only = None

    def dispose(self):
        self.close()
        shutil.rmtree(self.root, ignore_errors=True)


def value_arg(o):
    if isinstance(o.get("valueJson"), str):
        return parse_json(o["valueJson"])
    assert "value" in o, 'a set needs "value" or "valueJson"'
    return o["value"]


def default_arg(o):
    return parse_json(o["defaultJson"]) if isinstance(o.get("defaultJson"), str) else MISSING


def json_text(found, v):
    return stringify(v) if found else None


def _ro(path):
    return sqlite3.connect("file:%s?mode=ro" % path.replace("%", "%25").replace("?", "%3f").replace("#", "%23"), uri=True)


def dump(path):
    if not os.path.exists(path):
        return ABSENT
    con = _ro(path)
    try:
        state = con.execute("SELECT revision, clock FROM state WHERE id = 1").fetchone()
        entries = [
            {"key": r[0], "value": r[1], "type": r[2], "revision": r[3], "updatedAt": r[4], "source": r[5]}
            for r in con.execute("SELECT key, value, type, revision, updated_at, source FROM entries ORDER BY key")
        ]
        history = [
            {
                "revision": r[0],
                "seq": r[1],
                "key": r[2],
                "op": r[3],
                "oldValue": r[4],
                "newValue": r[5],
                "source": r[6],
                "at": r[7],
                "note": r[8],
            }
            for r in con.execute(
                "SELECT revision, seq, key, op, old_value, new_value, source, at, note FROM history ORDER BY revision, seq"
            )
        ]
        sr = con.execute("SELECT doc, revision FROM schema_doc WHERE id = 1").fetchone()
        schema = None if sr is None else {"doc": sr[0], "revision": sr[1]}
        return {"state": {"revision": state[0], "clock": state[1]}, "entries": entries, "history": history, "schema": schema}
    finally:
        con.close()


def db_info(path):
    if not os.path.exists(path):
        return ABSENT
    con = _ro(path)
    try:

        def names(t):
            return [
                r[0]
                for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                    (t,),
                )
            ]

        return {
            "applicationId": con.execute("PRAGMA application_id").fetchone()[0],
            "userVersion": con.execute("PRAGMA user_version").fetchone()[0],
            "journalMode": str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower(),
            "tables": names("table"),
            "indexes": names("index"),
        }
    finally:
        con.close()


def history_record(r):
    out = {
        "revision": r.revision,
        "seq": r.seq,
        "key": r.key,
        "op": r.op,
        "oldJson": json_text(r.has_old, r.old_value),
        "newJson": json_text(r.has_new, r.new_value),
        "source": r.source,
        "at": r.at,
    }
    if r.note is not None:
        out["note"] = r.note
    return out


def run_step(sc, st):
    op = st["op"]
    if op == "set":
        return sc.handle(st).set(st["key"], value_arg(st), expect_revision=st.get("expectRevision"), source=st.get("source"))
    if op == "delete":
        return sc.handle(st).delete(st["key"], expect_revision=st.get("expectRevision"), source=st.get("source"))
    if op == "batch":
        changes = []
        for c in st["changes"]:
            ch = {"op": c["op"], "key": c["key"]}
            if "expectRevision" in c:
                ch["expect_revision"] = c["expectRevision"]
            if c["op"] == "set":
                ch["value"] = value_arg(c)
            else:
                assert c["op"] == "delete", 'a batch change is "set" or "delete"'
            changes.append(ch)
        return sc.handle(st).batch(changes, source=st.get("source"))
    if op == "get":
        d = default_arg(st)
        v = sc.handle(st).get(st["key"], d)
        return ABSENT if v is MISSING else v
    if op == "resolve":
        r = sc.handle(st).resolve(st["key"], default_arg(st))
        return {
            "layer": r.layer,
            "revision": r.revision,
            "source": r.source,
            "updatedAt": r.updated_at,
            "valueJson": json_text(r.found, r.value),
        }
    if op == "explain":
        e = sc.handle(st).explain(st["key"], default_arg(st))
        present = {}
        errors = {}
        for l in e.layers:
            present[l.layer] = l.present
            if l.error is not None:
                errors[l.layer] = l.error["code"]
        out = {"layer": e.layer, "valueJson": json_text(e.found, e.value), "present": present}
        if errors:
            out["errors"] = errors
        return out
    if op == "list":
        return [
            {"key": r.key, "layer": r.layer, "valueJson": json_text(r.found, r.value)}
            for r in sc.handle(st).list(st.get("prefix"))
        ]
    if op == "history":
        recs = sc.handle(st).history(
            st.get("key"),
            prefix=st.get("prefix", False),
            limit=st.get("limit"),
            since_revision=st.get("sinceRevision"),
            until_revision=st.get("untilRevision"),
        )
        return [history_record(r) for r in recs]
    if op == "undo":
        return sc.handle(st).undo(revision=st.get("revision"), force=st.get("force", False), source=st.get("source"))
    if op == "setSchema":
        return sc.handle(st).set_schema(st["schema"], source=st.get("source"))
    if op == "revision":
        return sc.handle(st).revision()
    if op == "export":
        return json.loads(stringify(sc.handle(st).export_data()))
    if op == "import":
        doc = parse_json(st["docJson"]) if isinstance(st.get("docJson"), str) else st.get("doc")
        return sc.handle(st).import_data(doc, replace=st.get("replace", False), source=st.get("source"), file=st.get("file"))
    if op == "open":
        sc.close()
        sc.handle(st)
        return True
    if op == "close":
        sc.close()
        return True
    if op == "dump":
        return dump(sc.database(st))
    if op == "dbInfo":
        return db_info(sc.database(st))
    if op == "sql":
        path = sc.database(st)
        assert os.path.exists(path)
        con = sqlite3.connect(path, isolation_level=None)
        try:
            con.executescript(st["sql"])
        finally:
            con.close()
        return True
    if op == "exists":
        return os.path.exists(os.path.join(sc.root, *st["path"].split("/")))
    raise AssertionError("unknown step op %r" % op)


def run_stateful(c):
    sc = Scenario(c.get("setup") or {})
    try:
        if (c.get("setup") or {}).get("schema") is not None:
            sc.main().set_schema(c["setup"]["schema"])
        for n, st in enumerate(c.get("steps") or []):
            if "clock" in st:
                sc.now = st["clock"]
            check(st["expect"], lambda: run_step(sc, st), "step %d (%s)" % (n + 1, st["op"]))
    finally:
        sc.dispose()


def run_case(c):
    if "steps" in c:
        run_stateful(c)
    else:
        assert "op" in c and "input" in c and "expect" in c, "a pure case needs op, input and expect"
        check(c["expect"], lambda: run_pure(c["op"], c["input"]), c["op"])


# ---------------------------------------------------------------------------
# Registration


def _skip(c):
    return semver(c["since"]) > semver(VERSION) or ("until" in c and semver(c["until"]) <= semver(VERSION))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case):
    if _skip(case):
        pytest.skip("not in spec %s" % VERSION)
    reason = EXPECTED.get(case["id"])
    if reason is None:
        run_case(case)
        return
    try:
        run_case(case)
    except BaseException as e:  # noqa: B902 — an expected failure, whatever it raised
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return
    pytest.fail("%s is listed in spec/expected-failures/python.txt (%s) but passes: remove it from the list" % (case["id"], reason))


def test_expected_failures_name_known_ids():
    known = set(c["id"] for c in CASES)
    unknown = [i for i in EXPECTED if i not in known]
    assert unknown == [], "unknown ids in spec/expected-failures/python.txt: %s" % ", ".join(unknown)


def test_case_ids_are_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))

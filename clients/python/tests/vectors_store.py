"""Conformance-vector family: the stateful cases (``setup`` + ``steps``), run against real SQLite
stores in a fresh temporary directory through the public API, with the wall clock fixed per
step (spec/vectors/README.md "Stateful cases")."""
import json
import os
import shutil
import sqlite3
import tempfile

from psmc.store import MISSING, open_store
from psmc.value import parse_json, stringify

from vectors_common import ABSENT, START_CLOCK, check


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

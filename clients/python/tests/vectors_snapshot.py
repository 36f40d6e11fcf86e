"""Conformance-vector family: the pure snapshot ops (``snapshot.*``; spec/sections/snapshots.md)."""
from psmc.errors import PsmcError
from psmc.value import decode_value, parse_json, stringify

from vectors_common import s, show


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

"""Conformance-vector family: the mirror ops, the codecs (``mirror.render``, ``mirror.parse``,
``mirror.update``; spec/sections/mirror-format.md) and the 3-way merge (``mirror.merge``;
spec/sections/mirror-sync.md)."""
import json

from psmc.value import stringify

from vectors_common import s


def run_mirror(op, i):
    """The ``mirror.*`` pure ops."""
    if op == "mirror.merge":
        return run_merge(i)
    return run_codec(op, i)


def run_codec(op, i):
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

"""What every family of the conformance-vector runner shares (format: spec/vectors/README.md):
loading the vector files and the expected-failure list, comparing results with expectations
(``check``), and the ``ABSENT`` result. The families live beside it (``vectors_core``,
``vectors_mirror``, ``vectors_snapshot``, ``vectors_store``); ``test_vectors.py`` dispatches to
them and registers one test per case.
"""
import json
import os
import re

import pytest

from psmc.change import Commit
from psmc.errors import PsmcError
from psmc.value import member_order, stringify

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
            for name, want in (outcome.get("details") or {}).items():
                got = (e.details or {}).get(name)
                assert json_equal(got, want, False), "%s: expected details.%s %s, got %s: %s" % (what, name, show(want), show(got), e)
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
# Arguments


def s(i, k):
    v = i.get(k)
    assert isinstance(v, str), "input.%s must be a string" % k
    return v

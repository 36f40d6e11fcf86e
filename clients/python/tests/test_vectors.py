"""The Python runner of the conformance vectors (format: spec/vectors/README.md; the
TypeScript runner test/spec/vectors.test.ts is followed to the letter).

- Every ``spec/vectors/**/*.json`` file is loaded; each case is one test named by its id.
- Pure cases call the core functions; stateful cases open real SQLite stores in a fresh
  temporary directory through the public API, with the wall clock fixed per step.
- ``spec/expected-failures/python.txt`` lists cases known to fail (``<id> <reason>``). A listed
  case that passes fails the run, and so does a listed id that no vector has.

This file dispatches each case to its family (``vectors_core``, ``vectors_mirror``,
``vectors_snapshot``, ``vectors_store``) and registers the tests; loading and comparing live in
``vectors_common``.
"""
import pytest

from vectors_common import CASES, EXPECTED, VERSION, check, semver
from vectors_core import run_core
from vectors_mirror import run_mirror
from vectors_snapshot import run_snapshot
from vectors_store import run_stateful


def run_pure(op, i):
    if op.startswith("mirror."):
        return run_mirror(op, i)
    if op.startswith("snapshot."):
        return run_snapshot(op, i)
    return run_core(op, i)


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

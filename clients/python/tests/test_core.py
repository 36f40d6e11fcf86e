"""Unit tests for what the vectors do not reach: the Python value mapping, number formatting
against a table, the regex translation, env snapshots, prefixes and the Store API surface."""
import math

import pytest

from psmc import PsmcError, open_store
from psmc.env import snapshot_env
from psmc.keys import normalize_prefix
from psmc.schema import compile_pattern, compile_schema
from psmc.value import assert_value, encode_value, number_to_string, stringify, type_of


@pytest.mark.parametrize(
    "x,text",
    [
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (-2.5e-5, "-0.000025"),
        (5e-324, "5e-324"),
        (-0.0, "0"),
        (100.0, "100"),
        (2.0 ** 53 - 1, "9007199254740991"),
    ],
)
def test_number_to_string(x, text):
    assert number_to_string(x) == text


def test_python_types_map_to_json():
    assert encode_value((1, 2.0, True, None, "é")) == '[1,2,true,null,"é"]'
    assert type_of(2.0) == "integer" and type_of(True) == "boolean" and type_of(2.5) == "number"
    for bad in (float("nan"), math.inf, 2 ** 53, {"__proto__": 1}, {1: "a"}, object(), b"x", "\ud800", {"\udc00": 1}):
        with pytest.raises(PsmcError) as e:
            assert_value(bad)
        assert e.value.code == "PSMC_VALUE_INVALID"
    deep = []
    for _ in range(64):
        deep = [deep]
    with pytest.raises(PsmcError):
        assert_value(deep)
    assert_value(deep[0])


def test_too_large():
    encode_value("a" * (1048576 - 2))
    with pytest.raises(PsmcError) as e:
        encode_value("a" * (1048576 - 1))
    assert e.value.code == "PSMC_VALUE_TOO_LARGE"
    with pytest.raises(PsmcError) as e:
        encode_value("\U0001f600" * 262144)
    assert e.value.code == "PSMC_VALUE_TOO_LARGE"


def test_pretty_matches_json_stringify_indent():
    assert stringify({"b": [], "1": {}, "a": [1, {"x": None}]}, 2) == (
        '{\n  "1": {},\n  "b": [],\n  "a": [\n    1,\n    {\n      "x": null\n    }\n  ]\n}'
    )


@pytest.mark.parametrize(
    "pattern,yes,no",
    [
        ("^a$", ["a"], ["a\n", "ab"]),
        ("^\\d+$", ["0123"], ["\u0661", "1\n"]),
        ("^\\w+$", ["a_Z9"], ["é", "ß"]),
        ("^\\s$", ["\u00a0", "\ufeff", "\u3000", "\x0b"], ["\x1c", "\x85"]),
        ("^\\S$", ["x", "\x85"], [" "]),
        ("^.$", ["\U0001f600", "\x85"], ["\n", "\r", "\u2028", "\u2029"]),
        ("^[\\w-]+$", ["a-b"], ["a b"]),
        ("^[^\\d\\s]+$", ["ab"], ["a1", "a b"]),
        ("x{2,3}", ["xx"], ["x"]),
        ("^(?:a|b)c$", ["ac", "bc"], ["c"]),
        ("\\/\\.\\$", ["/.$"], ["/.x"]),
    ],
)
def test_pattern_semantics(pattern, yes, no):
    rx = compile_pattern(pattern)
    for s in yes:
        assert rx.search(s), (pattern, s)
    for s in no:
        assert not rx.search(s), (pattern, s)


def test_schema_violation_details():
    s = compile_schema({"keys": {"volume": {"type": "number", "maximum": 100}, "a.*": {"type": "string"}}})
    with pytest.raises(PsmcError) as e:
        s.validate("volume", 120)
    assert e.value.details == {"key": "volume", "path": "", "keyword": "maximum"}
    assert "above the maximum 100" in e.value.message and e.value.hint == "Use a number of at most 100."
    with pytest.raises(PsmcError) as e:
        s.validate("a.b", 1)
    assert e.value.details["keyword"] == "type"


def test_snapshot_env_and_prefix():
    env = {"PSMC_A": "1", "PSMC_HOME": "/x", "PSMC_": "no", "OTHER": "x", "psmc_b": "1"}
    assert snapshot_env(env, "PSMC") == {"PSMC_A": "1"}
    assert snapshot_env(env, "PSMC", case_insensitive=True) == {"PSMC_A": "1", "PSMC_B": "1"}
    assert normalize_prefix("display.") == "display"
    with pytest.raises(PsmcError):
        normalize_prefix("a..")


def test_store_api_surface(tmp_path):
    with open_store(dir=str(tmp_path), env={"PSMC_X__Y": "42"}, overrides={"o": 1}, defaults={"d": [1]}) as s:
        assert s.get("x.y") == 42 and s.resolve("x.y").source == "env:PSMC_X__Y"
        assert s.get("o") == 1 and s.get("d") == [1]
        assert s.get("missing", default={"a": 1}) == {"a": 1}
        c = s.set("k", "v")
        assert c.revision == 1 and c.changes[0].source == "python"
        assert s.set("k", "v").changes == []
        s.batch([{"op": "set", "key": "b", "value": 2}, {"op": "delete", "key": "k", "expect_revision": 1}])
        assert s.revision() == 2 and "k" not in s and s["b"] == 2
        assert [r.key for r in s.list()] == ["b", "d", "o"]  # env-only keys are not listed (as in TS)
        assert s.all("b") == {"b": 2}
        assert [h.key for h in s.history()] == ["k", "b", "k"]
        assert s.undo().changes[0].note == "undo of revision 2"
        s.set_schema({"keys": {"b": {"type": "integer", "default": 7}}})
        assert s.schema() == {"keys": {"b": {"type": "integer", "default": 7}}}
        with pytest.raises(PsmcError) as e:
            s.set("b", "x")
        assert e.value.code == "PSMC_SCHEMA_VIOLATION"
        doc = s.export_data()
        assert doc["format"] == "psmc-export" and doc["revision"] == 4 and "k" in doc["entries"]
        s.import_data({"n": 1}, file="/tmp/x.json")
        assert s.history("n")[0].source == "import:x.json"
        s.import_data({"n": 1}, replace=True)
        assert sorted(s.export_data()["entries"]) == ["n"]
        assert s.check_integrity() == []
        with pytest.raises(TypeError):
            s.get(1)

"""The pure snapshot modules and the mirror merge beyond the vectors (spec/sections/snapshots.md,
spec/sections/mirror-sync.md §mirror.merge)."""
import pytest

from psmc.errors import PsmcError
from psmc.merge import OursEntry, merge_mirror
from psmc.snapshot import (
    build_snapshot,
    diff_entries,
    name_of_file,
    parse_snapshot,
    render_snapshot,
    snapshot_to_json,
    unique_name,
)

T = "2026-11-26T04:45:41.123Z-0000"


def doc():
    return build_snapshot(
        "before-upgrade",
        "2026-11-26T04:45:41.123Z",
        3,
        "manual",
        "python",
        {
            "b": {"value": {"10": 1, "2": [1.0, -0.0]}, "revision": 3, "updated_at": T, "source": "cli"},
            "a": {"value": "x", "revision": 1, "updated_at": T, "source": "api"},
        },
        schema={"keys": {}},
    )


def test_round_trip():
    d = doc()
    text = render_snapshot(d)
    assert text.endswith("}\n") and "\r" not in text
    again = parse_snapshot(text, file="before-upgrade.json", expect_name="before-upgrade")
    assert again == d
    assert render_snapshot(again) == text
    assert list(snapshot_to_json(d)["entries"]) == ["a", "b"]
    assert d.entries["b"].type == "object" and d.format == "psmc-snapshot" and d.version == 1


def test_name_must_match_the_file():
    with pytest.raises(PsmcError) as e:
        parse_snapshot(render_snapshot(doc()), file="other.json", expect_name="other")
    assert e.value.code == "PSMC_PARSE"


def test_deep_nesting_is_refused_like_json_parse():
    for text, code in [
        ("[" * 5000 + "]" * 5000, "PSMC_PARSE"),
        ('{"format":"psmc-snapshot","version":1,"x":' + "[" * 5000 + "]" * 5000 + "}", "PSMC_PARSE"),
        ('{"format":"psmc-snapshot","version":2,"x":' + "[" * 5000 + "]" * 5000 + "}", "PSMC_FORMAT_TOO_NEW"),
        ("[" * 5000, "PSMC_PARSE"),
    ]:
        with pytest.raises(PsmcError) as e:
            parse_snapshot(text)
        assert e.value.code == code


def test_json_parse_errors_do_not_quote_the_text():
    with pytest.raises(PsmcError) as e:
        parse_snapshot('{"format": "secret-value', file="x.json")
    assert e.value.code == "PSMC_PARSE" and "secret" not in e.value.message


def test_names():
    assert name_of_file("a.json") == "a" and name_of_file(".a.json") is None and name_of_file("a.JSON") is None
    assert unique_name("x", {"X", "x-2"}) == "x-3"
    assert unique_name("a" * 64, {"a" * 64}) == "a" * 62 + "-2"


def test_diff_of_documents():
    d = doc()
    assert diff_entries(d, {"a": "x", "b": {"2": [1, 0], "10": 1.0}}) == []
    assert diff_entries(d, {}) == [
        {"key": "a", "change": "removed", "before": "x"},
        {"key": "b", "change": "removed", "before": {"10": 1, "2": [1.0, 0]}},
    ]


def test_merge_takes_tuples_and_dedupes_keys():
    r = merge_mirror(
        keys=["b", "a", "b"],
        theirs={"a": "2", "b": "1"},
        base=lambda k: "1",
        ours=lambda k: ("3", 10, "cli") if k == "a" else OursEntry("1", 0, "file"),
        file_time_ms=5,
    )
    assert r.apply == [] and len(r.conflicts) == 1
    c = r.conflicts[0]
    assert (c.key, c.winner, c.lost, c.won, c.loser_source) == ("a", "store", "2", "3", "file")

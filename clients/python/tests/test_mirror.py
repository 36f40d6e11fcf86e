"""The mirror codecs beyond the vectors: the Python API, round trips, absurd nesting, and that the
CLI's cold start never loads them."""
import os
import subprocess
import sys

import pytest

from psmc import PsmcError
from psmc.mirror import DELETE, HEADER_TEXT, MIRROR_FILES, codec_for

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src"))
FORMATS = ["json", "toml", "yaml"]

VALUES = {
    "a.b": "metric",
    "n": None,
    "big": -9007199254740991,
    "f": 1.5e-7,
    "o": {"10": 1, "2": [1, None, {"$json": 2}], "b c": {}, "": "e"},
    "s": "line\n\"two\"\t\x7f\u2028\U0001F600",
    "j": {"$json": [1]},
    "true": True,
    "arr": [[], {}, [[1]], "x"],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_parse_round_trip(fmt):
    codec = codec_for(fmt)
    text = codec.render(list(VALUES.items()))
    assert text.split("\n", 1)[0].endswith(HEADER_TEXT)
    p = codec.parse(text)
    assert p.header == {"version": 1}
    assert list(p.values) == sorted(VALUES)
    assert p.values == VALUES
    # A mapping is accepted too, and rendering is independent of the order given.
    assert codec.render(dict(reversed(list(VALUES.items())))) == text


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_of_a_canonical_file_gives_the_canonical_file(fmt):
    codec = codec_for(fmt)
    text = codec.render(list(VALUES.items()))
    changes = [("a.b", DELETE), ("zz", {"x": [1, None]}), ("aa", 1), ("o", [1]), ("missing", DELETE)]
    new = dict(VALUES)
    del new["a.b"]
    new.update({"zz": {"x": [1, None]}, "aa": 1, "o": [1]})
    assert codec.update(text, changes) == codec.render(new)
    # Dicts with an absent "value" delete too.
    assert codec.update(text, [{"key": "a.b"}]) == codec.update(text, [("a.b", DELETE)])


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_carry_line_and_column(fmt):
    codec = codec_for(fmt)
    bad = {"json": '{\n  "a": 1,\n  "a b": 2\n}\n', "toml": '"a" = 1\n"a b" = 2\n', "yaml": "a: 1\na b: 2\n"}[fmt]
    with pytest.raises(PsmcError) as e:
        codec.parse(bad)
    assert e.value.code == "PSMC_KEY_SYNTAX"
    assert e.value.details["line"] == (3 if fmt == "json" else 2) and e.value.details["key"] == "a b"
    assert e.value.details["column"] == (3 if fmt == "json" else 1)
    with pytest.raises(PsmcError) as e:
        codec.update(codec.render([]), [("a", 1), ("a", 2)])
    assert e.value.code == "PSMC_USAGE"


@pytest.mark.parametrize("fmt", FORMATS)
def test_absurd_nesting_is_a_value_error_not_a_crash(fmt):
    codec = codec_for(fmt)
    deep = "[" * 50000 + "]" * 50000
    text = {"json": '{"a": %s}' % deep, "toml": '"a" = %s\n' % deep, "yaml": "a: %s\n" % deep}[fmt]
    with pytest.raises(PsmcError) as e:
        codec.parse(text)
    assert e.value.code == "PSMC_VALUE_INVALID"


def test_codec_for_refuses_unknown_formats():
    assert set(MIRROR_FILES) == set(FORMATS)
    with pytest.raises(TypeError):
        codec_for("ini")


def test_cli_cold_start_does_not_load_the_codecs(tmp_path):
    env = dict(os.environ, PYTHONPATH=SRC)
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "psmc", "get", "a", "--store", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "psmc" in r.stderr
    for codec in ("psmc.mirror.common", "psmc.mirror.json", "psmc.mirror.toml", "psmc.mirror.yaml"):
        assert codec not in r.stderr

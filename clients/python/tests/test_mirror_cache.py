"""The mirror engine's layout cache and the JSON codec's in-place value replacement (see
psmc.mirror.engine.Mirror._updated_text and json._Editor.replace_layout): an export of the file
this engine last wrote skips parsing it, and a changed value does not rescan the file. Neither may
change a byte of any export, nor let a hand edit be overwritten or missed."""
import hashlib
import json
import os
import random

import pytest

import psmc
from psmc.mirror import codec_for
from psmc.mirror import json as jsonc
from psmc.mirror import toml as tomlc
from psmc.mirror.common import DELETE, split_bom, update_layout

HEADER = "// psmc mirror v1: edit freely; saved changes merge into the store. Docs: spec/sections/mirror-format.md\n"


def open_(d, **kw):
    kw.setdefault("env", {})
    return psmc.open_store(dir=str(d), **kw)


def read(p):
    with open(str(p), "rb") as f:
        return f.read().decode("utf-8")


def write_keeping_stat(p, text):
    """Overwrites ``p`` and puts back its size-preserving edit's old mtime (to the nanosecond):
    a stat cannot tell this edit from the file psmc wrote."""
    st = os.stat(str(p))
    data = text.encode("utf-8")
    assert len(data) == st.st_size
    with open(str(p), "wb") as f:
        f.write(data)
    os.utime(str(p), ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(str(p))
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def export_now(s):
    """Exports pending commits now, whatever the burst interval says."""
    s._write.shared.mirror._last_export = float("-inf")
    s.flush()


def layout_facts(layout):
    return (
        [(e.key, json.dumps(e.value, sort_keys=True), e.encoded, e.start, e.end, e.comma) for e in layout.entries],
        layout.header,
        layout.open,
        layout.close,
    )


# -- the codecs: replace_layout gives what a rescan gives ----------------------------------------

BASES = [
    jsonc.render([]),
    jsonc.render([("a", 1), ("b", "two"), ("c", {"x": [1, 2, {"y": None}]}), ("d.e", True)]),
    # Comments everywhere, trailing comma, unsorted, two members on one line, nested comments.
    '// psmc mirror v1: my file\n{\n  // units\n  "z": "metric", /* inline */ "a": 1,\n'
    '  "m": { "deep": [1, /* two */ 2, 3,], // the list\n  },\n  "b": [],\n}\n// the end\n',
    # CRLF, a byte order mark, odd indentation.
    '\ufeff{\r\n\t"k1": "v",\r\n\t"k2": {"n": 1.5},\r\n\t"k3": -2\r\n}\r\n',
    # Everything on one line, no trailing newline.
    '{"one": 1, "two": [2], "three": {"3": 3}}',
    # The only CRLFs are inside one value: replacing it can turn the file's line breaks to LF.
    '{\n  "a": 1,\n  "m": [\r\n    1,\r\n    2\r\n  ],\n  "z": {"q": 1}\n}\n',
]


def random_value(rnd, depth=0):
    kind = rnd.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rnd.randrange(-10 ** 6, 10 ** 6)
    if kind == 1:
        return rnd.choice([0.5, -1.25, 1e-7, 3.0, 123456.789])
    if kind == 2:
        return rnd.choice([True, False])
    if kind == 3:
        return None
    if kind in (4, 5):
        return "".join(rnd.choice(['a', 'Z', ' ', '"', '\\', '\n', '\t', '\u00e9', '\u2028', '\U0001f600', '/', '*'])
                       for _ in range(rnd.randrange(0, 12)))
    if kind in (6, 7):
        return [random_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 4))]
    return {rnd.choice(["x", "y", "1", "b c", "\u00e9"]): random_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 4))}


TOML_BASES = [
    tomlc.render([]),
    tomlc.render([("a", 1), ("b", "two"), ("c", {"x": [1, 2, {"y": None}]}), ("d.e", True)]),
    '# psmc mirror v1: mine\n# about z\n"z" = "metric" # trailing\n\n"a" = 1\n"m" = [\n  1, # one\n  2,\n]\n'
    '"b" = { x = 1, "y z" = [true] }\n# the end\n',
    '\ufeff"k1" = "v"\r\n"k2" = { "$json" = "[null]" }\r\n"k3" = -2\r\n',
    '"one" = 1',
]
CASES = [(jsonc, i) for i in range(len(BASES))] + [(tomlc, i) for i in range(len(TOML_BASES))]


@pytest.mark.parametrize("codec,base", CASES, ids=["%s-%d" % (c.__name__.rsplit(".", 1)[1], i) for c, i in CASES])
def test_updates_carrying_the_layout_give_the_bytes_and_layout_of_updates_that_rescan(codec, base):
    rnd = random.Random(1000 + base)
    text = (BASES if codec is jsonc else TOML_BASES)[base]
    layout = None
    keys = ["a", "b", "z", "k1", "one", "m", "new.key", "n%d" % base]
    for _round in range(120):
        changes = []
        for key in rnd.sample(keys, rnd.choice([1, 1, 1, 2, 3, 5, 8])):
            r = rnd.random()
            changes.append((key, DELETE if r < 0.1 else random_value(rnd)))
        expected = codec.update(text, changes)  # the rescanning path, as before the cache
        got, layout = update_layout(text, changes, codec._Editor, layout)
        assert got == expected
        assert layout_facts(layout) == layout_facts(codec._Editor.scan(split_bom(got)[1]))
        text = got


def test_replacements_that_change_what_a_later_one_sees_are_applied_one_at_a_time():
    # "b" stands on the last line of the old value of "a": once "a" is one line, the line of "b"
    # has other leading blanks, so the new lines of "b" are indented otherwise.
    text = '{\n  "a": [\n        1\n      ], "b": 2\n}\n'
    changes = [("a", 5), ("b", {"x": [1, 2]})]
    expected = jsonc.update(text, changes)
    got, layout = update_layout(text, changes, jsonc._Editor, jsonc.scan_json(text))
    assert got == expected and "\n  }" in got
    assert layout_facts(layout) == layout_facts(jsonc.scan_json(got))
    # The only CRLFs are inside the old value of "a": after it, the file has none, and the new
    # lines of "b" end in LF.
    text = '{\n  "a": [\r\n    1\r\n  ],\n  "b": 2\n}\n'
    expected = jsonc.update(text, changes)
    got, layout = update_layout(text, changes, jsonc._Editor, jsonc.scan_json(text))
    assert got == expected and "\r" not in got
    assert layout_facts(layout) == layout_facts(jsonc.scan_json(got))
    # With a CRLF elsewhere too, every new line break is CRLF.
    text = '{\r\n  "a": [\r\n    1\r\n  ],\n  "b": 2\n}\n'
    expected = jsonc.update(text, changes)
    got, layout = update_layout(text, changes, jsonc._Editor, jsonc.scan_json(text))
    assert got == expected and '"x": [\r\n' in got


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_on_a_canonical_file_rendering_anew_gives_the_bytes_of_the_update(fmt):
    # The engine renders a canonical file anew instead of an update that would scan it more than
    # once (inserts, removals): the same bytes, or the choice would show in the file.
    codec = codec_for(fmt)
    rnd = random.Random(5)
    keys = ["a", "a.b", "b", "c-d", "c_d", "k.1", "k.10", "k.2", "z"]
    for _round in range(80):
        values = dict((k, random_value(rnd)) for k in rnd.sample(keys, rnd.randrange(0, len(keys))))
        text = codec.render(list(values.items()))
        changes = [(k, DELETE if rnd.random() < 0.3 else random_value(rnd))
                   for k in rnd.sample(keys, rnd.randrange(1, len(keys)))]
        for k, v in changes:
            if v is DELETE:
                values.pop(k, None)
            else:
                values[k] = v
        assert codec.update(text, changes) == codec.render(list(values.items()))


def test_replace_layout_leaves_the_layout_it_was_given_unchanged():
    text = jsonc.render([("a", 1), ("b", 2), ("c", 3)])
    layout = jsonc.scan_json(text)
    before = layout_facts(layout)
    got, after = update_layout(text, [("a", "a much longer value")], jsonc._Editor, layout)
    assert layout_facts(layout) == before
    assert after is not layout and layout_facts(after) == layout_facts(jsonc.scan_json(got))


# -- the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_many_cached_exports_keep_comments_and_match_an_update_of_the_file_byte_for_byte(tmp_path, fmt):
    codec = codec_for(fmt)
    with open_(tmp_path) as s:
        s.set_mirror_format(fmt)
        s.batch([{"op": "set", "key": "k%d" % i, "value": "value %d" % i} for i in range(40)])
        export_now(s)
        f = s.mirror_file
        text = read(f)
        marker = "//" if fmt == "json" else "#"
        # A hand edit with comments, imported by the next write.
        edited = text.replace("\n", "\n%s kept comment\n" % marker, 2)
        with open(f, "w", encoding="utf-8", newline="") as fh:
            fh.write(edited)
        os.utime(f, (1, 1))
        s.set("k3", "after the edit")
        export_now(s)
        prev = read(f)
        assert prev.count("kept comment") == 2
        m = s._write.shared.mirror
        rnd = random.Random(7)
        for i in range(60):
            key = rnd.choice(["k1", "k5", "k39", "counter", "new.%d" % (i % 3)])
            value = random_value(rnd) if i % 4 else i
            if value is None:
                value = "none"
            if i % 9 == 8:
                s.delete(key)
                change = (key, DELETE)
            else:
                s.set(key, value)
                change = (key, value)
            export_now(s)
            now = read(f)
            assert now == codec.update(prev, [change])
            data = now.encode("utf-8")
            # The engine keeps the layout of exactly what it wrote, keyed by that text's hash.
            assert m._layout_cache[1] == hashlib.sha256(data).hexdigest() and m._layout_cache[2] == now
            prev = now
        assert prev.count("kept comment") == 2
        assert codec.parse(prev).values == s.all()


def test_an_edit_with_the_same_size_and_mtime_is_never_overwritten_and_imports_once_noticed(tmp_path):
    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": "k%d" % i, "value": "value %d" % i} for i in range(30)])
        export_now(s)
        s.set("k1", "value X")
        export_now(s)  # a span update: the engine now holds the layout of this text
        f = s.mirror_file
        mine = read(f)
        m = s._write.shared.mirror
        assert m._layout_cache is not None and m._layout_cache[2] == mine
        edited = mine.replace('"k2": "value 2"', '"k2": "value Y"')
        assert edited != mine
        write_keeping_stat(f, edited)
        # The stat matches the bookkeeping, so the edit is not seen as one yet; but the export
        # reads the bytes: they are not what psmc wrote, so it neither uses its layout nor writes.
        s.set("k3", "value Z")
        export_now(s)
        assert read(f) == edited
        assert s.get("k2") == "value 2"
        # Once its stat moves (any later save or touch), the edit is imported and merged.
        os.utime(f, (1, 1))
        s.set("k4", "value W")
        export_now(s)
        assert s.get("k2") == "value Y" and s.get("k3") == "value Z" and s.get("k4") == "value W"
        final = read(f)
        assert '"k2": "value Y"' in final and '"k3": "value Z"' in final and '"k4": "value W"' in final


def test_after_an_import_the_export_starts_from_the_imported_file_not_the_cached_one(tmp_path):
    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": "k%d" % i, "value": i} for i in range(20)])
        export_now(s)
        s.set("k0", 100)
        export_now(s)
        f = s.mirror_file
        m = s._write.shared.mirror
        cached = m._layout_cache
        assert cached is not None
        edited = read(f).replace('"k5": 5', '"k5": 55 /* hand */').replace("{\n", "{\n  // top note\n", 1)
        with open(f, "w", encoding="utf-8", newline="") as fh:
            fh.write(edited)
        os.utime(f, (1, 1))
        s.set("k6", 66)  # imports the edit first, then exports k6
        export_now(s)
        out = read(f)
        assert out == jsonc.update(edited, [("k6", 66)])
        assert "/* hand */" in out and "// top note" in out and s.get("k5") == 55
        assert m._layout_cache is not cached and m._layout_cache[2] == out


def test_a_file_with_a_byte_order_mark_and_crlf_stays_so_through_cached_exports(tmp_path):
    with open_(tmp_path) as s:
        s.batch([{"op": "set", "key": "k%d" % i, "value": i} for i in range(5)])
        export_now(s)
        f = s.mirror_file
        edited = "\ufeff" + read(f).replace("\n", "\r\n")
        with open(f, "w", encoding="utf-8", newline="") as fh:
            fh.write(edited)
        os.utime(f, (1, 1))
        prev = edited
        for i in range(10):
            s.set("k%d" % (i % 3), "v%d" % i)
            export_now(s)
            now = read(f)
            assert now == jsonc.update(prev, [("k%d" % (i % 3), "v%d" % i)])
            prev = now
        assert prev.startswith("\ufeff" + HEADER.rstrip("\n") + "\r\n") and "\n" not in prev.replace("\r\n", "")


def test_switching_formats_drops_the_cached_layout(tmp_path):
    with open_(tmp_path) as s:
        s.set("a", 1)
        s.set("b", 2)
        export_now(s)
        s.set("a", 3)
        export_now(s)
        m = s._write.shared.mirror
        assert m._layout_cache is not None
        s.set_mirror_format("toml")
        assert m._layout_cache is None
        s.set("a", 4)
        export_now(s)
        assert codec_for("toml").parse(read(tmp_path / "config.toml")).values == {"a": 4, "b": 2}

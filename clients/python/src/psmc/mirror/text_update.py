"""The text of one export (spec/sections/mirror-format.md §mirror.update): the mirror file with a
commit's changes applied, reusing the layout of the text this engine last wrote. Split from
:mod:`psmc.mirror.engine`, which decides when to export."""
from .common import DELETE, split_bom, update_layout


def _key_order(pair):
    from ..keys import utf16_order

    return utf16_order(pair[0])


def updated_text(codec, setting, cache, base, digest, changes):
    """``cache``: None, or ``(setting, sha256, text, layout)`` of the text last written.

    ``(text, layout)``: the file with ``changes`` applied (§mirror.update) and the layout of
    the result (None when not known). When the changes would scan the file again more than once
    (inserts and removals; with YAML, more than 16 changes) and the file is exactly canonical
    (nothing to preserve), it is rendered anew: the same bytes in one pass.

    The scan of ``base`` (its parse, with positions) is skipped when it is the text this engine
    last wrote: the layout of that text is kept with its SHA-256 and the text itself, and used
    only when the file read now has that hash and is that text, character for character (a
    stat is never trusted for this). The JSON and TOML codecs replace values (all those of one
    export in one pass) without scanning the whole file again; see common.update_layout."""
    # Every codec's parse(text) is to_parsed(_Editor.scan(text without BOM)); see common.run_update.
    editor = getattr(codec, "_Editor", None)
    layout = None
    if cache is not None and cache[0] == setting and cache[1] == digest and cache[2] == base:
        layout = cache[3]
    if layout is None and editor is not None:
        layout = editor.scan(split_bom(base)[1])
    if layout is not None and getattr(editor, "scan_alone", None) is not None:
        # Values are replaced in one pass; each insert or removal scans the file again.
        present = set(e.key for e in layout.entries)
        many = sum(1 for key, value in changes if (value is DELETE) == (key in present)) > 1
    else:
        many = len(changes) > 16
    if many:
        if layout is not None:
            values = dict((e.key, e.value) for e in layout.entries)
        else:
            values = dict(codec.parse(base).values)
        if codec.render(sorted(values.items(), key=_key_order)) == base:
            for key, value in changes:
                if value is DELETE:
                    values.pop(key, None)
                else:
                    values[key] = value
            return codec.render(sorted(values.items(), key=_key_order)), None
    if editor is None:
        return codec.update(base, changes), None
    return update_layout(base, changes, editor, layout)


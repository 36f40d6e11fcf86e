"""The mirror's file names and header (spec/sections/mirror-format.md), apart from the codecs so
that the sync engine can find the file without loading a codec (a cold ``get`` stays cheap)."""

#: The mirror format version this implementation writes and reads.
MIRROR_VERSION = 1

#: The file name of the mirror in each format.
MIRROR_FILES = {"json": "config.json", "toml": "config.toml", "yaml": "config.yaml"}

#: The header text after the comment marker (``// `` in JSONC, ``# `` in TOML and YAML).
HEADER_TEXT = (
    "psmc mirror v%d: edit freely; saved changes merge into the store. Docs: spec/sections/mirror-format.md"
    % MIRROR_VERSION
)

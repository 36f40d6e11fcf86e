"""Key schemas (spec/sections/schema-env.md §schema.*; TypeScript: src/core/schema/). Pure: no I/O.

One idea per module, mirroring the TypeScript files:
  types.py        the vocabulary: type names, keywords
  messages.py     how PSMC_SCHEMA_INVALID messages are worded
  pattern.py      the portable regex subset: checker and translation to Python ``re``
  key_pattern.py  ``*`` key patterns and their precedence
  document.py     parse_schema_document
  numbers.py      code-point length and exact multipleOf
  violation.py    Violation and the PSMC_SCHEMA_VIOLATION error
  compile.py      compile_node: one key schema -> one check
  compiled.py     CompiledSchema: the whole document, lookup and validate
"""
from .compile import check_for_key_schema, compile_node
from .compiled import CompiledSchema, compile_schema
from .document import parse_schema_document
from .numbers import code_point_length, is_multiple_of
from .pattern import MAX_GROUP_DEPTH, MAX_REPEAT, check_pattern_subset, compile_pattern, to_python_regex
from .types import SCHEMA_TYPES, SUPPORTED_KEYWORDS
from .violation import Violation, violation_error, violation_path

__all__ = [
    "CompiledSchema",
    "MAX_GROUP_DEPTH",
    "MAX_REPEAT",
    "SCHEMA_TYPES",
    "SUPPORTED_KEYWORDS",
    "Violation",
    "check_for_key_schema",
    "check_pattern_subset",
    "code_point_length",
    "compile_node",
    "compile_pattern",
    "compile_schema",
    "is_multiple_of",
    "parse_schema_document",
    "to_python_regex",
    "violation_error",
    "violation_path",
]

"""The vocabulary of a schema document (spec/sections/schema-env.md §schema.document, §schema.subset)."""

SCHEMA_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")

#: Every keyword a key schema may hold, in the order validation checks them.
SUPPORTED_KEYWORDS = (
    "type",
    "const",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "required",
    "minProperties",
    "maxProperties",
    "properties",
    "additionalProperties",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "secret",
)

DOCUMENT_MEMBERS = ("version", "keys", "additionalKeys")

//! Key schemas (spec/sections/schema-env.md §schema.document … §schema.default). Pure: no I/O.
//!
//! A schema document declares, per key or key pattern (`sensors.*.max`), a JSON Schema in a
//! small subset that every language enforces identically. [`parse_schema_document`] checks a
//! document and returns its normalised copy (the text that is stored); [`CompiledSchema`]
//! compiles one check per entry and fails writes with `PSMC_SCHEMA_VIOLATION`.
//!
//! Patterns (`pattern`) are checked against the portable regex subset, then translated to the
//! `regex` crate's syntax so that matching is the JavaScript `u`-flag semantics the spec fixes:
//! `.` excludes only U+000A, U+000D, U+2028, U+2029; `\d \w \s` are explicit ASCII / listed
//! classes; `^`/`$` are whole-string anchors; every other literal is written as `\x{…}`.
//!
//! The modules, one idea each (the TypeScript twin is `src/core/schema/`): `document` parses a
//! document, `key_schema` holds one compiled key schema and checks values against it,
//! `compiled` looks up the schema governing a key, `key_pattern` reads `keys` names with `*`
//! segments, `pattern` is the portable regex subset, `numbers` the exact `multipleOf`,
//! `violation` and `messages` the wording of what is wrong. Everything public is re-exported
//! here, so `psmc::schema::X` paths do not depend on the layout.

mod compiled;
mod document;
mod key_pattern;
mod key_schema;
mod messages;
mod numbers;
mod pattern;
mod violation;

pub use compiled::{type_set, CompiledSchema};
pub use document::{parse_key_schema, parse_schema_document, SUPPORTED_KEYWORDS};
pub use key_schema::KeySchema;
pub use messages::{cut_utf16, quote};
pub use numbers::{code_point_length, is_multiple_of};
pub use pattern::{check_pattern_subset, translate_pattern, MAX_GROUP_DEPTH, MAX_REPEAT};
pub use violation::{violation_error, Violation};

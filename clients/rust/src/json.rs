//! JSON values with ECMAScript semantics (spec/SPEC.md §value.encoding).
//!
//! psmc stores values as the exact bytes `JSON.stringify` writes, so this module re-implements
//! the parts of ECMAScript JSON that matter, instead of using serde_json:
//!
//! - numbers are IEEE-754 doubles, parsed with correct rounding (`1e400` parses to infinity,
//!   which the value rules then refuse, as in JavaScript), written in `Number::toString` form;
//! - objects keep ECMAScript property order: array-index names (`0` … `4294967294`) first in
//!   ascending numeric order, then every other name in insertion order;
//! - a member name given twice keeps the last value at the position of the first (`JSON.parse`);
//! - strings are escaped exactly like `JSON.stringify`;
//! - a lone UTF-16 surrogate escape (`"\uD800"`) cannot live in a Rust `String`: the parser
//!   reports it as [`ParseError::LoneSurrogate`] once the whole text has parsed, which callers
//!   map to `PSMC_VALUE_INVALID` (in JavaScript the text parses and the value rules refuse it).
//!
//! The modules, one idea each: `value` (the `Value` and `Object` types), `number`
//! (`Number::toString`), `write` (`JSON.stringify`), `parse` (`JSON.parse`). Everything public is
//! re-exported here, so `psmc::json::X` paths do not depend on the layout.

mod number;
mod parse;
mod value;
mod write;

pub use number::format_number;
pub use parse::{parse, parse_with, LoneAt, LoneSurrogates, ParseError, MAX_PARSE_DEPTH};
pub use value::{is_array_index, obj, Object, Value};
pub use write::{quote_str, write_string};

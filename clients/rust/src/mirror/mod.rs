//! The plaintext mirror codecs (spec/sections/mirror-format.md; TypeScript reference:
//! `src/mirror/codecs/`; Python: `clients/python/src/psmc/mirror/`).
//!
//! A codec turns the mirror file of a store — its values as a file a person edits by hand —
//! into entries and back, in one of three formats: JSONC (`config.json`, the default), TOML
//! (`config.toml`) and YAML (`config.yaml`). Codecs are pure: text in, text or values out; they
//! never touch a file, a clock or the store.
//!
//! ```
//! use psmc::mirror::{self, MirrorChange, MirrorFormat};
//! use psmc::Value;
//! let text = mirror::render(MirrorFormat::Toml, &[("display.units".into(), Value::from("metric"))])?;
//! let parsed = mirror::parse(MirrorFormat::Toml, &text)?;
//! assert_eq!(parsed.get("display.units"), Some(&Value::from("metric")));
//! assert_eq!(parsed.version, Some(1));
//!
//! // A person adds a comment; an update keeps it and inserts the new key in sorted position.
//! let edited = text.replace("\"display.units\"", "# shown in the GUI\n\"display.units\"");
//! let text = mirror::update(MirrorFormat::Toml, &edited, &[MirrorChange::set("net.port", 8080)])?;
//! assert!(text.ends_with("# shown in the GUI\n\"display.units\" = \"metric\"\n\"net.port\" = 8080\n"));
//!
//! // Errors say where and how to fix it.
//! let e = mirror::parse(MirrorFormat::Toml, "display.units = 1\n").unwrap_err();
//! assert_eq!(e.code(), "PSMC_PARSE");
//! assert_eq!(e.details().get("line"), Some(&Value::from(1u64)));
//! assert!(e.hint().contains("Quote the whole key"));
//! # Ok::<(), psmc::PsmcError>(())
//! ```
//!
//! Every function here fails only with a [`PsmcError`] carrying the codes and hints of
//! §mirror.parse (`PSMC_PARSE` with `line`/`column` details, `PSMC_KEY_SYNTAX`,
//! `PSMC_KEY_RESERVED`, `PSMC_VALUE_INVALID`, `PSMC_VALUE_TOO_LARGE`, `PSMC_FORMAT_TOO_NEW`,
//! and `PSMC_USAGE` for a key given twice to [`render`] or [`update`]). Error details never name
//! the file: the caller, who knows the path, adds it.

mod common;
mod json;
mod jsonc_syntax;
mod toml;
mod toml_check;
mod toml_reader;
mod toml_scalars;
mod yaml;
mod yaml_flow;
mod yaml_parse;
mod yaml_scalars;

use crate::errors::{PsmcError, Result};
use crate::json::Value;

/// The mirror format version this implementation writes and reads.
pub const MIRROR_VERSION: u32 = 1;

/// The header text after the comment marker (`// ` in JSONC, `# ` in TOML and YAML).
pub const HEADER_TEXT: &str = "psmc mirror v1: edit freely; saved changes merge into the store. Docs: spec/sections/mirror-format.md";

/// The three file formats of the mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MirrorFormat {
    /// JSON with comments (`config.json`), the default.
    #[default]
    Json,
    /// TOML 1.0 (`config.toml`).
    Toml,
    /// YAML 1.2, core schema (`config.yaml`).
    Yaml,
}

impl MirrorFormat {
    /// Every format, in the order of the spec's table.
    pub const ALL: [MirrorFormat; 3] = [MirrorFormat::Json, MirrorFormat::Toml, MirrorFormat::Yaml];

    /// The format's name: `json`, `toml` or `yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorFormat::Json => "json",
            MirrorFormat::Toml => "toml",
            MirrorFormat::Yaml => "yaml",
        }
    }

    /// The mirror's file name in this format (`config.json`, `config.toml`, `config.yaml`).
    pub fn file_name(self) -> &'static str {
        match self {
            MirrorFormat::Json => "config.json",
            MirrorFormat::Toml => "config.toml",
            MirrorFormat::Yaml => "config.yaml",
        }
    }

    /// The format named `json`, `toml` or `yaml`; `PSMC_USAGE` for any other name.
    pub fn from_name(name: &str) -> Result<MirrorFormat> {
        MirrorFormat::ALL.into_iter().find(|f| f.as_str() == name).ok_or_else(|| {
            PsmcError::usage(
                format!("The mirror format must be \"json\", \"toml\" or \"yaml\", not {}.", crate::json::quote_str(name)),
                "Choose one of json (the default), toml or yaml.",
            )
            .with("format", name)
        })
    }
}

impl std::fmt::Display for MirrorFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`parse`] found in a mirror file.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedMirror {
    /// Key → value, in file order. Every key is legal (§key), no key appears twice, and every
    /// value obeys §value.limits (`-0` already turned into `0`).
    pub entries: Vec<(String, Value)>,
    /// The version named by the header line (`psmc mirror v1` → `Some(1)`), or `None` when
    /// line 1 is no header.
    pub version: Option<u32>,
}

impl ParsedMirror {
    /// The value of `key`, if the file has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// One change given to [`update`]: a key with its new value, or with `None` to remove it.
#[derive(Clone, Debug, PartialEq)]
pub struct MirrorChange {
    pub key: String,
    /// The new value; `None` deletes the key.
    pub value: Option<Value>,
}

impl MirrorChange {
    /// Sets `key` to `value`.
    pub fn set(key: impl Into<String>, value: impl Into<Value>) -> Self {
        MirrorChange { key: key.into(), value: Some(value.into()) }
    }
    /// Removes `key`.
    pub fn delete(key: impl Into<String>) -> Self {
        MirrorChange { key: key.into(), value: None }
    }
}

/// Parses mirror file text (§mirror.parse): the entries in file order and the header version.
///
/// Checks, in this order: the header (`PSMC_FORMAT_TOO_NEW` for a version above 1, before
/// anything else), the syntax of the whole file (`PSMC_PARSE`), then each entry in file order:
/// its key (`PSMC_KEY_SYNTAX` / `PSMC_KEY_RESERVED`), its value (`PSMC_VALUE_INVALID`,
/// `PSMC_VALUE_TOO_LARGE`) and duplicate names (`PSMC_PARSE`). Every error's details carry
/// `line` and `column` (1-based, columns in code points), and `key` once it is known. A leading
/// byte order mark is ignored.
pub fn parse(format: MirrorFormat, text: &str) -> Result<ParsedMirror> {
    roomy(|| parse_here(format, text))
}

/// Runs `f` with at least 256 KiB of stack: on a caller's thread with less left, on a heap
/// segment. The readers and the value rules recurse once per nesting level (at most 64 in a
/// value, 200 in a YAML or TOML reader, each level guarded again), so no text can overflow a
/// small thread stack, in debug builds too.
fn roomy<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(256 * 1024, 2 * 1024 * 1024, f)
}

fn parse_here(format: MirrorFormat, text: &str) -> Result<ParsedMirror> {
    let body = common::split_bom(text).1;
    let layout = match format {
        MirrorFormat::Json => json::scan(body)?,
        MirrorFormat::Toml => toml::scan(body)?,
        MirrorFormat::Yaml => yaml::scan(body)?,
    };
    Ok(layout.into_parsed())
}

/// The canonical file (§mirror.canonical.*) of these entries, keys sorted by byte order.
///
/// The keys and values are checked as a batch would check them (`PSMC_KEY_SYNTAX`,
/// `PSMC_VALUE_INVALID` …; a key given twice is `PSMC_USAGE`). The same entries always give the
/// same bytes, in every language.
pub fn render(format: MirrorFormat, entries: &[(String, Value)]) -> Result<String> {
    roomy(|| {
        let list = common::canonical_entries(entries)?;
        match format {
            MirrorFormat::Json => Ok(json::render(&list)),
            MirrorFormat::Toml => toml::render(&list),
            MirrorFormat::Yaml => yaml::render(&list),
        }
    })
}

/// Rewrites `text` (a file that parses; otherwise its parse error is returned) so that it holds
/// the changed values (§mirror.update), keeping every other byte: comments, order, blank lines,
/// hand formatting of unchanged entries, the header, the byte order mark and the line breaks.
///
/// Changes are checked first (illegal key or value: the §key/§value error; a key given twice:
/// `PSMC_USAGE`), then applied one at a time in byte order of their keys: an unchanged value
/// leaves the text alone, a changed one replaces the entry's text by its canonical form, a
/// deleted key's entry goes (a comment after it on its line stays), and a new key is inserted in
/// sorted position when the file's keys are sorted, else after the last entry. Updating a
/// canonical file gives the canonical file of the new entries.
pub fn update(format: MirrorFormat, text: &str, changes: &[MirrorChange]) -> Result<String> {
    roomy(|| match format {
        MirrorFormat::Json => common::run_update(text, changes, &json::Editor),
        MirrorFormat::Toml => common::run_update(text, changes, &toml::Editor),
        MirrorFormat::Yaml => common::run_update(text, changes, &yaml::Editor),
    })
}

//! The mirror engine's vocabulary (spec/sections/mirror-sync.md §mirror.bookkeeping): the `meta`
//! names, the store's mirror setting, a recorded invalid edit, the mirror's state for `status`,
//! and what one sync did. Plain data; the engine is [`super::engine`].

use std::path::PathBuf;

use crate::engine::CommitResult;
use crate::errors::Result;
use crate::json::{Object, Value};
use crate::mirror::MirrorFormat;

/// The `meta` names of the mirror's bookkeeping (§mirror.bookkeeping).
pub mod meta {
    pub const FORMAT: &str = "mirror.format";
    pub const REVISION: &str = "mirror.revision";
    pub const HASH: &str = "mirror.hash";
    pub const SIZE: &str = "mirror.size";
    pub const MTIME: &str = "mirror.mtime";
    pub const ERROR: &str = "mirror.error";
    pub const ERROR_HASH: &str = "mirror.error_hash";
    pub const EXPORTED_AT: &str = "mirror.exported_at";
    pub const IMPORTED_AT: &str = "mirror.imported_at";
    pub const ALL: [&str; 9] = [FORMAT, REVISION, HASH, SIZE, MTIME, ERROR, ERROR_HASH, EXPORTED_AT, IMPORTED_AT];
}

/// The store's mirror setting: a format, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorSetting {
    On(MirrorFormat),
    Off,
}

impl MirrorSetting {
    /// `json`, `toml`, `yaml` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorSetting::On(f) => f.as_str(),
            MirrorSetting::Off => "off",
        }
    }
    /// The setting stored in `meta` (absent or unknown: `json`).
    pub fn from_meta(v: Option<&str>) -> MirrorSetting {
        match v {
            Some("off") => MirrorSetting::Off,
            Some("toml") => MirrorSetting::On(MirrorFormat::Toml),
            Some("yaml") => MirrorSetting::On(MirrorFormat::Yaml),
            _ => MirrorSetting::On(MirrorFormat::Json),
        }
    }
    /// `json`, `toml`, `yaml` or `off`; `PSMC_USAGE` for anything else.
    pub fn parse(name: &str) -> Result<MirrorSetting> {
        if name == "off" {
            return Ok(MirrorSetting::Off);
        }
        MirrorFormat::from_name(name).map(MirrorSetting::On)
    }
    pub(super) fn format(self) -> MirrorFormat {
        match self {
            MirrorSetting::On(f) => f,
            MirrorSetting::Off => MirrorFormat::Json,
        }
    }
}

/// A pending invalid hand edit, as recorded in `mirror.error` (the TypeScript `MirrorError`).
#[derive(Clone, Debug, PartialEq)]
pub struct MirrorError {
    pub code: String,
    /// `<file>:<line>:<column>: what is wrong`.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    pub file: String,
    pub line: Option<i64>,
    pub column: Option<i64>,
    pub key: Option<String>,
}

impl MirrorError {
    /// `{code, message, hint, file, line?, column?, key?}`, the stored form.
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("code", Value::String(self.code.clone()));
        o.insert("message", Value::String(self.message.clone()));
        o.insert("hint", Value::String(self.hint.clone()));
        o.insert("file", Value::String(self.file.clone()));
        if let Some(l) = self.line {
            o.insert("line", Value::Number(l as f64));
        }
        if let Some(c) = self.column {
            o.insert("column", Value::Number(c as f64));
        }
        if let Some(k) = &self.key {
            o.insert("key", Value::String(k.clone()));
        }
        Value::Object(o)
    }
    /// Reads the stored form back (None when it is not one).
    pub fn from_json(v: &Value) -> Option<MirrorError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(Value::as_f64).map(|x| x as i64);
        Some(MirrorError { code: s("code")?, message: s("message")?, hint: s("hint").unwrap_or_default(), file: s("file").unwrap_or_default(), line: n("line"), column: n("column"), key: s("key") })
    }
}

/// Where the mirror stands (the TypeScript `MirrorState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorState {
    InSync,
    PendingExport,
    InvalidEdit,
    PendingImport,
    Missing,
    Off,
}

impl MirrorState {
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorState::InSync => "in-sync",
            MirrorState::PendingExport => "pending-export",
            MirrorState::InvalidEdit => "invalid-edit",
            MirrorState::PendingImport => "pending-import",
            MirrorState::Missing => "missing",
            MirrorState::Off => "off",
        }
    }
}

/// The mirror's state for `status`.
#[derive(Clone, Debug, PartialEq)]
pub struct MirrorStatus {
    pub file: PathBuf,
    pub format: MirrorSetting,
    pub state: MirrorState,
    /// The store revision the file reflects.
    pub revision: i64,
    pub exported_at: Option<String>,
    pub imported_at: Option<String>,
    /// The pending invalid hand edit, when there is one.
    pub error: Option<MirrorError>,
}

impl MirrorStatus {
    /// `{file, format, state, revision, exportedAt?, importedAt?, error?}` as `psmc status --json`.
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("file", Value::String(self.file.display().to_string()));
        o.insert("format", Value::String(self.format.as_str().into()));
        o.insert("state", Value::String(self.state.as_str().into()));
        o.insert("revision", Value::Number(self.revision as f64));
        if let Some(t) = &self.exported_at {
            o.insert("exportedAt", Value::String(t.clone()));
        }
        if let Some(t) = &self.imported_at {
            o.insert("importedAt", Value::String(t.clone()));
        }
        if let Some(e) = &self.error {
            o.insert("error", e.to_json());
        }
        Value::Object(o)
    }
}

/// What one sync did.
#[derive(Clone, Debug, Default)]
pub struct SyncResult {
    /// Nothing to do until the user fixes the file (or the mirror is off).
    pub waiting: bool,
    /// The commit that applied a hand edit, when one was imported.
    pub imported: Option<CommitResult>,
    /// The number of conflicts of that import.
    pub conflicts: usize,
    pub exported: bool,
    /// The file is being written (or is empty): sync again after this many ms.
    pub retry_in_ms: Option<i64>,
    /// The hand edit that was refused (also recorded for status).
    pub error: Option<MirrorError>,
}

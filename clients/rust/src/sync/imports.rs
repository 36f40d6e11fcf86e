//! The `imports/` drop folder of a store (DESIGN.md, the mirror protocol; TypeScript:
//! src/mirror/imports.ts, whose rules this follows one for one).
//!
//! `<store dir>/imports/`, created 0700 on demand. A person or a program drops a file there;
//! [`process_imports`] merges it into the store as one batch (source `import:<file name>`) and
//! moves it aside, to `imports/done/`, or to `imports/rejected/` with a `<file>.reason` text
//! beside it saying what was wrong, where, and how to fix it.
//!
//! - Accepted: `*.json` (JSONC), `*.toml`, `*.yaml` / `*.yml`, in the plain form (flat keys →
//!   values, parsed like the mirror file) or the full form (a `psmc-export` document; a
//!   `psmc-snapshot` document is taken as its entries).
//! - Files still being written are left for later: modified less than 1 s ago, or whose size or
//!   mtime changes between two looks 50 ms apart.
//! - Dot-files and editor or download temp files are skipped; so are directories.
//! - Nothing is followed: a symbolic link (or a FIFO, socket, device) is never read but moved to
//!   `rejected/` with its reason. Files are opened with `O_NOFOLLOW` and checked after opening.
//! - A file is claimed first (renamed to `.psmc-import-<pid>-<rand>-<name>`), so two processes
//!   (a TypeScript watcher and `psmcd`) never import the same drop twice; a claim left by a
//!   process that died is put back on the next run.
//! - Moving aside never overwrites: `x.json` becomes `x-1.json`, `x-2.json` … when taken.
//!
//! This file holds the run ([`process_imports`]) and its report; the file side (claims, moves,
//! reads without following links) is `imports/claim.rs`, what a dropped file means (names,
//! formats, the plain and full forms, the `.reason` text) is `imports/document.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{obj, quote_str, Object, Value};

use super::atomic::random_hex;
use super::engine::locate_key;

mod claim;
mod document;

pub use claim::process_alive;
use claim::{ensure_real_dir, identity, io_err, lstat, move_no_clobber, mtime_ms, read_claimed, recover_claims};
use document::{format_of, name_problem, reason_text, Facts};
pub use document::{is_temp_name, parse_import_text};

pub const IMPORTS_DIR: &str = "imports";
pub const DONE_DIR: &str = "done";
pub const REJECTED_DIR: &str = "rejected";
/// A file modified less than this long ago may still be being written.
pub const SETTLE_MS: i64 = 1000;
/// The two looks at a file's size and mtime are this far apart.
pub const RECHECK_MS: u64 = 50;
/// Larger files are refused.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

const CLAIM_PREFIX: &str = ".psmc-import-";

/// A file merged into the store.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportDone {
    pub file: String,
    pub moved_to: PathBuf,
    pub source: String,
    /// The store revision after the import (unchanged when the file changed nothing).
    pub revision: i64,
    /// How many keys it changed.
    pub changes: usize,
}

/// A file refused (moved to `rejected/` with a `.reason` beside it).
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRejected {
    pub file: String,
    pub moved_to: PathBuf,
    pub reason_file: PathBuf,
    pub code: String,
    pub message: String,
    pub hint: String,
    pub line: Option<i64>,
    pub column: Option<i64>,
    pub key: Option<String>,
}

/// A file left where it is, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSkipped {
    pub file: String,
    pub reason: String,
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportsReport {
    pub dir: PathBuf,
    pub done: Vec<ImportDone>,
    pub rejected: Vec<ImportRejected>,
    pub skipped: Vec<ImportSkipped>,
}

impl ImportsReport {
    /// As `psmc` prints it with `--json`.
    pub fn to_json(&self) -> Value {
        let done = self
            .done
            .iter()
            .map(|d| {
                obj([
                    ("file", Value::String(d.file.clone())),
                    ("movedTo", Value::String(d.moved_to.display().to_string())),
                    ("source", Value::String(d.source.clone())),
                    ("revision", Value::Number(d.revision as f64)),
                    ("changes", Value::Number(d.changes as f64)),
                ])
            })
            .collect();
        let rejected = self
            .rejected
            .iter()
            .map(|r| {
                let mut o = Object::new();
                o.insert("file", Value::String(r.file.clone()));
                o.insert("movedTo", Value::String(r.moved_to.display().to_string()));
                o.insert("reasonFile", Value::String(r.reason_file.display().to_string()));
                o.insert("code", Value::String(r.code.clone()));
                o.insert("message", Value::String(r.message.clone()));
                o.insert("hint", Value::String(r.hint.clone()));
                if let Some(l) = r.line {
                    o.insert("line", Value::Number(l as f64));
                }
                if let Some(c) = r.column {
                    o.insert("column", Value::Number(c as f64));
                }
                if let Some(k) = &r.key {
                    o.insert("key", Value::String(k.clone()));
                }
                Value::Object(o)
            })
            .collect();
        let skipped = self.skipped.iter().map(|s| obj([("file", Value::String(s.file.clone())), ("reason", Value::String(s.reason.clone()))])).collect();
        obj([
            ("dir", Value::String(self.dir.display().to_string())),
            ("done", Value::Array(done)),
            ("rejected", Value::Array(rejected)),
            ("skipped", Value::Array(skipped)),
        ])
    }
}

/// The imports folder of a store directory (not created).
pub fn imports_dir(store_dir: &Path) -> PathBuf {
    store_dir.join(IMPORTS_DIR)
}
/// The files a run would take (or reject), by name, sorted; for status. An absent folder has none.
pub fn pending_imports(store_dir: &Path) -> Result<Vec<String>> {
    let dir = imports_dir(store_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&e, &dir, "read")),
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|d| !d.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_temp_name(n) && n != DONE_DIR && n != REJECTED_DIR)
        .collect();
    out.sort();
    Ok(out)
}
fn is_store_error(e: &PsmcError) -> bool {
    matches!(e.error_code(), ErrorCode::Busy | ErrorCode::Io | ErrorCode::Closed | ErrorCode::Corrupt | ErrorCode::ReadOnly | ErrorCode::Internal)
}
fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Merges one document into the store as one batch with the given source; returns the revision
/// after it and how many keys it changed.
pub type ImportFn<'a> = dyn FnMut(&Value, &str) -> Result<(i64, usize)> + 'a;

/// Imports the files waiting in `<store_dir>/imports/` (see the module comment). `import`
/// merges one document as one batch with the given source and returns `(revision, changes)`:
/// [`crate::Store::import_data`]. `PSMC_IO` when the folder cannot be used; a store failure
/// (busy, closed, read-only, damaged) is passed on after the file is put back.
pub fn process_imports(store_dir: &Path, import: &mut ImportFn<'_>) -> Result<ImportsReport> {
    let dir = imports_dir(store_dir);
    let mut report = ImportsReport { dir: dir.clone(), ..ImportsReport::default() };
    if lstat(store_dir)?.is_none() {
        return Ok(report); // no store yet: nothing to create
    }
    ensure_real_dir(&dir)?;
    let read_names = |dir: &Path| -> Result<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(dir).map_err(|e| io_err(&e, dir, "read"))?.flatten().map(|d| d.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        Ok(names)
    };
    let names = read_names(&dir)?;
    let claims: Vec<String> = names.iter().filter(|n| n.starts_with(CLAIM_PREFIX)).cloned().collect();
    recover_claims(&dir, &claims);
    let names = read_names(&dir)?;

    let mut candidates = Vec::new();
    for name in names {
        if name == DONE_DIR || name == REJECTED_DIR {
            continue;
        }
        if is_temp_name(&name) {
            let reason = if name.starts_with('.') { "a hidden file" } else { "a temporary file" };
            report.skipped.push(ImportSkipped { file: name, reason: reason.into() });
            continue;
        }
        let Some(st) = lstat(&dir.join(&name))? else { continue };
        if st.is_dir() {
            report.skipped.push(ImportSkipped { file: name, reason: "a directory (only files are imported)".into() });
            continue;
        }
        candidates.push((name, st));
    }
    // Files still being written: modified just now, or changing between two looks.
    let mut settled = Vec::new();
    for (name, st) in candidates {
        if st.is_file() && wall_ms() - mtime_ms(&st) < SETTLE_MS {
            report.skipped.push(ImportSkipped { file: name, reason: format!("still being written (modified less than {} ms ago)", SETTLE_MS) });
        } else {
            settled.push((name, st));
        }
    }
    if settled.iter().any(|(_, st)| st.is_file()) {
        std::thread::sleep(Duration::from_millis(RECHECK_MS));
    }
    let mut ready = Vec::new();
    for (name, st) in settled {
        if !st.is_file() {
            ready.push((name, st));
            continue;
        }
        let Some(again) = lstat(&dir.join(&name))? else { continue };
        if again.len() != st.len() || mtime_ms(&again) != mtime_ms(&st) || identity(&again) != identity(&st) || !again.is_file() {
            report.skipped.push(ImportSkipped { file: name, reason: "still being written (its size or time changed while psmc looked)".into() });
        } else {
            ready.push((name, again));
        }
    }

    for (name, st) in ready {
        let at = wall_ms();
        let is_link = st.file_type().is_symlink();
        let path = dir.join(&name);
        // Claim it first, so no other process imports (or rejects) it too. A rename moves a link,
        // never its target.
        let mut claimed = dir.join(format!("{}{}-{}-{}", CLAIM_PREFIX, std::process::id(), random_hex(), name));
        if let Err(e) = fs::rename(&path, &claimed) {
            if e.kind() == std::io::ErrorKind::NotFound {
                continue; // another process took it
            }
            if e.raw_os_error() != Some(36 /* ENAMETOOLONG on Linux */) && e.raw_os_error() != Some(63 /* ENAMETOOLONG on macOS/BSD */) {
                return Err(io_err(&e, &path, "claim"));
            }
            claimed = path.clone(); // a name too long to prefix: handle it in place
        }
        let put_back = |claimed: &Path| -> Result<()> {
            if claimed != path {
                move_no_clobber(claimed, &dir, &name, is_link, None)?;
            }
            Ok(())
        };
        let reject = |from: &Path, link: bool, e: &PsmcError, text: Option<&str>, report: &mut ImportsReport| -> Result<()> {
            let d = e.details();
            let mut line = d.get("line").and_then(Value::as_f64).map(|n| n as i64);
            let mut column = d.get("column").and_then(Value::as_f64).map(|n| n as i64);
            let key = d.get("key").and_then(Value::as_str).map(str::to_string);
            if line.is_none() {
                if let (Some(k), Some(t)) = (&key, text) {
                    if let Some((l, c)) = locate_key(t, k).or_else(|| locate_key(&t.replace(&format!("{}=", k), &format!("{} =", k)), k)) {
                        line = Some(l);
                        column = Some(c);
                    }
                }
            }
            let where_ = match (line, column) {
                (None, _) => name.clone(),
                (Some(l), None) => format!("{}:{}", name, l),
                (Some(l), Some(c)) => format!("{}:{}:{}", name, l, c),
            };
            let facts = Facts {
                code: e.code().to_string(),
                message: if e.message().starts_with(name.as_str()) { e.message().to_string() } else { format!("{}: {}", where_, e.message()) },
                hint: e.hint().to_string(),
                line,
                column,
                key,
            };
            let rejected_dir = dir.join(REJECTED_DIR);
            ensure_real_dir(&rejected_dir)?;
            let reason_of = |n: &str| format!("{}.reason", n);
            let moved = move_no_clobber(from, &rejected_dir, &name, link, Some(&reason_of))?;
            let reason_file = rejected_dir.join(format!("{}.reason", moved));
            let mut o = fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let written = o.open(&reason_file).and_then(|mut f| std::io::Write::write_all(&mut f, reason_text(&name, &facts, at).as_bytes()));
            written.map_err(|err| io_err(&err, &reason_file, "write"))?;
            report.rejected.push(ImportRejected {
                file: name.clone(),
                moved_to: rejected_dir.join(moved),
                reason_file,
                code: facts.code,
                message: facts.message,
                hint: facts.hint,
                line: facts.line,
                column: facts.column,
                key: facts.key,
            });
            Ok(())
        };

        if is_link {
            let e = PsmcError::new(
                ErrorCode::Parse,
                format!("{} is a symbolic link; links are never followed in imports/ (one could point outside the store).", name),
                "Copy the file itself into imports/ instead of linking it.",
            );
            reject(&claimed, true, &e, None, &mut report)?;
            continue;
        }
        if !st.is_file() {
            let e = PsmcError::new(ErrorCode::Parse, format!("{} is not a regular file (a FIFO, socket or device).", name), "Drop regular files only.");
            reject(&claimed, false, &e, None, &mut report)?;
            continue;
        }
        if let Some(problem) = name_problem(&name) {
            let e = PsmcError::new(
                ErrorCode::Parse,
                format!("The file name {} is not usable: {}.", quote_str(&name), problem),
                "Rename the file (letters, digits, \".\", \"_\", \"-\") and drop it again.",
            );
            reject(&claimed, false, &e, None, &mut report)?;
            continue;
        }
        let (format, ext) = format_of(&name);
        let Some(format) = format else {
            let shown = if ext.is_empty() { "(none)".to_string() } else { quote_str(&ext) };
            let e = PsmcError::new(
                ErrorCode::Parse,
                format!("{}: unsupported extension {}; imports/ takes .json, .toml, .yaml and .yml files.", name, shown),
                "Rename the file with the extension of its format (.json, .toml, .yaml or .yml) and drop it again.",
            );
            reject(&claimed, false, &e, None, &mut report)?;
            continue;
        };
        let source = format!("import:{}", name);
        let mut text: Option<String> = None;
        let outcome = read_claimed(&claimed, &st).and_then(|t| {
            text = Some(t);
            let doc = parse_import_text(text.as_deref().unwrap_or(""), format)?;
            import(&doc, &source)
        });
        match outcome {
            Ok((revision, changes)) => {
                let done_dir = dir.join(DONE_DIR);
                ensure_real_dir(&done_dir)?;
                let moved = move_no_clobber(&claimed, &done_dir, &name, false, None)?;
                report.done.push(ImportDone { file: name.clone(), moved_to: done_dir.join(moved), source, revision, changes });
            }
            Err(e) if is_store_error(&e) => {
                put_back(&claimed)?;
                return Err(e);
            }
            Err(e) => reject(&claimed, false, &e, text.as_deref(), &mut report)?,
        }
    }
    Ok(report)
}

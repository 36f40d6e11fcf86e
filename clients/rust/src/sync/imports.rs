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

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clock::iso_time;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, obj, quote_str, Object, Value};
use crate::mirror::{self, MirrorFormat};

use super::atomic::random_hex;
use super::engine::locate_key;

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
const MAX_SOURCE_LENGTH: usize = 128;

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

fn io_err(e: &std::io::Error, path: &Path, what: &str) -> PsmcError {
    PsmcError::new(
        ErrorCode::Io,
        format!("Cannot {} {}: {}", what, path.display(), e),
        "Check the permissions of the imports folder (it should be yours, mode 0700) and that the disk is healthy.",
    )
    .with("path", path.display().to_string())
}

fn lstat(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&e, path, "look at")),
    }
}

fn mtime_ms(m: &fs::Metadata) -> i64 {
    m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(unix)]
fn identity(m: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}
#[cfg(not(unix))]
fn identity(_m: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Creates `dir` 0700 when missing; refuses anything but a real directory there.
fn ensure_real_dir(dir: &Path) -> Result<()> {
    match lstat(dir)? {
        None => {
            let mut b = fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            match b.create(dir) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ensure_real_dir(dir),
                Err(e) => Err(io_err(&e, dir, "create")),
            }
        }
        Some(m) if m.is_dir() => Ok(()),
        Some(m) => Err(PsmcError::new(
            ErrorCode::Io,
            format!("{} is {}; psmc only uses a real directory there.", dir.display(), if m.file_type().is_symlink() { "a symbolic link" } else { "not a directory" }),
            "Move it away (psmc recreates the folder, mode 0700), so that imports cannot be redirected outside the store.",
        )
        .with("path", dir.display().to_string())),
    }
}

/// Hidden files, editor swap/backup files and partial downloads: never imported.
pub fn is_temp_name(name: &str) -> bool {
    if name.starts_with('.') || name.ends_with('~') {
        return true;
    }
    if name.len() > 1 && name.starts_with('#') && name.ends_with('#') {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    ["tmp", "temp", "swp", "swx", "swo", "part", "partial", "crdownload", "download", "bak", "lock"].iter().any(|ext| lower.ends_with(&format!(".{}", ext)))
}

/// True when the process `pid` is alive (or cannot be checked).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    true
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

/// Parses `.psmc-import-<pid>-<8 hex>-<name>`.
fn parse_claim(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix(CLAIM_PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hex, original) = rest.split_once('-')?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) || original.is_empty() {
        return None;
    }
    Some((pid.parse().ok()?, original))
}

/// Claims left by processes that died: put back under their own name (or a free one).
fn recover_claims(dir: &Path, names: &[String]) {
    for name in names {
        let Some((pid, original)) = parse_claim(name) else { continue };
        if process_alive(pid) {
            continue;
        }
        let path = dir.join(name);
        let is_link = lstat(&path).ok().flatten().is_some_and(|m| m.file_type().is_symlink());
        // Another process may have recovered it first: doctor reports a leftover.
        let _ = move_no_clobber(&path, dir, original, is_link, None);
    }
}

/// `x.json` → `x-<n>.json` (n ≥ 1); names without an extension get `-<n>` at the end.
fn numbered(name: &str, n: usize) -> String {
    if n == 0 {
        return name.to_string();
    }
    match name.rfind('.') {
        Some(i) if i > 0 => format!("{}-{}{}", &name[..i], n, &name[i..]),
        _ => format!("{}-{}", name, n),
    }
}

/// Moves `from` into `to_dir` as `name`, or `name-1`, `name-2` … when taken; never overwrites.
/// `also_free` names a companion (`<name>.reason`) that must be free too. Returns the name used.
fn move_no_clobber(from: &Path, to_dir: &Path, name: &str, is_link: bool, also_free: Option<&dyn Fn(&str) -> String>) -> Result<String> {
    for n in 0..10_000 {
        let candidate = numbered(name, n);
        let target = to_dir.join(&candidate);
        if let Some(f) = also_free {
            if lstat(&to_dir.join(f(&candidate)))?.is_some() {
                continue;
            }
        }
        if !is_link {
            match fs::hard_link(from, &target) {
                Ok(()) => {
                    if let Err(e) = fs::remove_file(from) {
                        let _ = fs::remove_file(&target);
                        return Err(io_err(&e, from, "move"));
                    }
                    return Ok(candidate);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let no_links = matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::Unsupported)
                        || e.raw_os_error() == Some(18 /* EXDEV */)
                        || e.raw_os_error() == Some(31 /* EMLINK */)
                        || e.raw_os_error() == Some(38 /* ENOSYS */)
                        || e.raw_os_error() == Some(95 /* EOPNOTSUPP */);
                    if !no_links {
                        return Err(io_err(&e, from, "move"));
                    }
                    // No hard links here: fall through to a checked rename.
                }
            }
        }
        if lstat(&target)?.is_some() {
            continue;
        }
        fs::rename(from, &target).map_err(|e| io_err(&e, from, "move"))?;
        return Ok(candidate);
    }
    Err(PsmcError::new(
        ErrorCode::Io,
        format!("There is no free name for {} in {}.", name, to_dir.display()),
        format!("Clean up {} (its files are kept for your reference only).", to_dir.display()),
    )
    .with("path", to_dir.display().to_string()))
}

fn reject_error(code: ErrorCode, what: &str, hint: &str) -> PsmcError {
    PsmcError::new(code, format!("The file cannot be imported: {}", what), hint)
}

/// Reads a claimed file without following links; checks it is still the regular file that was
/// looked at.
fn read_claimed(path: &Path, expected: &fs::Metadata) -> Result<String> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = match o.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(reject_error(ErrorCode::Parse, "it became a symbolic link while being read.", "Drop a regular file, not a link."));
        }
        Err(e) => return Err(io_err(&e, path, "read")),
    };
    let st = f.metadata().map_err(|e| io_err(&e, path, "read"))?;
    if !st.is_file() || identity(&st) != identity(expected) {
        return Err(reject_error(
            ErrorCode::Parse,
            "it was replaced by something else while being read.",
            "Drop the file again, and do not change it once it is in imports/.",
        ));
    }
    if st.len() > MAX_IMPORT_BYTES {
        return Err(reject_error(ErrorCode::ValueTooLarge, &format!("it is {} bytes; the limit is {}.", st.len(), MAX_IMPORT_BYTES), "Split it into several files."));
    }
    let mut buf = Vec::with_capacity(st.len() as usize);
    f.read_to_end(&mut buf).map_err(|e| io_err(&e, path, "read"))?;
    match String::from_utf8(buf) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(t)),
        Err(_) => Err(reject_error(ErrorCode::Parse, "it is not UTF-8 text.", "Save the file as UTF-8 (without a byte order mark is best).")),
    }
}

/// The full form: an export document as is; a snapshot document as its entries; other psmc
/// documents refused. None when `doc` is no psmc document (the plain form).
fn full_form(doc: &Object) -> Result<Option<Value>> {
    let format = match doc.get("format").and_then(Value::as_str) {
        Some(f) if f.starts_with("psmc-") => f,
        _ => return Ok(None),
    };
    if format == "psmc-export" {
        return Ok(Some(Value::Object(doc.clone())));
    }
    if format == "psmc-snapshot" {
        let mut out = Object::new();
        out.insert("format", Value::String("psmc-export".into()));
        out.insert("version", doc.get("version").cloned().unwrap_or(Value::Null));
        out.insert("entries", doc.get("entries").cloned().unwrap_or(Value::Null));
        return Ok(Some(Value::Object(out)));
    }
    Err(PsmcError::new(
        ErrorCode::Parse,
        format!("The file is a {} document, which cannot be imported.", quote_str(format)),
        "Drop a psmc export document ({\"format\":\"psmc-export\",…}), a snapshot file, or a flat file of key = value.",
    ))
}

/// The document to give the store's import: the full form, or a flat object of key → value.
pub fn parse_import_text(text: &str, format: MirrorFormat) -> Result<Value> {
    let parsed = match mirror::parse(format, text) {
        Ok(p) => p,
        Err(e) => {
            // An export document whose values break a mirror-file rule (e.g. depth) is still one.
            if format == MirrorFormat::Json {
                if let Ok(Value::Object(raw)) = json::parse(text) {
                    if let Some(full) = full_form(&raw)? {
                        return Ok(full);
                    }
                }
            }
            return Err(e);
        }
    };
    let flat = Object::from_members(parsed.entries);
    Ok(full_form(&flat)?.unwrap_or(Value::Object(flat)))
}

fn is_store_error(e: &PsmcError) -> bool {
    matches!(e.error_code(), ErrorCode::Busy | ErrorCode::Io | ErrorCode::Closed | ErrorCode::Corrupt | ErrorCode::ReadOnly | ErrorCode::Internal)
}

fn name_problem(name: &str) -> Option<String> {
    if name == "." || name == ".." || name.contains('/') || name.contains('\\') {
        return Some("it is not a plain file name".into());
    }
    if name.chars().any(|c| (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32))) {
        return Some("it holds control characters or broken Unicode".into());
    }
    if format!("import:{}", name).chars().count() > MAX_SOURCE_LENGTH {
        return Some(format!("it is too long to record as the source (import:<name> is at most {} characters)", MAX_SOURCE_LENGTH));
    }
    None
}

fn format_of(name: &str) -> (Option<MirrorFormat>, String) {
    let ext = match name.rfind('.') {
        Some(i) if i > 0 => name[i..].to_string(),
        _ => String::new(),
    };
    let f = match ext.to_ascii_lowercase().as_str() {
        ".json" => Some(MirrorFormat::Json),
        ".toml" => Some(MirrorFormat::Toml),
        ".yaml" | ".yml" => Some(MirrorFormat::Yaml),
        _ => None,
    };
    (f, ext)
}

struct Facts {
    code: String,
    message: String,
    hint: String,
    line: Option<i64>,
    column: Option<i64>,
    key: Option<String>,
}

fn reason_text(file: &str, r: &Facts, at: i64) -> String {
    let mut lines = vec![format!("file: {}", file), format!("rejected: {}", iso_time(at)), format!("code: {}", r.code)];
    if let Some(l) = r.line {
        lines.push(format!("line: {}", l));
    }
    if let Some(c) = r.column {
        lines.push(format!("column: {}", c));
    }
    if let Some(k) = &r.key {
        lines.push(format!("key: {}", k));
    }
    lines.push(format!("message: {}", r.message));
    lines.push(format!("hint: {}", r.hint));
    lines.push(String::new());
    lines.push("The store was not changed by this file. Fix it and drop it into imports/ again.".into());
    lines.push(String::new());
    lines.join("\n")
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

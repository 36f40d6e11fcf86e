//! Snapshot files on disk (spec/sections/snapshots.md §snapshot.format "Atomic files",
//! §snapshot.names; TypeScript: src/snapshot/store.ts): `<store dir>/snapshots/<name>.json`,
//! the directory 0700, files 0600, written to a dot-named temp file, fsynced, then published
//! under a name that must not exist yet (a hard link, which refuses an existing name) or renamed
//! over (overwrite); only regular files are snapshots, links are never followed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::paths::{ensure_dir, io_error};
use crate::sync::atomic::{random_hex, sync_dir};

use super::format::{parse_snapshot, SnapshotDocument};
use super::names::{assert_snapshot_name, file_name_of, name_of_file, name_problem};

/// A file of the snapshots directory that is not a readable snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotProblem {
    pub file: PathBuf,
    pub code: String,
    pub message: String,
}

/// The snapshot names in `dir` (sorted) and the files that are not usable snapshots.
pub fn scan_dir(dir: &Path) -> Result<(Vec<String>, Vec<SnapshotProblem>)> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(io_error(&e, dir)),
    };
    let mut names = Vec::new();
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = name_of_file(&file) else { continue };
        if let Some(p) = name_problem(name) {
            problems.push(SnapshotProblem { file: dir.join(&file), code: "PSMC_PARSE".into(), message: format!("{} is not a snapshot file name: {}.", quote_str(&file), p) });
            continue;
        }
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            problems.push(SnapshotProblem {
                file: dir.join(&file),
                code: "PSMC_PARSE".into(),
                message: format!("{} is not a regular file (a directory or a link); it is ignored.", file),
            });
            continue;
        }
        names.push(name.to_string());
    }
    names.sort();
    Ok((names, problems))
}

/// The name as spelled on disk of the snapshot `name` means (case-insensitively), if any.
pub fn existing_name(dir: &Path, name: &str) -> Result<Option<String>> {
    let (names, _) = scan_dir(dir)?;
    let lower = name.to_ascii_lowercase();
    Ok(names.iter().find(|n| *n == name).or_else(|| names.iter().find(|n| n.to_ascii_lowercase() == lower)).cloned())
}

/// `PSMC_NOT_FOUND` for snapshot `name` in `dir`.
pub fn not_found(dir: &Path, name: &str, known: &[String]) -> PsmcError {
    PsmcError::new(
        ErrorCode::NotFound,
        format!("There is no snapshot named {} in {}.", quote_str(name), dir.display()),
        if known.is_empty() { "There are no snapshots yet; take one with `psmc snapshot create [name]`." } else { "`psmc snapshot list` shows the snapshots." },
    )
    .with("name", name)
    .with("known", Value::Array(known.iter().map(|k| Value::String(k.clone())).collect()))
}

/// Reads and checks the snapshot file of `name` (spelled as on disk): the document, its size in
/// bytes and its path. `PSMC_NOT_FOUND`, `PSMC_PARSE` (also for a link or a directory),
/// `PSMC_FORMAT_TOO_NEW`, `PSMC_IO`.
pub fn read_snapshot_file(dir: &Path, name: &str) -> Result<(SnapshotDocument, usize, PathBuf)> {
    assert_snapshot_name(name)?;
    let path = dir.join(file_name_of(name));
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found(dir, name, &[])),
        Err(e) => return Err(io_error(&e, &path)),
    };
    if !meta.is_file() {
        return Err(PsmcError::new(
            ErrorCode::Parse,
            format!("{} is not a regular file (a directory or a link); psmc does not follow it.", path.display()),
            "Snapshots are plain files written by psmc. Remove the link, or copy the real file in its place.",
        )
        .with("file", path.display().to_string()));
    }
    let bytes = fs::read(&path).map_err(|e| io_error(&e, &path))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        PsmcError::new(ErrorCode::Parse, format!("{}: the file is not UTF-8 text.", path.display()), "A snapshot file is written by psmc; restore it from a copy or delete it.")
            .with("file", path.display().to_string())
    })?;
    let doc = parse_snapshot(&text, Some(&path.display().to_string()), Some(name))?;
    Ok((doc, text.len(), path))
}

fn name_taken(name: &str, existing: &str, racing: bool) -> PsmcError {
    let message = if existing == name {
        if racing {
            format!("A snapshot named {} already exists (it was just created by another process).", quote_str(name))
        } else {
            format!("A snapshot named {} already exists.", quote_str(name))
        }
    } else {
        format!(
            "The snapshot name {} differs only in case from the existing snapshot {}; snapshot names are compared case-insensitively.",
            quote_str(name),
            quote_str(existing)
        )
    };
    PsmcError::usage(message, "Choose another name, or delete the old snapshot first (`psmc snapshot delete <name>`).").with("name", name).with("existing", existing)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Writes the text of snapshot `name` atomically (0600). A name already taken (compared
/// case-insensitively) is refused with `PSMC_USAGE`, unless `overwrite` and the same spelling.
pub fn write_snapshot_file(dir: &Path, name: &str, text: &str, overwrite: bool) -> Result<PathBuf> {
    assert_snapshot_name(name)?;
    ensure_dir(dir)?;
    sweep_temp_files(dir);
    if let Some(taken) = existing_name(dir, name)? {
        if taken != name || !overwrite {
            return Err(name_taken(name, &taken, false));
        }
    }
    let path = dir.join(file_name_of(name));
    let tmp = dir.join(format!(".{}.{}.{}.tmp", file_name_of(name), std::process::id(), random_hex()));
    let published = (|| -> Result<()> {
        write_private(&tmp, text).map_err(|e| io_error(&e, &path))?;
        if overwrite {
            fs::rename(&tmp, &path).map_err(|e| io_error(&e, &path))?;
        } else {
            match fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    let _ = fs::remove_file(&tmp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(name_taken(name, name, true)),
                Err(_) => {
                    // No hard links on this file system (FAT, some Android storage): check, then rename.
                    if path.exists() {
                        return Err(name_taken(name, name, true));
                    }
                    fs::rename(&tmp, &path).map_err(|e| io_error(&e, &path))?;
                }
            }
        }
        sync_dir(dir)
    })();
    if let Err(e) = published {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

/// Deletes the snapshot file of `name` (spelled as on disk); `PSMC_NOT_FOUND` when there is none.
pub fn delete_snapshot_file(dir: &Path, name: &str) -> Result<()> {
    assert_snapshot_name(name)?;
    let path = dir.join(file_name_of(name));
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(dir, name, &[])),
        Err(e) => Err(io_error(&e, &path)),
    }
}

/// Removes temp files (`.<name>.json.<pid>.<rand>.tmp`) left by writers that died; a live
/// process's temp file is left alone. Returns the files removed.
pub fn sweep_temp_files(dir: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return removed };
    for entry in entries.flatten() {
        let f = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = f.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else { continue };
        let Some(i) = rest.find(".json.") else { continue };
        let mut parts = rest[i + ".json.".len()..].splitn(2, '.');
        let (Some(pid), Some(rand)) = (parts.next(), parts.next()) else { continue };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || rand.is_empty() || !rand.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        if crate::sync::imports::process_alive(pid.parse().unwrap_or(0)) {
            continue;
        }
        let _ = fs::remove_file(entry.path());
        removed.push(f);
    }
    removed
}

//! Where stores live (spec/SPEC.md §paths), without a platform-directories crate.
//!
//! - User store: `$XDG_CONFIG_HOME/<app>` or `~/.config/<app>` on Linux and other Unix
//!   (Termux, iSH); `~/Library/Application Support/<app>` on macOS; `%APPDATA%\<app>` on
//!   Windows. `<PREFIX>_HOME` names the directory instead.
//! - Project store: a `.psmc/` directory found by walking up from the working directory.
//! - Inside a store directory: `psmc.db`. Directories are created 0700, files 0600.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::quote_str;

pub const DATABASE_FILE: &str = "psmc.db";
pub const PROJECT_DIR: &str = ".psmc";

/// True when `app` is 1–64 of `[A-Za-z0-9._-]`, starting with a letter or digit, without `..`.
pub fn is_valid_app_name(app: &str) -> bool {
    let b = app.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && !app.contains("..")
}

pub fn assert_app_name(app: &str) -> Result<()> {
    if is_valid_app_name(app) {
        Ok(())
    } else {
        Err(PsmcError::usage(
            format!(
                "app must be 1–64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit (no path separators), received {}",
                quote_str(app)
            ),
            "Check the arguments and options; `psmc help` lists them.",
        ))
    }
}

fn non_empty(env: &HashMap<String, String>, name: &str) -> Option<String> {
    env.get(name).filter(|v| !v.is_empty()).cloned()
}

/// The process's home directory (Node's `os.homedir()`: `$HOME`, or `%USERPROFILE%` on
/// Windows), never the handle's environment snapshot.
fn home_dir() -> PathBuf {
    let var = |n: &str| std::env::var(n).ok().filter(|s| !s.is_empty());
    let h = if cfg!(windows) { var("USERPROFILE").or_else(|| var("HOME")) } else { var("HOME") };
    PathBuf::from(h.unwrap_or_else(|| "/".into()))
}

/// The platform config directory for `app` (not created). `env` is the snapshot the handle
/// reads (XDG_CONFIG_HOME, APPDATA, HOME).
pub fn user_store_dir(app: &str, env: &HashMap<String, String>) -> Result<PathBuf> {
    assert_app_name(app)?;
    let home = home_dir();
    Ok(if cfg!(target_os = "macos") {
        home.join("Library").join("Application Support").join(app)
    } else if cfg!(windows) {
        non_empty(env, "APPDATA").map(PathBuf::from).unwrap_or_else(|| home.join("AppData").join("Roaming")).join(app)
    } else {
        non_empty(env, "XDG_CONFIG_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".config")).join(app)
    })
}

/// The `PSMC_IO` error for a file-system failure on `path`.
pub fn io_error(e: &std::io::Error, path: &Path) -> PsmcError {
    use std::io::ErrorKind as K;
    let hint = match e.kind() {
        K::PermissionDenied => "Check the ownership and permissions of the path (store directories should be yours, mode 0700).",
        K::AlreadyExists | K::NotADirectory => "A file stands where a directory is needed; move it or choose another store path.",
        K::StorageFull => "The disk is full; free some space.",
        _ => "Check that the path exists and is on a healthy local disk.",
    };
    PsmcError::new(ErrorCode::Io, format!("Cannot use {}: {}", path.display(), e), hint).with("path", path.display().to_string())
}

fn is_directory(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(io_error(&e, path)),
    }
}

/// Walks up from `start` to the root; returns the first `.psmc/` directory found.
pub fn find_project_store(start: &Path) -> Result<Option<PathBuf>> {
    let mut dir = absolute(start);
    loop {
        let candidate = dir.join(PROJECT_DIR);
        if is_directory(&candidate)? {
            return Ok(Some(candidate));
        }
        match dir.parent() {
            Some(p) => dir = p.to_path_buf(),
            None => return Ok(None),
        }
    }
}

/// Creates `dir` and missing parents with mode 0700.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io_error(&e, dir))
}

/// `path` made absolute against the working directory, `.`/`..` resolved lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
    };
    let mut out = base;
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The canonical path of a store directory: symlinks resolved when it exists; otherwise its
/// parent resolved and the last component kept.
pub fn canonical_dir(dir: &Path) -> PathBuf {
    let abs = absolute(dir);
    if let Ok(p) = std::fs::canonicalize(&abs) {
        return p;
    }
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf()).join(name),
        _ => abs,
    }
}

//! The command line of `psmcd` (docs/psmcd.md) and how a path names a store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::prefix_from_app;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::paths::{absolute, find_project_store, user_store_dir, DATABASE_FILE, PROJECT_DIR};

/// What `psmcd` runs with.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// The store directories to watch (resolved, see [`resolve_store_dir`]).
    pub stores: Vec<PathBuf>,
    /// How often each store is looked at (a stat of the mirror, a few `meta` rows).
    pub interval: Duration,
    /// How often the heartbeat key is written; zero: never.
    pub heartbeat_interval: Duration,
    /// One pass (sync, imports, one heartbeat), then exit.
    pub once: bool,
    /// Log lines as JSON objects.
    pub json: bool,
    /// Log debug events too.
    pub verbose: bool,
    /// Leave the `imports/` folders alone.
    pub no_imports: bool,
    /// The source of the heartbeat writes. Default `rust-service`.
    pub source: String,
}

/// Parses a duration: a number of milliseconds, or a number with `ms`, `s` or `m`.
///
/// ```
/// use std::time::Duration;
/// use psmc::service::options::parse_duration;
/// assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
/// assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        None => (t, "ms"),
        Some(i) => (&t[..i], &t[i..]),
    };
    let n: u64 = num.parse().map_err(|_| format!("{:?} is not a duration: use e.g. 100, 500ms, 10s or 1m", text))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        _ => None,
    }
    .ok_or_else(|| format!("{:?} is not a duration: use e.g. 100, 500ms, 10s or 1m", text))?;
    Ok(Duration::from_millis(ms))
}

fn not_found(path: &Path) -> PsmcError {
    PsmcError::new(
        ErrorCode::StoreNotFound,
        format!("There is no psmc store at {}.", path.display()),
        format!(
            "Give a store directory (one holding {}) or a project directory (one holding {}/); create a store with `psmc init` or a first `psmc set`.",
            DATABASE_FILE, PROJECT_DIR
        ),
    )
    .with("path", path.display().to_string())
}

/// The store directory a path names: a store directory (it holds `psmc.db`, or is named
/// `.psmc`), or a project directory (it holds `.psmc/`). `PSMC_STORE_NOT_FOUND` otherwise.
pub fn resolve_store_dir(path: &Path) -> Result<PathBuf> {
    let p = absolute(path);
    if p.join(DATABASE_FILE).is_file() {
        return Ok(p);
    }
    if p.file_name().is_some_and(|n| n == PROJECT_DIR) && p.is_dir() {
        return Ok(p);
    }
    let project = p.join(PROJECT_DIR);
    if project.is_dir() {
        return Ok(project);
    }
    Err(not_found(&p))
}

/// The store to watch when none is given: the project store found from `cwd`, else the user
/// store of `app` (`<PREFIX>_HOME` first, as the other entry points).
pub fn default_store_dir(app: &str, cwd: &Path, env: &HashMap<String, String>) -> Result<PathBuf> {
    if let Some(p) = find_project_store(cwd)? {
        return Ok(p);
    }
    let home = env.get(&format!("{}_HOME", prefix_from_app(app)?)).filter(|h| !h.is_empty());
    let dir = match home {
        Some(h) => PathBuf::from(h),
        None => user_store_dir(app, env)?,
    };
    if dir.join(DATABASE_FILE).is_file() {
        Ok(dir)
    } else {
        Err(not_found(&dir))
    }
}

//! Atomic file replacement (spec/sections/mirror-sync.md §mirror.export; TypeScript:
//! src/mirror/atomic.ts).
//!
//! A temp file in the same directory (`.<name>.psmc-tmp-<pid>-<random>`, mode 0600), written in
//! full, fsynced, closed, renamed over the target, and the directory fsynced — so a reader, or
//! a crash at any instant, sees either the old file or the new one, never a mix, never an empty
//! or short file.
//!
//! - After a write or fsync error the temp file is discarded and the whole write is redone once
//!   from scratch (after a failed fsync the kernel may have dropped the dirty pages).
//! - Where Windows holds the target open, the rename is retried with backoff (up to ~2 s).
//!   There is never a fallback to a non-atomic write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::errors::{PsmcError, Result};
use crate::paths::io_error;

/// Marks the mirror's temp files: `.config.json.psmc-tmp-<pid>-<random>`.
pub const TEMP_MARK: &str = ".psmc-tmp-";

/// 8 lower-case hex digits, different for every call in a process.
pub fn random_hex() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = target.parent().unwrap_or(Path::new("."));
    dir.join(format!(".{}{}{}-{}", name, TEMP_MARK, std::process::id(), random_hex()))
}

fn remove_quietly(path: &Path) {
    // Already gone (or never created): nothing to clean up.
    let _ = fs::remove_file(path);
}

fn create_new_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn write_temp_io(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = temp_path(target);
    let mut f = create_new_private(&tmp)?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    if let Err(e) = written {
        drop(f);
        remove_quietly(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Writes `bytes` to a new temp file beside `target`, fsynced; returns its path.
pub fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf> {
    write_temp_io(target, bytes).map_err(|e| io_error(&e, target))
}

/// fsyncs a directory, so a rename in it is durable. Windows cannot open a directory for that
/// (its rename is journalled); some file systems refuse it (the rename has happened anyway).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let f = File::open(dir).map_err(|e| io_error(&e, dir))?;
        if let Err(e) = f.sync_all() {
            match e.raw_os_error() {
                Some(code) if code == 22 /* EINVAL */ || code == 21 /* EISDIR */ || code == 1 /* EPERM */ => {}
                _ => return Err(io_error(&e, dir)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes a temp file that will not be committed.
pub fn discard_temp(tmp: &Path) {
    remove_quietly(tmp);
}

/// Renames a written temp file over `target` (retrying where Windows holds it), then fsyncs the
/// directory. On failure the temp file is removed.
pub fn commit_temp(tmp: &Path, target: &Path) -> Result<()> {
    let mut attempt = 0u32;
    loop {
        match fs::rename(tmp, target) {
            Ok(()) => break,
            Err(e) => {
                let retry = cfg!(windows) && matches!(e.kind(), io::ErrorKind::PermissionDenied) && attempt < 10;
                if !retry {
                    remove_quietly(tmp);
                    return Err(io_error(&e, target));
                }
                std::thread::sleep(Duration::from_millis((10u64 << attempt).min(500)));
                attempt += 1;
            }
        }
    }
    sync_dir(target.parent().unwrap_or(Path::new(".")))
}

/// The metadata of a written temp file, taken before the rename: the file's size and mtime once
/// renamed (a rename changes neither). Recording these — not a stat taken after the rename —
/// means a hand save that lands between the rename and the record is still seen as a change.
pub fn temp_metadata(tmp: &Path) -> Result<fs::Metadata> {
    fs::metadata(tmp).map_err(|e| {
        remove_quietly(tmp);
        io_error(&e, tmp)
    })
}

/// Replaces `target` with `bytes` atomically (see the module comment); returns the metadata of
/// the new file as written ([`temp_metadata`]).
pub fn write_file_atomic(target: &Path, bytes: &[u8]) -> Result<fs::Metadata> {
    let tmp = match write_temp_io(target, bytes) {
        Ok(t) => t,
        Err(first) => {
            // No retry where a retry cannot help (no space, no permission, read-only, no directory).
            use io::ErrorKind as K;
            if matches!(first.kind(), K::StorageFull | K::PermissionDenied | K::ReadOnlyFilesystem | K::NotFound) {
                return Err(io_error(&first, target));
            }
            write_temp(target, bytes)?
        }
    };
    let meta = temp_metadata(&tmp)?;
    commit_temp(&tmp, target)?;
    Ok(meta)
}

/// Removes temp files of the mirror (`.config.*.psmc-tmp-*`) left by writers killed mid-export,
/// older than a minute (a live export finishes in well under that). Returns what it removed.
pub fn sweep_temps(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return removed,
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(".config.") || !name.contains(TEMP_MARK) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(60));
        if old {
            remove_quietly(&entry.path());
            removed.push(entry.path());
        }
    }
    removed
}

/// An I/O error that is not about one path (e.g. a lock).
pub fn io_failure(message: impl Into<String>) -> PsmcError {
    PsmcError::new(crate::errors::ErrorCode::Io, message, "Check the store directory's permissions and free space.")
}

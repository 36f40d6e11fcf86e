//! The file side of the `imports/` folder: looking without following links, the real-directory
//! check, claims (`.psmc-import-<pid>-<rand>-<name>`) and their recovery, moving aside without
//! overwriting, and reading a claimed file that must still be the regular file looked at.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::{CLAIM_PREFIX, MAX_IMPORT_BYTES};
use crate::errors::{ErrorCode, PsmcError, Result};

pub(super) fn io_err(e: &std::io::Error, path: &Path, what: &str) -> PsmcError {
    PsmcError::new(
        ErrorCode::Io,
        format!("Cannot {} {}: {}", what, path.display(), e),
        "Check the permissions of the imports folder (it should be yours, mode 0700) and that the disk is healthy.",
    )
    .with("path", path.display().to_string())
}

pub(super) fn lstat(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&e, path, "look at")),
    }
}

pub(super) fn mtime_ms(m: &fs::Metadata) -> i64 {
    m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(unix)]
pub(super) fn identity(m: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}
#[cfg(not(unix))]
pub(super) fn identity(_m: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Creates `dir` 0700 when missing; refuses anything but a real directory there.
pub(super) fn ensure_real_dir(dir: &Path) -> Result<()> {
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
pub(super) fn recover_claims(dir: &Path, names: &[String]) {
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
pub(super) fn move_no_clobber(from: &Path, to_dir: &Path, name: &str, is_link: bool, also_free: Option<&dyn Fn(&str) -> String>) -> Result<String> {
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
pub(super) fn read_claimed(path: &Path, expected: &fs::Metadata) -> Result<String> {
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

//! The heartbeat (status) key of `psmcd`: `service.psmcd.<host>.heartbeat`.
//!
//! The key rules (spec/SPEC.md §key.syntax, src/core/keys.ts) allow it: `service`, `psmcd` and
//! `heartbeat` are plain segments, and no segment is reserved (§key.reserved names only object
//! machinery such as `__proto__` or `constructor`). A host name is turned into one legal
//! segment by [`host_segment`] (a dotted FQDN would otherwise add segments).

use crate::json::{obj, Value};
use crate::keys::{is_reserved_segment, is_valid_key};

/// The longest host segment kept (the key stays far below the 256-character limit).
pub const MAX_HOST_SEGMENT: usize = 63;

/// `host` as one key segment: lower-cased; every run of characters outside `[a-z0-9]` becomes
/// one `-`; no `-` at either end; at most 63 characters; `unknown` when nothing is left; a
/// reserved name gets the prefix `host-`.
///
/// ```
/// use psmc::service::heartbeat::host_segment;
/// assert_eq!(host_segment("Build.Box_01.local"), "build-box-01-local");
/// assert_eq!(host_segment("--"), "unknown");
/// assert_eq!(host_segment("constructor"), "host-constructor");
/// ```
pub fn host_segment(host: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in host.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
        if out.len() >= MAX_HOST_SEGMENT {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        return "unknown".into();
    }
    if is_reserved_segment(&out) {
        return format!("host-{}", out);
    }
    out
}

/// The heartbeat key of this host.
pub fn heartbeat_key(host: &str) -> String {
    let key = format!("service.psmcd.{}.heartbeat", host_segment(host));
    debug_assert!(is_valid_key(&key));
    key
}

/// What a heartbeat says.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    /// Now (ISO 8601 UTC).
    pub time: String,
    pub pid: u32,
    pub host: String,
    /// `running`, or `stopped` for the last heartbeat of a clean shutdown.
    pub state: &'static str,
    pub version: &'static str,
    pub started_at: String,
    /// The store directories this process watches.
    pub stores: Vec<String>,
    /// When this store's mirror or imports last changed anything, if ever.
    pub last_sync: Option<String>,
    /// The poll and heartbeat intervals, ms.
    pub interval_ms: u64,
    pub heartbeat_interval_ms: u64,
}

impl Heartbeat {
    /// `{time, pid, host, state, version, startedAt, stores: {count, dirs}, lastSync, intervalMs, heartbeatIntervalMs}`.
    pub fn to_value(&self) -> Value {
        obj([
            ("time", Value::String(self.time.clone())),
            ("pid", Value::Number(self.pid as f64)),
            ("host", Value::String(self.host.clone())),
            ("state", Value::String(self.state.into())),
            ("version", Value::String(self.version.into())),
            ("startedAt", Value::String(self.started_at.clone())),
            (
                "stores",
                obj([
                    ("count", Value::Number(self.stores.len() as f64)),
                    ("dirs", Value::Array(self.stores.iter().map(|s| Value::String(s.clone())).collect())),
                ]),
            ),
            ("lastSync", self.last_sync.clone().map(Value::String).unwrap_or(Value::Null)),
            ("intervalMs", Value::Number(self.interval_ms as f64)),
            ("heartbeatIntervalMs", Value::Number(self.heartbeat_interval_ms as f64)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_become_one_legal_segment() {
        for (host, seg) in [
            ("plant-7", "plant-7"),
            ("Build.Box_01.local", "build-box-01-local"),
            ("  ", "unknown"),
            ("héllo wörld", "h-llo-w-rld"),
            ("toString", "host-tostring"),
            ("__proto__", "proto"),
        ] {
            assert_eq!(host_segment(host), seg, "{:?}", host);
            assert!(is_valid_key(&heartbeat_key(host)), "{:?}", host);
        }
        let long = "a".repeat(300);
        assert_eq!(host_segment(&long).len(), MAX_HOST_SEGMENT);
    }
}

//! `psmc-rs watch [prefix] [--since <revision>]`: the TypeScript `psmc watch` (docs/cli.md,
//! spec/sections/watch.md), by polling. Every 50 ms it reads the store's revision (one small
//! query) and, when it moved, the history records after its position in ascending
//! (revision, seq) order — none skipped, none repeated (§watch.order). Like the TypeScript
//! Watcher it also keeps the mirror file and the `imports/` folder in sync meanwhile, so a hand
//! edit shows up as a change with source `file`. SIGINT or SIGTERM stops it (exit 0) after the
//! revision being printed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use psmc::json::Value;
use psmc::keys::normalize_prefix;
use psmc::{ChangeRecord, HistoryOptions, PsmcError, Store};

/// How often the store is looked at.
pub const POLL: Duration = Duration::from_millis(50);
/// The most revisions read by one query (§watch.order step 3).
const SCAN: i64 = 1000;

pub const USAGE: &str = "Usage: psmc watch [prefix] [--since <revision>]

Prints each change of the store that receives writes as it is committed, by
any process in any language or by a hand edit of the mirror file, one line
per change, in revision order, until Ctrl-C (SIGINT) or SIGTERM; then exits 0.
With a prefix, only the keys under it (schema changes are shown only without
a prefix). Starts with the changes after the current revision, or after
--since <revision> (--since 0 replays the whole history first).

A line: revision, time (UTC), source, key, old → new value, e.g.
  r12 2026-11-26T04:03:25.146Z cli  display.units  \"metric\" → \"imperial\"
With --json, one compact JSON object per line (JSON Lines):
{revision, seq, key, op, oldValue, newValue, source, at, note}; an absent
oldValue/newValue means the key did not exist. Notes go to stderr.

psmc-rs polls the store every 50 ms (and keeps its mirror file and imports/
folder in sync meanwhile, as psmc watch does).

Options:
  --since <revision>   Start after <revision> (default: the current revision)

Examples:
  psmc watch
  psmc watch display
  psmc watch --since 0 --json
  psmc watch display --since 41 --json | jq .newValue";

/// One human line (the TypeScript `formatChange`).
pub fn format_change(r: &ChangeRecord, inline: &dyn Fn(Option<&Value>, usize) -> String) -> String {
    let time = match r.at.rfind('-') {
        Some(i) if r.at[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &r.at[..i],
        _ => r.at.as_str(),
    };
    let mut text = format!("r{} {} {}  {}  {} → {}", r.revision, time, r.source, r.key, inline(r.old_value.as_ref(), 60), inline(r.new_value.as_ref(), 60));
    if r.op == "conflict" {
        text.push_str("  [conflict: the old value lost]");
    }
    if let Some(n) = &r.note {
        text.push_str(&format!("  ({})", n));
    }
    text
}

/// Runs the watch until SIGINT/SIGTERM. `out` gets one line per change (flushed at once),
/// `err` the notes.
pub fn run(
    store: &Store,
    prefix_arg: Option<&str>,
    since: Option<i64>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
    inline: &dyn Fn(Option<&Value>, usize) -> String,
) -> Result<i32, PsmcError> {
    let prefix = normalize_prefix(prefix_arg)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(|e| PsmcError::internal(format!("cannot handle signal {}: {}", sig, e)))?;
    }
    let mut position = match since {
        Some(s) => s,
        None => store.revision()?,
    };
    let under = if prefix.is_empty() { String::new() } else { format!(" (keys under {})", prefix) };
    let _ = writeln!(err, "Watching {}{} after revision {}. Press Ctrl-C to stop.", store.store_dir().display(), under, position);
    let mut reported: Option<String> = None;
    let mut report = |e: &PsmcError, err: &mut dyn Write| {
        // The same error once, not at every retry.
        if reported.as_deref() != Some(e.message()) {
            let _ = writeln!(err, "psmc watch: {}", e.message());
            reported = Some(e.message().to_string());
        }
    };
    while !stop.load(Ordering::SeqCst) {
        // Keep the mirror and imports/ in sync: a hand edit becomes a commit this loop prints.
        if let Ok(true) = store.mirror_needs_sync() {
            if let Err(e) = store.sync_mirror() {
                report(&e, err);
            }
        }
        if psmc::sync::imports::pending_imports(store.store_dir()).is_ok_and(|p| !p.is_empty()) {
            if let Err(e) = store.process_imports() {
                report(&e, err);
            }
        }
        loop {
            let head = match store.revision() {
                Ok(r) => r,
                Err(e) => {
                    report(&e, err);
                    break;
                }
            };
            if position >= head {
                break;
            }
            let upto = head.min(position + SCAN);
            let key = if prefix.is_empty() { None } else { Some(prefix.as_str()) };
            let opts = HistoryOptions { prefix: key.is_some(), since_revision: Some(position), until_revision: Some(upto), limit: None };
            let mut records = match store.history(key, opts) {
                Ok(r) => r,
                Err(e) => {
                    report(&e, err);
                    break;
                }
            };
            records.sort_by_key(|r| (r.revision, r.seq));
            for r in &records {
                let line = if json { r.to_json().to_json() } else { format_change(r, inline) };
                let _ = writeln!(out, "{}", line);
            }
            let _ = out.flush();
            position = upto;
        }
        std::thread::sleep(POLL);
    }
    Ok(0)
}

//! The loop of `psmcd`: one thread, polling. Per store and per interval it looks at the mirror
//! file's stat and the store's revision against the bookkeeping (`mirror.size`, `mirror.mtime`,
//! `mirror.revision`: a few `SELECT`s), syncs when either moved (import a hand edit, export the
//! commits of other processes), merges the files waiting in `imports/`, and writes the heartbeat
//! key when it is due.
//!
//! Shutdown: SIGTERM or SIGINT only sets a flag. The loop checks it between steps and while it
//! sleeps, so an export or import in progress always finishes (a temp file, fsync, rename: no
//! half-written file), then a last sync, a last heartbeat (`state: "stopped"`), and the stores
//! are closed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{iso_time, system_ms};
use crate::json::Value;
use crate::store::{EnvPrefix, OpenOptions, SetOptions, Store};
use crate::sync::imports::pending_imports;

use super::heartbeat::{heartbeat_key, Heartbeat};
use super::log::{Level, Logger};
use super::options::ServiceOptions;

/// How `run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Stopped on request (or `--once` finished) with every store healthy.
    Ok,
    /// `--once` finished, but a store could not be synced (an invalid edit, an I/O error).
    Problems,
}

/// A file's stat, to notice that it did not change since a refused edit.
type Stat = Option<(u64, Option<std::time::SystemTime>)>;

fn stat(path: &Path) -> Stat {
    std::fs::metadata(path).ok().map(|m| (m.len(), m.modified().ok()))
}

struct Watched {
    dir: PathBuf,
    label: String,
    store: Store,
    /// When this store's mirror or imports last changed anything (ISO time).
    last_sync: Option<String>,
    /// Do not sync before this (an editor mid-save, a store error's backoff).
    not_before: Option<Instant>,
    /// Failures in a row, for the backoff.
    failures: u32,
    /// A refused edit: (its message, the file's stat, the store revision) — not looked at again
    /// until the file or the revision changes.
    refused: Option<(String, Stat, i64)>,
    problem: bool,
    /// The last heartbeat failure (e.g. a schema that refuses the key), logged once.
    beat_error: Option<String>,
}

/// The shared stop flag, set by SIGTERM/SIGINT (see the bin).
pub type StopFlag = Arc<AtomicBool>;

fn open_store(dir: &Path, source: &str) -> crate::Result<Store> {
    Store::open(OpenOptions {
        dir: Some(dir.to_path_buf()),
        env: Some(Default::default()),
        env_prefix: EnvPrefix::Off,
        source: Some(source.to_string()),
        ..OpenOptions::default()
    })
}

impl Watched {
    fn sync(&mut self, log: &Logger) {
        if self.not_before.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let revision = self.store.revision().unwrap_or(-1);
        if let Some((_, st, rev)) = &self.refused {
            if let Some(file) = self.store.mirror_file() {
                if stat(&file) == *st && revision == *rev {
                    return; // the same refused edit: wait for the user
                }
            }
        }
        let needs = match self.store.mirror_needs_sync() {
            Ok(n) => n,
            Err(e) => return self.failed(log, "check", &e),
        };
        if !needs {
            self.failures = 0;
            return;
        }
        match self.store.sync_mirror() {
            Err(e) => self.failed(log, "sync", &e),
            Ok(r) => {
                self.failures = 0;
                self.not_before = r.retry_in_ms.map(|ms| Instant::now() + Duration::from_millis(ms.max(1) as u64));
                if let Some(ms) = r.retry_in_ms {
                    log.debug(Some(&self.label), "retry", &format!("the mirror file is being saved; looking again in {} ms", ms), &[]);
                }
                // A refused edit: this sync's, or (waiting) the one recorded before.
                let pending = match (&r.error, r.waiting) {
                    (Some(e), _) => Some(e.clone()),
                    (None, true) => self.store.mirror_status().ok().flatten().and_then(|(s, _)| s.error),
                    (None, false) => None,
                };
                if let Some(e) = pending {
                    let file = self.store.mirror_file();
                    let seen = self.refused.as_ref().is_some_and(|(m, _, _)| m == &e.message);
                    if !seen {
                        log.warn(
                            Some(&self.label),
                            "invalid-edit",
                            &format!("{} (not applied; fix: {})", e.message, e.hint),
                            &[("code", Value::String(e.code.clone())), ("error", e.to_json())],
                        );
                    }
                    self.refused = Some((e.message.clone(), file.as_deref().map(stat).unwrap_or(None), revision));
                    self.problem = true;
                    return;
                }
                if r.waiting {
                    log.debug(Some(&self.label), "waiting", "nothing to sync (the mirror is off)", &[]);
                    return;
                }
                if self.refused.take().is_some() {
                    log.info(Some(&self.label), "fixed", "the mirror file is valid again", &[]);
                    self.problem = false;
                }
                let now = iso_time(system_ms());
                if let Some(c) = &r.imported {
                    let changes = c.records.iter().filter(|x| x.op != "conflict").count();
                    log.info(
                        Some(&self.label),
                        "imported",
                        &format!("imported a hand edit: {} change(s), {} conflict(s), revision {}", changes, r.conflicts, c.revision),
                        &[("revision", Value::Number(c.revision as f64)), ("changes", Value::Number(changes as f64)), ("conflicts", Value::Number(r.conflicts as f64))],
                    );
                    self.last_sync = Some(now.clone());
                }
                if r.exported {
                    log.log(Level::Debug, Some(&self.label), "exported", &format!("exported the mirror (revision {})", revision), &[]);
                    self.last_sync = Some(now);
                }
            }
        }
    }

    fn imports(&mut self, log: &Logger) {
        match pending_imports(&self.dir) {
            Ok(p) if p.is_empty() => return,
            Ok(_) => {}
            Err(e) => return self.failed(log, "imports", &e),
        }
        match self.store.process_imports() {
            Err(e) => self.failed(log, "imports", &e),
            Ok(report) => {
                for d in &report.done {
                    log.info(
                        Some(&self.label),
                        "import-done",
                        &format!("imported {}: {} change(s), revision {}", d.file, d.changes, d.revision),
                        &[("file", Value::String(d.file.clone())), ("changes", Value::Number(d.changes as f64)), ("revision", Value::Number(d.revision as f64))],
                    );
                    self.last_sync = Some(iso_time(system_ms()));
                }
                for r in &report.rejected {
                    log.warn(
                        Some(&self.label),
                        "import-rejected",
                        &format!("rejected {}: {} (reason in {})", r.file, r.message, r.reason_file.display()),
                        &[("file", Value::String(r.file.clone())), ("code", Value::String(r.code.clone()))],
                    );
                }
                // Another sync exports what the imports changed.
                if !report.done.is_empty() {
                    let _ = self.store.flush_mirror();
                }
            }
        }
    }

    fn heartbeat(&mut self, log: &Logger, opts: &ServiceOptions, all: &[String], started_at: &str, state: &'static str) {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let beat = Heartbeat {
            time: iso_time(system_ms()),
            pid: std::process::id(),
            host: host.clone(),
            state,
            version: env!("CARGO_PKG_VERSION"),
            started_at: started_at.to_string(),
            stores: all.to_vec(),
            last_sync: self.last_sync.clone(),
            interval_ms: opts.interval.as_millis() as u64,
            heartbeat_interval_ms: opts.heartbeat_interval.as_millis() as u64,
        };
        let key = heartbeat_key(&host);
        match self.store.set(&key, beat.to_value(), SetOptions { source: Some(opts.source.clone()), ..SetOptions::default() }) {
            Ok(c) => {
                self.beat_error = None;
                log.log(Level::Debug, Some(&self.label), "heartbeat", &format!("{} ({}), revision {}", key, state, c.revision), &[]);
            }
            Err(e) => {
                // Logged once per distinct error; it never delays the mirror's sync.
                if self.beat_error.as_deref() != Some(e.message()) {
                    log.warn(
                        Some(&self.label),
                        "heartbeat",
                        &format!("could not write the heartbeat {}: {} (hint: {})", key, e.message(), e.hint()),
                        &[("code", Value::String(e.code().into()))],
                    );
                    self.beat_error = Some(e.message().to_string());
                }
            }
        }
    }

    fn failed(&mut self, log: &Logger, what: &str, e: &crate::PsmcError) {
        self.failures += 1;
        self.problem = true;
        let backoff = Duration::from_millis((100u64 << self.failures.min(8)).min(30_000));
        self.not_before = Some(Instant::now() + backoff);
        log.error(
            Some(&self.label),
            what,
            &format!("{} failed: {} (hint: {}); retrying in {} ms", what, e.message(), e.hint(), backoff.as_millis()),
            &[("code", Value::String(e.code().into()))],
        );
    }
}

fn sleep_until(deadline: Instant, stop: &StopFlag) {
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// Runs the service until `stop` is set (or one pass with `--once`). Fails only when a store
/// cannot be opened at start.
pub fn run(opts: &ServiceOptions, stop: &StopFlag) -> crate::Result<ExitStatus> {
    let log = Logger { json: opts.json, min: if opts.verbose { Level::Debug } else { Level::Info } };
    let mut watched = Vec::with_capacity(opts.stores.len());
    for dir in &opts.stores {
        let store = open_store(dir, &opts.source)?;
        let label = dir.display().to_string();
        watched.push(Watched { dir: dir.clone(), label, store, last_sync: None, not_before: None, failures: 0, refused: None, problem: false, beat_error: None });
    }
    let all: Vec<String> = watched.iter().map(|w| w.label.clone()).collect();
    let started_at = iso_time(system_ms());
    log.info(
        None,
        "started",
        &format!(
            "psmcd {} (pid {}) watching {} store(s): {}; interval {} ms, heartbeat {}",
            env!("CARGO_PKG_VERSION"),
            std::process::id(),
            all.len(),
            all.join(", "),
            opts.interval.as_millis(),
            if opts.heartbeat_interval.is_zero() { "off".to_string() } else { format!("every {} ms", opts.heartbeat_interval.as_millis()) }
        ),
        &[("pid", Value::Number(std::process::id() as f64)), ("stores", Value::Array(all.iter().map(|s| Value::String(s.clone())).collect()))],
    );
    let beats = !opts.heartbeat_interval.is_zero();
    let mut next_beat = Instant::now();
    loop {
        for w in watched.iter_mut() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            w.sync(&log);
            if !opts.no_imports && !stop.load(Ordering::SeqCst) {
                w.imports(&log);
            }
        }
        if beats && Instant::now() >= next_beat && !stop.load(Ordering::SeqCst) && !opts.once {
            for w in watched.iter_mut() {
                w.heartbeat(&log, opts, &all, &started_at, "running");
            }
            next_beat = Instant::now() + opts.heartbeat_interval;
        }
        if opts.once || stop.load(Ordering::SeqCst) {
            break;
        }
        sleep_until(Instant::now() + opts.interval, stop);
    }
    // The last pass: a commit made meanwhile is exported before the process goes.
    let mut problems = false;
    for w in watched.iter_mut() {
        w.not_before = None;
        w.sync(&log);
        if beats {
            w.heartbeat(&log, opts, &all, &started_at, if opts.once { "once" } else { "stopped" });
        }
        if let Err(e) = w.store.flush_mirror() {
            w.failed(&log, "flush", &e);
        }
        problems |= w.problem;
    }
    for w in watched.drain(..) {
        let mut s = w.store;
        s.close();
    }
    log.info(None, "stopped", if opts.once { "one pass done" } else { "stopped on request; every mirror is written" }, &[]);
    Ok(if problems && opts.once { ExitStatus::Problems } else { ExitStatus::Ok })
}

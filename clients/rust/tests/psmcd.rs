#![cfg(unix)] // SIGTERM/SIGINT are sent with libc::kill; psmcd itself also runs on Windows.
//! `psmcd` as a real process (CARGO_BIN_EXE_psmcd) on real stores: a hand edit picked up, the
//! commits of other processes exported, the heartbeat key, the imports/ folder, an invalid
//! edit refused and never overwritten, SIGTERM in the middle of exports (no temp file left, a
//! valid mirror in sync), `--once`, usage errors, and a store written by the TypeScript CLI.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use psmc::mirror::{self, MirrorFormat};
use psmc::sync::MirrorState;
use psmc::{ChangeRequest, HistoryOptions, OpenOptions, SetOptions, Store, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-psmcd-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn file(&self) -> PathBuf {
        self.0.join("config.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The test's own handle: the mirror off, so whatever happens to the file is psmcd's doing.
fn observer(dir: &Path) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), mirror: Some(false), source: Some("test".into()), ..Default::default() }).unwrap()
}

struct Daemon {
    child: Child,
    /// What was read of its log before the end (the "started" line).
    head: String,
}

impl Daemon {
    /// Starts psmcd and waits for its first log line ("started"): by then its signal handlers
    /// are in place and its stores open.
    fn start(args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_psmcd")).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut head = Vec::new();
        let err = child.stderr.as_mut().unwrap();
        let mut byte = [0u8; 1];
        let mut line_start = 0;
        loop {
            assert_eq!(err.read(&mut byte).unwrap(), 1, "psmcd ended before it started: {}", String::from_utf8_lossy(&head));
            head.push(byte[0]);
            if byte[0] == b'\n' {
                let line = String::from_utf8_lossy(&head[line_start..]).into_owned();
                if line.contains("watching") {
                    break;
                }
                line_start = head.len();
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        Daemon { child, head }
    }
    fn terminate(mut self) -> (i32, String) {
        // SAFETY: sends SIGTERM to our own child process.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        self.wait()
    }
    fn wait(&mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let mut log = std::mem::take(&mut self.head);
                self.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
                return (st.code().unwrap_or(-1), log);
            }
            assert!(Instant::now() < deadline, "psmcd did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` until it holds (psmcd works in the background); fails after 20 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {}", what);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn hand_edit(file: &Path, text: &str) {
    fs::write(file, text).unwrap();
    fs::File::options().write(true).open(file).unwrap().set_modified(SystemTime::now() - Duration::from_secs(1)).unwrap();
}

fn parse_file(file: &Path) -> Option<Vec<(String, Value)>> {
    let text = fs::read_to_string(file).ok()?;
    mirror::parse(MirrorFormat::Json, &text).ok().map(|p| p.entries)
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".psmc-tmp-")).collect()
}

fn host_key() -> String {
    psmc::service::heartbeat::heartbeat_key(&gethostname::gethostname().to_string_lossy())
}

#[test]
fn it_imports_hand_edits_exports_other_commits_and_beats() {
    let t = TempDir::new();
    let obs = observer(t.path());
    obs.set("a", 1, SetOptions::default()).unwrap();
    let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "20", "--heartbeat-interval", "200ms"]);
    // The store had no mirror: psmcd writes it.
    eventually("the mirror written", || parse_file(&t.file()).is_some_and(|e| e.iter().any(|(k, _)| k == "a")));
    // Another process (mirror off) commits: psmcd exports it.
    obs.set("b", "two", SetOptions::default()).unwrap();
    eventually("b exported", || parse_file(&t.file()).is_some_and(|e| e.iter().any(|(k, v)| k == "b" && *v == Value::from("two"))));
    // A hand edit: psmcd imports it with source file.
    let text = fs::read_to_string(t.file()).unwrap();
    hand_edit(&t.file(), &text.replace("\"a\": 1", "\"a\": 42"));
    eventually("the hand edit imported", || obs.get("a").unwrap() == Some(Value::from(42)));
    let h = obs.history(Some("a"), HistoryOptions::default()).unwrap();
    assert_eq!(h[0].source, "file");
    // The heartbeat: its key, source and value.
    let key = host_key();
    // (The first beat may predate every sync: wait for one that names the last sync.)
    eventually("a heartbeat after a sync", || obs.get(&key).unwrap().is_some_and(|v| v.get("lastSync").and_then(Value::as_str).is_some()));
    let r = obs.resolve(&key).unwrap();
    assert_eq!(r.source.as_deref(), Some("rust-service"));
    let v = r.value.unwrap();
    assert_eq!(v.get("pid").and_then(Value::as_f64), Some(d.child.id() as f64));
    assert_eq!(v.get("state").and_then(Value::as_str), Some("running"));
    assert_eq!(v.get("version").and_then(Value::as_str), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(v.get("stores").and_then(|s| s.get("count")).and_then(Value::as_f64), Some(1.0));
    assert!(v.get("lastSync").and_then(Value::as_str).is_some(), "{}", v.to_json());
    let first = v.get("time").and_then(Value::as_str).unwrap().to_string();
    eventually("a later heartbeat", || obs.get(&key).unwrap().and_then(|v| v.get("time").and_then(Value::as_str).map(str::to_string)) != Some(first.clone()));
    let (code, log) = d.terminate();
    assert_eq!(code, 0, "{}", log);
    // (The import may also have been made by a heartbeat write, which imports a pending edit
    // first like every write; so the history above, not the log, is what is checked.)
    assert_eq!(obs.get(&key).unwrap().unwrap().get("state").and_then(Value::as_str), Some("stopped"));
    // Stopped cleanly: the mirror holds everything, including the last heartbeat.
    let entries = parse_file(&t.file()).unwrap();
    let beat = entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(beat.get("state").and_then(Value::as_str), Some("stopped"));
    assert!(temp_files(t.path()).is_empty());
}

#[test]
fn an_invalid_edit_is_reported_not_applied_and_not_overwritten() {
    let t = TempDir::new();
    let obs = observer(t.path());
    obs.set("a", 1, SetOptions::default()).unwrap();
    let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "20", "--heartbeat-interval", "0", "--json"]);
    eventually("the mirror written", || parse_file(&t.file()).is_some());
    let bad = "{\n  \"a\": 2\n  \"b\": 3\n}\n";
    hand_edit(&t.file(), bad);
    let status_of = || obs.mirror_status().unwrap().unwrap().0;
    eventually("the error recorded", || status_of().state == MirrorState::InvalidEdit);
    let err = status_of().error.unwrap();
    assert_eq!((err.code.as_str(), err.line), ("PSMC_PARSE", Some(3)));
    // Other commits go on; psmcd never overwrites the bad file.
    obs.set("c", 3, SetOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fs::read_to_string(t.file()).unwrap(), bad);
    assert_eq!(obs.get("a").unwrap(), Some(Value::from(1)));
    // Fixed: imported, and c exported beside it.
    hand_edit(&t.file(), "{\n  \"a\": 2,\n  \"b\": 3\n}\n");
    eventually("the fix imported", || obs.get("b").unwrap() == Some(Value::from(3)));
    eventually("c exported", || parse_file(&t.file()).is_some_and(|e| e.iter().any(|(k, _)| k == "c")));
    let (code, log) = d.terminate();
    assert_eq!(code, 0, "{}", log);
    // --json: one object per line, the refusal logged once with where and how to fix.
    let lines: Vec<Value> = log.lines().map(|l| psmc::json::parse(l).unwrap_or_else(|e| panic!("{:?}: {}", l, e))).collect();
    let refused: Vec<&Value> = lines.iter().filter(|l| l.get("event").and_then(Value::as_str) == Some("invalid-edit")).collect();
    assert_eq!(refused.len(), 1, "{}", log);
    assert!(refused[0].get("message").and_then(Value::as_str).unwrap().contains(":3:"), "{}", log);
}

#[test]
fn the_imports_folder_is_kept_in_sync() {
    let t = TempDir::new();
    let obs = observer(t.path());
    obs.set("a", 1, SetOptions::default()).unwrap();
    let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "20", "--heartbeat-interval", "0"]);
    let imports = t.path().join("imports");
    fs::create_dir_all(&imports).unwrap();
    fs::write(imports.join("drop.toml"), "\"net.port\" = 9000\n").unwrap();
    fs::write(imports.join("broken.json"), "{\"a\": [1\n").unwrap();
    eventually("drop.toml imported", || obs.get("net.port").unwrap() == Some(Value::from(9000)));
    eventually("broken.json rejected", || imports.join("rejected/broken.json.reason").exists());
    eventually("drop.toml moved to done/", || imports.join("done/drop.toml").exists());
    eventually("the import exported", || parse_file(&t.file()).is_some_and(|e| e.iter().any(|(k, _)| k == "net.port")));
    let (code, log) = d.terminate();
    assert_eq!(code, 0, "{}", log);
    assert!(log.contains("rejected broken.json"), "{}", log);
}

#[test]
fn sigterm_during_exports_leaves_no_temp_file_and_a_valid_mirror() {
    let t = TempDir::new();
    let obs = observer(t.path());
    let big = |round: usize| (0..4000).map(|i| ChangeRequest::set(format!("k{:05}.v", i), format!("round {} value {} {}", round, i, "x".repeat(40)))).collect::<Vec<_>>();
    obs.batch(big(0), None).unwrap();
    for (round, delay_ms) in [5u64, 40, 120, 300].into_iter().enumerate() {
        let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "10", "--heartbeat-interval", "0"]);
        // A large commit by another process: psmcd rewrites the whole file for it.
        obs.batch(big(round + 1), None).unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let (code, log) = d.terminate();
        assert_eq!(code, 0, "round {}: {}", round, log);
        assert!(temp_files(t.path()).is_empty(), "round {}: temp files left: {:?}", round, temp_files(t.path()));
        let entries = parse_file(&t.file()).unwrap_or_else(|| panic!("round {}: the mirror does not parse", round));
        assert_eq!(entries.len(), 4000);
        // Clean stop: the last pass exported the commit, whenever the signal came.
        let want = Value::from(format!("round {} value 0 {}", round + 1, "x".repeat(40)));
        assert_eq!(entries[0].1, want, "round {}: the mirror is in sync at exit", round);
        let s = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), mirror: Some(false), ..Default::default() }).unwrap();
        assert_eq!(s.mirror_status().unwrap().unwrap().0.state, MirrorState::InSync, "round {}", round);
    }
}

#[test]
fn once_syncs_and_exits_and_bad_arguments_are_usage_errors() {
    let t = TempDir::new();
    let obs = observer(t.path());
    obs.set("a", 1, SetOptions::default()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([t.path().to_str().unwrap(), "--once"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(parse_file(&t.file()).is_some());
    let beat = obs.get(&host_key()).unwrap().unwrap();
    assert_eq!(beat.get("state").and_then(Value::as_str), Some("once"));
    // A project directory names its .psmc/ store.
    let proj = TempDir::new();
    let store_dir = proj.path().join(".psmc");
    observer(&store_dir).set("p", true, SetOptions::default()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([proj.path().to_str().unwrap(), "--once", "--heartbeat-interval", "0"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(store_dir.join("config.json").exists());
    // An invalid edit makes --once exit 1.
    hand_edit(&t.file(), "{ nope");
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([t.path().to_str().unwrap(), "--once", "--heartbeat-interval", "0"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    // No store there: exit 3 with a hint; a bad duration: usage (2).
    let empty = TempDir::new();
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([empty.path().to_str().unwrap(), "--once"]).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("There is no psmc store") && err.contains("hint:"), "{}", err);
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([t.path().to_str().unwrap(), "--interval", "soon"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The TypeScript CLI (bin/psmc.cjs, built by `npm run build`), or why it cannot run here.
fn ts_cli() -> Result<PathBuf, String> {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bin/psmc.cjs");
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/bundle/psmc.cjs");
    if !bundle.exists() {
        return Err(format!("{} is missing: run `npm run build` at the repository root", bundle.display()));
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(cli),
        _ => Err("node is not installed".into()),
    }
}

fn ts(cli: &Path, store: &Path, args: &[&str]) -> String {
    let o = Command::new("node").arg(cli).arg("--store").arg(store).args(args).env_remove("PSMC_SOURCE").output().unwrap();
    assert!(o.status.success(), "psmc {:?}: {}", args, String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_store_written_by_the_typescript_cli_is_kept_in_sync_and_ts_status_sees_psmcds_work() {
    let cli = match ts_cli() {
        Ok(c) => c,
        Err(why) => {
            // Reason: this cross-language test needs Node and the built TS CLI (CI builds it
            // before `cargo test`); without them it cannot run, and says so.
            eprintln!("SKIPPED a_store_written_by_the_typescript_cli_is_kept_in_sync: {}", why);
            return;
        }
    };
    let t = TempDir::new();
    ts(&cli, t.path(), &["set", "display.units", "metric"]);
    ts(&cli, t.path(), &["set", "net.port", "8080"]);
    let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "20", "--heartbeat-interval", "0"]);
    // A hand edit of the file the TS CLI wrote: psmcd imports it; the TS CLI reads it back.
    eventually("the TS mirror in place", || parse_file(&t.file()).is_some_and(|e| e.len() == 2));
    let text = fs::read_to_string(t.file()).unwrap();
    hand_edit(&t.file(), &text.replace("8080", "9090"));
    eventually("the edit imported", || ts(&cli, t.path(), &["get", "net.port"]).trim() == "9090");
    // An invalid edit recorded by psmcd is what `psmc status` (TS) reports.
    let bad = "{\n  \"net.port\": 9090,,\n}\n";
    hand_edit(&t.file(), bad);
    eventually("TS status shows the refused edit", || {
        let o = Command::new("node").arg(&cli).arg("--store").arg(t.path()).args(["status", "--json"]).output().unwrap();
        let v = psmc::json::parse(&String::from_utf8_lossy(&o.stdout)).unwrap_or(Value::Null);
        v.get("mirror").and_then(|m| m.get("state")).and_then(Value::as_str) == Some("invalid-edit")
    });
    let (code, log) = d.terminate();
    assert_eq!(code, 0, "{}", log);
    assert_eq!(fs::read_to_string(t.file()).unwrap(), bad, "the bad file is left as saved");
}

#[test]
fn a_refused_heartbeat_is_logged_once_and_does_not_stop_the_sync() {
    let t = TempDir::new();
    let obs = observer(t.path());
    obs.set_schema(Some(&psmc::json::parse(r#"{"keys":{"a":{"type":"integer"}},"additionalKeys":false}"#).unwrap()), None).unwrap();
    obs.set("a", 1, SetOptions::default()).unwrap();
    let d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "20", "--heartbeat-interval", "50ms"]);
    eventually("the mirror written", || parse_file(&t.file()).is_some());
    std::thread::sleep(Duration::from_millis(300)); // several refused beats
    let text = fs::read_to_string(t.file()).unwrap();
    hand_edit(&t.file(), &text.replace("\"a\": 1", "\"a\": 7"));
    eventually("the hand edit imported despite the refused heartbeat", || obs.get("a").unwrap() == Some(Value::from(7)));
    let (code, log) = d.terminate();
    assert_eq!(code, 0, "{}", log);
    assert_eq!(log.matches("could not write the heartbeat").count(), 1, "{}", log);
    assert!(log.contains("PSMC_SCHEMA_VIOLATION") || log.contains("additionalKeys") || log.contains("not declared"), "{}", log);
}

#[test]
fn several_stores_are_watched_at_once() {
    let (t1, t2) = (TempDir::new(), TempDir::new());
    observer(t1.path()).set("one", 1, SetOptions::default()).unwrap();
    observer(t2.path()).set("two", 2, SetOptions::default()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_psmcd")).args([t1.path().to_str().unwrap(), t2.path().to_str().unwrap(), "--once", "--json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(parse_file(&t1.file()).is_some_and(|e| e.iter().any(|(k, _)| k == "one")));
    assert!(parse_file(&t2.file()).is_some_and(|e| e.iter().any(|(k, _)| k == "two")));
    let beat = observer(t2.path()).get(&host_key()).unwrap().unwrap();
    assert_eq!(beat.get("stores").and_then(|s| s.get("count")).and_then(Value::as_f64), Some(2.0));
}

#[test]
fn sigkill_during_exports_never_leaves_a_partial_mirror() {
    let t = TempDir::new();
    let obs = observer(t.path());
    let big = |round: usize| (0..4000).map(|i| ChangeRequest::set(format!("k{:05}.v", i), format!("round {} value {} {}", round, i, "y".repeat(40)))).collect::<Vec<_>>();
    obs.batch(big(0), None).unwrap();
    for (round, delay_ms) in [3u64, 25, 60, 150].into_iter().enumerate() {
        let mut d = Daemon::start(&[t.path().to_str().unwrap(), "--interval", "10", "--heartbeat-interval", "0"]);
        obs.batch(big(round + 1), None).unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        d.child.kill().unwrap(); // SIGKILL: no clean-up at all
        let _ = d.child.wait();
        // Whatever the moment, the file is the old or the new version, never a mix.
        let entries = parse_file(&t.file()).unwrap_or_else(|| panic!("round {}: the mirror does not parse", round));
        assert_eq!(entries.len(), 4000, "round {}", round);
        let first = entries[0].1.as_str().unwrap().to_string();
        assert!(entries.iter().all(|(_, v)| v.as_str().unwrap().split(' ').nth(1) == first.split(' ').nth(1)), "round {}: one version throughout", round);
    }
    // A later handle brings the file up to date; a temp file left by the kill is swept once stale.
    let s = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), ..Default::default() }).unwrap();
    s.sync_mirror().unwrap();
    assert_eq!(s.mirror_status().unwrap().unwrap().0.state, MirrorState::InSync);
}

//! Store integration tests: file modes, reads that create nothing, format checks, PSMC_BUSY,
//! and compare-and-set contention between threads (each with its own handle).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use psmc::{Durability, ErrorCode, OpenOptions, PsmcError, SetOptions, Store, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-store-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &Path) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), ..Default::default() }).unwrap()
}

fn code(r: Result<impl std::fmt::Debug, PsmcError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {:?}", v),
        Err(e) => e.code().to_string(),
    }
}

#[cfg(unix)]
#[test]
fn first_write_creates_dir_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new();
    let dir = t.path().join("a").join("store");
    let store = open(&dir);
    assert!(!dir.exists(), "opening must not create the store");
    assert_eq!(store.get("x").unwrap(), None);
    assert!(!dir.exists(), "a read must not create the store");
    store.set("x", 1, SetOptions::default()).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&t.path().join("a")), 0o700);
    assert_eq!(mode(&dir.join("psmc.db")), 0o600);
    for f in ["psmc.db-wal", "psmc.db-shm"] {
        if dir.join(f).exists() {
            assert_eq!(mode(&dir.join(f)), 0o600, "{}", f);
        }
    }
}

#[test]
fn round_trip_and_source() {
    let t = TempDir::new();
    let store = open(t.path());
    let c = store.set("display.units", "metric", SetOptions::default()).unwrap();
    assert_eq!(c.revision, 1);
    assert_eq!(c.changes[0].source, "rust");
    assert_eq!(store.get("display.units").unwrap(), Some(Value::from("metric")));
    let r = store.resolve("display.units").unwrap();
    assert_eq!((r.revision, r.source.as_deref()), (1, Some("rust")));
    assert_eq!(code(store.set("a..b", 1, SetOptions::default())), "PSMC_KEY_SYNTAX");
    assert_eq!(code(store.set("a", Value::Number(f64::NAN), SetOptions::default())), "PSMC_VALUE_INVALID");
    assert_eq!(store.revision().unwrap(), 1);
}

#[test]
fn short_file_is_corrupt_and_untouched() {
    let t = TempDir::new();
    std::fs::write(t.path().join("psmc.db"), "not a database").unwrap();
    let e = Store::open(OpenOptions { dir: Some(t.path().into()), ..Default::default() }).unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::Corrupt);
    assert_eq!(std::fs::read_to_string(t.path().join("psmc.db")).unwrap(), "not a database");
}

#[test]
fn foreign_and_newer_databases_are_refused() {
    let t = TempDir::new();
    let f = t.path().join("psmc.db");
    rusqlite::Connection::open(&f).unwrap().execute_batch("CREATE TABLE t (x); PRAGMA application_id = 7;").unwrap();
    assert_eq!(Store::open(OpenOptions { dir: Some(t.path().into()), ..Default::default() }).unwrap_err().code(), "PSMC_CORRUPT");
    let t2 = TempDir::new();
    let s = open(t2.path());
    s.set("a", 1, SetOptions::default()).unwrap();
    drop(s);
    rusqlite::Connection::open(t2.path().join("psmc.db")).unwrap().execute_batch("PRAGMA user_version = 3;").unwrap();
    assert_eq!(Store::open(OpenOptions { dir: Some(t2.path().into()), ..Default::default() }).unwrap_err().code(), "PSMC_FORMAT_TOO_NEW");
}

#[test]
fn a_held_write_lock_gives_psmc_busy_and_changes_nothing() {
    let t = TempDir::new();
    let store = Store::open(OpenOptions { dir: Some(t.path().into()), busy_timeout_ms: Some(100), ..Default::default() }).unwrap();
    store.set("a", 1, SetOptions::default()).unwrap();
    let other = rusqlite::Connection::open(t.path().join("psmc.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let e = store.set("a", 2, SetOptions::default()).unwrap_err();
    assert_eq!(e.code(), "PSMC_BUSY");
    assert_eq!(e.exit_code(), 6);
    assert!(started.elapsed().as_millis() >= 90, "the busy timeout was not honoured");
    // Reads are not blocked by a writer in WAL mode.
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.set("a", 2, SetOptions::default()).unwrap().revision, 2);
}

/// 4 threads × 200 compare-and-set increments of one counter: exactly 800, no lost update.
#[test]
fn contention_cas_increments_are_exact() {
    let t = TempDir::new();
    let dir = Arc::new(t.path().to_path_buf());
    open(&dir).set("counter", 0, SetOptions::default()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let store = Store::open(OpenOptions {
                    dir: Some(dir.to_path_buf()),
                    source: Some(format!("worker-{}", i)),
                    durability: Durability::Normal,
                    env: Some(Default::default()),
                    ..Default::default()
                })
                .unwrap();
                let mut conflicts = 0;
                let mut done = 0;
                while done < 200 {
                    let r = store.resolve("counter").unwrap();
                    let n = r.value.and_then(|v| v.as_f64()).unwrap();
                    match store.set("counter", n + 1.0, SetOptions { expect_revision: Some(r.revision), source: None }) {
                        Ok(_) => done += 1,
                        Err(e) if e.code() == "PSMC_CONFLICT" => conflicts += 1,
                        Err(e) => panic!("unexpected {}", e),
                    }
                }
                conflicts
            })
        })
        .collect();
    let conflicts: usize = threads.into_iter().map(|h| h.join().unwrap()).sum();
    let store = open(&dir);
    assert_eq!(store.get("counter").unwrap(), Some(Value::from(800)));
    assert_eq!(store.revision().unwrap(), 801);
    let history = store.history(Some("counter"), Default::default()).unwrap();
    assert_eq!(history.len(), 801);
    // Timestamps strictly increase with the revision.
    for w in history.windows(2) {
        assert!(w[0].at > w[1].at, "{} !> {}", w[0].at, w[1].at);
    }
    println!("{} conflicts retried", conflicts);
}

#[test]
fn project_store_shadows_user_store() {
    let t = TempDir::new();
    let home = t.path().join("home");
    let proj = t.path().join("proj");
    std::fs::create_dir_all(proj.join(".psmc")).unwrap();
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    let mut env = std::collections::HashMap::new();
    env.insert("PSMC_HOME".to_string(), home.display().to_string());
    env.insert("PSMC_RETRIES".to_string(), "7".to_string());
    let user = open(&home);
    user.set("a", "user", SetOptions::default()).unwrap();
    let store = Store::open(OpenOptions {
        env: Some(env),
        project: psmc::Project::Discover,
        cwd: Some(proj.join("sub")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(store.get("a").unwrap(), Some(Value::from("user")));
    store.set("a", "project", SetOptions::default()).unwrap();
    assert_eq!(store.get("a").unwrap(), Some(Value::from("project")));
    assert_eq!(user.get("a").unwrap(), Some(Value::from("user")));
    assert_eq!(store.get("retries").unwrap(), Some(Value::from(7)));
    let e = store.explain("a").unwrap();
    assert_eq!(e.resolved.layer, Some(psmc::Layer::Project));
    assert!(e.reason.contains("outranks the user store"), "{}", e.reason);
}

/// Worker half of `contention_between_processes`: runs only when spawned with PSMC_RS_WORKER.
#[test]
fn contention_worker() {
    let dir = match std::env::var("PSMC_RS_WORKER") {
        Ok(d) => PathBuf::from(d),
        Err(_) => return,
    };
    let store = Store::open(OpenOptions {
        dir: Some(dir),
        source: Some(format!("pid-{}", std::process::id())),
        durability: Durability::Normal,
        env: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    let mut done = 0;
    while done < 200 {
        let r = store.resolve("counter").unwrap();
        let n = r.value.and_then(|v| v.as_f64()).unwrap();
        match store.set("counter", n + 1.0, SetOptions { expect_revision: Some(r.revision), source: None }) {
            Ok(_) => done += 1,
            Err(e) if e.code() == "PSMC_CONFLICT" => {}
            Err(e) => panic!("unexpected {}", e),
        }
    }
}

/// 4 processes × 200 compare-and-set increments: exactly 800.
#[test]
fn contention_between_processes() {
    if std::env::var("PSMC_RS_WORKER").is_ok() {
        return;
    }
    let t = TempDir::new();
    open(t.path()).set("counter", 0, SetOptions::default()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "contention_worker", "--test-threads", "1", "--quiet"])
                .env("PSMC_RS_WORKER", t.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let store = open(t.path());
    assert_eq!(store.get("counter").unwrap(), Some(Value::from(800)));
    assert_eq!(store.revision().unwrap(), 801);
}

/// Format 2: conflict records are listed in history and skipped by undo.
#[test]
fn undo_skips_conflict_records() {
    let t = TempDir::new();
    // The mirror off: its bookkeeping would fill `meta`, which this test expects untouched.
    let store = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), mirror: Some(false), ..Default::default() }).unwrap();
    store.set("a", 1, SetOptions::default()).unwrap();
    let raw = rusqlite::Connection::open(t.path().join("psmc.db")).unwrap();
    raw.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT INTO history VALUES (2, 0, 'a', 'conflict', '5', '1', 'file', '2026-01-01T00:00:00.000Z-0000', NULL);
         UPDATE state SET revision = 2;
         COMMIT;",
    )
    .unwrap();
    let h = store.history(Some("a"), Default::default()).unwrap();
    assert_eq!(h[0].op, "conflict");
    assert_eq!(h[0].old_value, Some(Value::from(5)));
    let c = store.undo(psmc::UndoOptions { revision: Some(2), ..Default::default() }).unwrap();
    assert!(c.changes.is_empty());
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
    let meta: i64 = raw.query_row("SELECT count(*) FROM meta", [], |r| r.get(0)).unwrap();
    assert_eq!(meta, 0);
}

#[test]
fn handles_creating_one_fresh_store_at_once_all_succeed() {
    // Several handles (threads, each its own connection, like separate processes) create one new
    // store at the same moment. Switching a new file to WAL answered "database is locked" at
    // once, without the busy wait (seen with 4 psmc-rs processes, 3 failures in 60), and the
    // foreign-database check could see a half-made store; neither may reach the caller.
    for round in 0..10 {
        let tmp = TempDir::new();
        let dir = tmp.path().join("store");
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let dir = dir.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let s = open(&dir);
                    s.set(&format!("k{}", i), 1, SetOptions::default()).map(|_| ()).map_err(|e| format!("{}: {}", e.code(), e.message()))
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), Ok(()), "round {}, handle {}", round, i);
        }
        let s = open(&dir);
        assert_eq!(s.list(None).unwrap().len(), 4, "round {}", round);
    }
}

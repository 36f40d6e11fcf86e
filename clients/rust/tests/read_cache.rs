//! The read cache (spec/SPEC.md §read.freshness): a handle sees its own writes at once through
//! every write path, so do other handles of the process; other processes' commits are seen
//! within `freshness_ms` (at once with 0), and hand edits of the mirror once imported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use psmc::store::snapshot_ops::CreateSnapshot;
use psmc::{ChangeRequest, ErrorCode, ImportOptions, OpenOptions, SetOptions, Store, UndoOptions, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-cache-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
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

fn open_with(dir: &Path, freshness_ms: Option<u64>) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), freshness_ms, ..Default::default() }).unwrap()
}

fn get(s: &Store, key: &str) -> Option<Value> {
    s.get(key).unwrap()
}

/// The longest freshness bound: with it, only a local write can refresh a cached read (within
/// the ten seconds a test takes), so these assertions do not depend on timing.
const LONG: Option<u64> = Some(10_000);

#[test]
fn own_writes_are_visible_at_once_through_every_write_path() {
    let t = TempDir::new();
    let s = open_with(t.path(), LONG);
    assert_eq!(get(&s, "a"), None); // cached as absent
    s.set("a", 1, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    assert_eq!(s.resolve("a").unwrap().revision, 1);
    s.set("a", 2, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(2)));
    assert_eq!(s.resolve("a").unwrap().revision, 2);

    s.delete("a", SetOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), None);

    assert_eq!(get(&s, "b"), None);
    s.batch(vec![ChangeRequest::set("a", "x"), ChangeRequest::set("b", true)], None).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from("x")));
    assert_eq!(get(&s, "b"), Some(Value::from(true)));

    s.undo(UndoOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), None);
    assert_eq!(get(&s, "b"), None);

    s.import_data(&psmc::json::parse(r#"{"a": "imported", "c": 3}"#).unwrap(), ImportOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from("imported")));
    assert_eq!(get(&s, "c"), Some(Value::from(3)));

    s.create_snapshot(CreateSnapshot { name: Some("one".into()), ..Default::default() }).unwrap();
    s.set("c", 4, SetOptions::default()).unwrap();
    s.set("d", 5, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "c"), Some(Value::from(4)));
    assert_eq!(get(&s, "d"), Some(Value::from(5)));
    s.restore_snapshot("one", None).unwrap();
    assert_eq!(get(&s, "c"), Some(Value::from(3)));
    assert_eq!(get(&s, "d"), None);

    // A schema default shows once the key is absent from the store, the schema set by this handle.
    assert_eq!(get(&s, "e"), None);
    s.set_schema(Some(&psmc::json::parse(r#"{"keys": {"e": {"type": "integer", "default": 9}}}"#).unwrap()), None).unwrap();
    assert_eq!(get(&s, "e"), Some(Value::from(9)));
}

#[test]
fn a_refused_write_leaves_reads_exact() {
    let t = TempDir::new();
    let s = open_with(t.path(), LONG);
    s.set("a", 1, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    // A compare-and-set that fails rolls back: the cache still answers the committed value.
    let e = s.set("a", 2, SetOptions { expect_revision: Some(7), ..Default::default() }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict.as_str());
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    let e = s.batch(vec![ChangeRequest::set("a", 3), ChangeRequest::set("b", 1).expect(5)], None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict.as_str());
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    assert_eq!(get(&s, "b"), None);
}

fn cli_set(dir: &Path, key: &str, value: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_psmc-rs")).args(["set", key, value, "--store"]).arg(dir).output().unwrap();
    assert!(o.status.success(), "psmc-rs set: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn another_handle_of_this_process_sees_a_write_at_once() {
    let t = TempDir::new();
    let writer = open_with(t.path(), LONG);
    writer.set("a", 1, SetOptions::default()).unwrap();
    let reader = open_with(t.path(), LONG);
    assert_eq!(get(&reader, "a"), Some(Value::from(1)));
    writer.set("a", 2, SetOptions::default()).unwrap();
    assert_eq!(get(&reader, "a"), Some(Value::from(2)));
    // A handle on another thread too (each thread owns its handle).
    let dir = t.path().to_path_buf();
    std::thread::spawn(move || open_with(&dir, LONG).set("a", 3, SetOptions::default()).unwrap()).join().unwrap();
    assert_eq!(get(&reader, "a"), Some(Value::from(3)));
    assert_eq!(reader.resolve("a").unwrap().revision, 3);
}

#[test]
fn another_process_commit_is_seen_within_the_freshness_bound() {
    let t = TempDir::new();
    cli_set(t.path(), "a", "1");
    let cached = open_with(t.path(), LONG);
    let first_read = Instant::now();
    assert_eq!(get(&cached, "a"), Some(Value::from(1)));
    let short = open_with(t.path(), Some(20));
    assert_eq!(get(&short, "a"), Some(Value::from(1)));

    cli_set(t.path(), "a", "2");
    let stale = get(&cached, "a");
    if first_read.elapsed() < Duration::from_millis(10_000) {
        assert_eq!(stale, Some(Value::from(1)), "within the bound a read is served from the cache");
    }
    std::thread::sleep(Duration::from_millis(30)); // past the 20 ms bound
    assert_eq!(get(&short, "a"), Some(Value::from(2)));
    assert_eq!(short.resolve("a").unwrap().revision, 2);

    // A local write drops the whole cache, so it also brings in what others committed.
    cached.set("b", true, SetOptions::default()).unwrap();
    assert_eq!(get(&cached, "a"), Some(Value::from(2)));
}

#[test]
fn freshness_zero_sees_another_process_at_once() {
    let t = TempDir::new();
    let s = open_with(t.path(), Some(0));
    assert_eq!(get(&s, "a"), None);
    s.set("b", 1, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "b"), Some(Value::from(1)));
    for (i, v) in ["1", "2"].iter().enumerate() {
        cli_set(t.path(), "a", v);
        assert_eq!(get(&s, "a"), Some(Value::from(i as i64 + 1)));
        cli_set(t.path(), "b", v);
        assert_eq!(get(&s, "b"), Some(Value::from(i as i64 + 1)));
    }
}

#[test]
fn a_hand_edit_imported_is_reflected() {
    let t = TempDir::new();
    let s = open_with(t.path(), LONG);
    s.set("a", 1, SetOptions::default()).unwrap();
    s.flush_mirror().unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    let file = t.path().join("config.json");
    let hand_edit = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_millis(1000)).unwrap();
    };
    // Imported by a read's mirror check (at most every 50 ms), even with a long freshness bound.
    hand_edit("{\n  \"a\": 2\n}\n");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(get(&s, "a"), Some(Value::from(2)));
    // Imported by an explicit sync.
    hand_edit("{\n  \"a\": 3,\n  \"b\": \"x\"\n}\n");
    s.sync_mirror().unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(3)));
    assert_eq!(get(&s, "b"), Some(Value::from("x")));
}

#[test]
fn a_freshness_bound_past_ten_seconds_is_refused() {
    let t = TempDir::new();
    let e = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), freshness_ms: Some(10_001), ..Default::default() }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Usage.as_str());
    assert!(e.message().contains("freshnessMs"), "{}", e.message());
}

#[test]
fn a_commit_by_a_raw_sqlite_connection_is_seen_with_freshness_zero() {
    let t = TempDir::new();
    let s = open_with(t.path(), Some(0));
    s.set("a", 1, SetOptions::default()).unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(1)));
    let c = rusqlite::Connection::open(t.path().join("psmc.db")).unwrap();
    c.execute_batch(
        "BEGIN IMMEDIATE; UPDATE entries SET value = '2', revision = 2 WHERE key = 'a';
         INSERT INTO history (revision, seq, key, op, old_value, new_value, source, at, note)
           VALUES (2, 0, 'a', 'set', '1', '2', 'sql', '2026-01-01T00:00:00.000Z-0001', NULL);
         UPDATE state SET revision = 2 WHERE id = 1; COMMIT;",
    )
    .unwrap();
    assert_eq!(get(&s, "a"), Some(Value::from(2)));
    assert_eq!(s.resolve("a").unwrap().revision, 2);
}

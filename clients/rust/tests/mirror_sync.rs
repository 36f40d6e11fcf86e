//! The mirror protocol in the Rust store (spec/sections/mirror-sync.md), on real SQLite files
//! and real mirror files: export after commits, hand edits imported with source `file`,
//! conflicts resolved by time with the loser in history, invalid edits refused (recorded, not
//! applied, not overwritten), deletes, the empty-file grace, temp-file sweeping and the
//! `imports/` drop folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use psmc::mirror::{self, MirrorFormat};
use psmc::sync::MirrorState;
use psmc::{ChangeRequest, HistoryOptions, OpenOptions, SetOptions, Store, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-mirror-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
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

fn open(dir: &Path) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), ..Default::default() }).unwrap()
}

/// A handle whose clock runs `offset_ms` from the real one (its changes look older or newer).
fn open_shifted(dir: &Path, offset_ms: i64) -> Store {
    let clock: psmc::clock::WallClock = Arc::new(move || psmc::clock::system_ms() + offset_ms);
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), clock: Some(clock), ..Default::default() }).unwrap()
}

/// Writes a hand edit and dates it `ago_ms` in the past (so it is settled, and its time is known).
fn hand_edit(file: &Path, text: &str, ago_ms: u64) {
    fs::write(file, text).unwrap();
    let f = fs::File::options().write(true).open(file).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_millis(ago_ms)).unwrap();
}

fn read(file: &Path) -> String {
    fs::read_to_string(file).unwrap()
}

fn values(file: &Path) -> Vec<(String, Value)> {
    mirror::parse(MirrorFormat::Json, &read(file)).unwrap().entries
}

fn set(store: &Store, key: &str, v: impl Into<Value>) {
    store.set(key, v, SetOptions::default()).unwrap();
}

#[test]
fn a_commit_exports_the_canonical_file_atomically_and_privately() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "net.port", 8080);
    set(&store, "display.units", "metric");
    store.flush_mirror().unwrap();
    let text = read(&t.file());
    let expected = mirror::render(MirrorFormat::Json, &[("display.units".into(), "metric".into()), ("net.port".into(), 8080.into())]).unwrap();
    assert_eq!(text, expected);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(t.file()).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let names: Vec<String> = fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains(".psmc-tmp-")), "no temp file left: {:?}", names);
    let (status, bg) = store.mirror_status().unwrap().unwrap();
    assert_eq!(status.state, MirrorState::InSync, "{:?} {:?}", status, bg);
    assert_eq!(status.revision, 2);
    // A batch is one commit, so one rewrite that holds all of it.
    store.batch(vec![ChangeRequest::set("a", 1), ChangeRequest::set("b", 2), ChangeRequest::delete("net.port")], None).unwrap();
    store.flush_mirror().unwrap();
    let keys: Vec<String> = values(&t.file()).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b", "display.units"]);
}

#[test]
fn the_deferred_export_of_a_burst_is_written_when_the_handle_goes() {
    let t = TempDir::new();
    {
        let store = open(t.path());
        for i in 0..50 {
            set(&store, "counter", i);
        }
        // Dropped here without flush or close.
    }
    assert_eq!(values(&t.file()), vec![("counter".to_string(), Value::from(49))]);
}

#[test]
fn a_hand_edit_is_imported_with_source_file_keeping_the_users_bytes() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    set(&store, "b", "x");
    store.flush_mirror().unwrap();
    let edited = "// my notes\n{\n  \"a\": 5, // five\n  \"b\": \"x\",\n  \"c\": [1, 2]\n}\n";
    hand_edit(&t.file(), edited, 1000);
    let r = store.sync_mirror().unwrap();
    assert!(r.imported.is_some() && r.error.is_none(), "{:?}", r);
    assert_eq!(store.get("a").unwrap(), Some(Value::from(5)));
    assert_eq!(store.get("c").unwrap(), Some(json("[1,2]")));
    let h = store.history(Some("a"), HistoryOptions::default()).unwrap();
    assert_eq!((h[0].source.as_str(), h[0].op.as_str()), ("file", "set"));
    // An import never rewrites the file when nothing disagrees: the user's bytes stay.
    assert_eq!(read(&t.file()), edited);
    // The next write edits only its entry; comments and layout survive.
    set(&store, "b", "y");
    store.flush_mirror().unwrap();
    let text = read(&t.file());
    assert!(text.contains("// my notes") && text.contains("// five") && text.contains("\"b\": \"y\""), "{}", text);
}

#[test]
fn a_hand_edit_is_seen_by_a_read_and_merged_before_a_write() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    store.flush_mirror().unwrap();
    hand_edit(&t.file(), "{\n  \"a\": 2\n}\n", 1000);
    std::thread::sleep(Duration::from_millis(60)); // past the 50 ms read check bound
    assert_eq!(store.get("a").unwrap(), Some(Value::from(2)));
    hand_edit(&t.file(), "{\n  \"a\": 3\n}\n", 1000);
    set(&store, "b", true); // imports the edit first, then exports b beside it
    store.flush_mirror().unwrap();
    assert_eq!(store.get("a").unwrap(), Some(Value::from(3)));
    assert_eq!(values(&t.file()), vec![("a".into(), Value::from(3)), ("b".into(), Value::from(true))]);
}

fn json(text: &str) -> Value {
    psmc::json::parse(text).unwrap()
}

#[test]
fn both_changed_the_later_side_wins_and_the_loser_is_kept_as_a_conflict() {
    // The database changed later: it wins, the file's value is recorded, the file corrected.
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "k", "base");
    store.flush_mirror().unwrap();
    let text_before = read(&t.file());
    // Another process (mirror off) changes k; then the user saves an edit made 30 s ago.
    let other = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), mirror: Some(false), source: Some("gui".into()), ..Default::default() }).unwrap();
    other.set("k", "from-gui", SetOptions::default()).unwrap();
    hand_edit(&t.file(), &text_before.replace("\"base\"", "\"from-file\""), 30_000);
    let r = store.sync_mirror().unwrap();
    assert_eq!(r.conflicts, 1);
    assert_eq!(store.get("k").unwrap(), Some(Value::from("from-gui")));
    let h = store.history(Some("k"), HistoryOptions::default()).unwrap();
    assert_eq!(h[0].op, "conflict");
    assert_eq!(h[0].old_value, Some(Value::from("from-file")), "the losing hand edit is kept");
    assert_eq!(h[0].source, "file");
    assert_eq!(values(&t.file()), vec![("k".into(), Value::from("from-gui"))], "the file is corrected");

    // The file changed later: it wins, the database's value is recorded with its source. (The
    // store's clock runs a minute behind, so its changes are older than the file's mtime.)
    let t = TempDir::new();
    let store = open_shifted(t.path(), -60_000);
    set(&store, "k", "base");
    store.flush_mirror().unwrap();
    let text_before = read(&t.file());
    let older = Store::open(OpenOptions {
        dir: Some(t.path().to_path_buf()),
        env: Some(Default::default()),
        mirror: Some(false),
        source: Some("gui".into()),
        clock: Some(Arc::new(|| psmc::clock::system_ms() - 60_000)),
        ..Default::default()
    })
    .unwrap();
    older.set("k", "from-gui", SetOptions::default()).unwrap();
    hand_edit(&t.file(), &text_before.replace("\"base\"", "\"from-file\""), 1000);
    let r = store.sync_mirror().unwrap();
    assert_eq!(r.conflicts, 1);
    assert_eq!(store.get("k").unwrap(), Some(Value::from("from-file")));
    let h = store.history(Some("k"), HistoryOptions::default()).unwrap();
    let ops: Vec<&str> = h.iter().filter(|c| c.revision == h[0].revision).map(|c| c.op.as_str()).collect();
    assert_eq!(ops.len(), 2, "the set and its conflict record form one revision: {:?}", h);
    let conflict = h.iter().find(|c| c.op == "conflict").unwrap();
    assert_eq!((conflict.old_value.clone(), conflict.source.as_str()), (Some(Value::from("from-gui")), "gui"));
}

#[test]
fn an_invalid_edit_is_never_applied_nor_overwritten_and_status_says_where() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    store.flush_mirror().unwrap();
    let bad = "{\n  \"a\": 2,\n  \"b\": 3 4\n}\n";
    hand_edit(&t.file(), bad, 1000);
    let r = store.sync_mirror().unwrap();
    let e = r.error.expect("refused");
    assert_eq!(e.code, "PSMC_PARSE");
    assert_eq!(e.line, Some(3));
    assert!(e.column.is_some());
    assert!(e.message.starts_with(&format!("{}:3:", t.file().display())), "{}", e.message);
    assert!(e.hint.contains("psmc status"), "{}", e.hint);
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)), "nothing applied");
    // Writes go on from the database, and never overwrite the bad file.
    set(&store, "c", "later");
    store.flush_mirror().unwrap();
    store.sync_mirror().unwrap();
    assert_eq!(read(&t.file()), bad);
    let (status, _) = store.mirror_status().unwrap().unwrap();
    assert_eq!(status.state, MirrorState::InvalidEdit);
    assert_eq!(status.error.as_ref().map(|e| e.line), Some(Some(3)));
    // Another handle (another process) sees the same recorded error.
    let other = open(t.path());
    assert_eq!(other.mirror_status().unwrap().unwrap().0.state, MirrorState::InvalidEdit);
    drop(other);
    // Fixed: imported, then the write made meanwhile is exported beside it.
    hand_edit(&t.file(), "{\n  \"a\": 2,\n  \"b\": 34\n}\n", 500);
    let r = store.sync_mirror().unwrap();
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(store.get("b").unwrap(), Some(Value::from(34)));
    assert_eq!(store.get("c").unwrap(), Some(Value::from("later")));
    let keys: Vec<String> = values(&t.file()).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(store.mirror_status().unwrap().unwrap().0.state, MirrorState::InSync);
}

#[test]
fn a_schema_violation_in_the_file_is_refused_with_its_key_and_line() {
    let t = TempDir::new();
    let store = open(t.path());
    store.set_schema(Some(&json(r#"{"keys":{"net.port":{"type":"integer","minimum":1,"maximum":65535}}}"#)), None).unwrap();
    set(&store, "net.port", 8080);
    set(&store, "name", "x");
    store.flush_mirror().unwrap();
    let bad = "{\n  \"name\": \"y\",\n  \"net.port\": 70000\n}\n";
    hand_edit(&t.file(), bad, 1000);
    let e = store.sync_mirror().unwrap().error.expect("refused");
    assert_eq!(e.code, "PSMC_SCHEMA_VIOLATION");
    assert_eq!(e.key.as_deref(), Some("net.port"));
    assert_eq!(e.line, Some(3));
    // All or nothing: the valid part of the edit is not applied either.
    assert_eq!(store.get("name").unwrap(), Some(Value::from("x")));
    assert_eq!(read(&t.file()), bad);
}

#[test]
fn invalid_bytes_and_illegal_keys_are_refused_too() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    store.flush_mirror().unwrap();
    let mut bytes = b"{\n  \"a\": \"caf".to_vec();
    bytes.extend([0xe9, b'"', b'\n', b'}', b'\n']);
    fs::write(t.file(), &bytes).unwrap();
    fs::File::options().write(true).open(t.file()).unwrap().set_modified(SystemTime::now() - Duration::from_secs(1)).unwrap();
    let e = store.sync_mirror().unwrap().error.expect("not UTF-8");
    assert_eq!((e.code.as_str(), e.line), ("PSMC_PARSE", Some(2)));
    assert_eq!(fs::read(t.file()).unwrap(), bytes);
    hand_edit(&t.file(), "{\n  \"a..b\": 1\n}\n", 1000);
    let e = store.sync_mirror().unwrap().error.expect("illegal key");
    assert_eq!(e.code, "PSMC_KEY_SYNTAX");
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
}

#[test]
fn deleting_a_key_deletes_it_and_deleting_the_file_regenerates_it() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    set(&store, "b", 2);
    store.flush_mirror().unwrap();
    hand_edit(&t.file(), "{\n  \"a\": 1\n}\n", 1000);
    store.sync_mirror().unwrap();
    assert_eq!(store.get("b").unwrap(), None);
    let h = store.history(Some("b"), HistoryOptions::default()).unwrap();
    assert_eq!((h[0].op.as_str(), h[0].source.as_str()), ("delete", "file"));
    fs::remove_file(t.file()).unwrap();
    store.sync_mirror().unwrap();
    assert_eq!(values(&t.file()), vec![("a".into(), Value::from(1))]);
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)), "a deleted file deletes nothing");
}

#[test]
fn an_empty_file_is_an_editor_mid_save_until_it_stays_empty() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    store.flush_mirror().unwrap();
    hand_edit(&t.file(), "", 100);
    let r = store.sync_mirror().unwrap();
    assert!(r.retry_in_ms.is_some(), "{:?}", r);
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
    hand_edit(&t.file(), "  \n", 3000);
    let r = store.sync_mirror().unwrap();
    assert!(r.exported);
    assert_eq!(values(&t.file()), vec![("a".into(), Value::from(1))], "regenerated, nothing deleted");
    // `{}` is how to delete every key, once it has stayed unchanged for the empty-file grace.
    hand_edit(&t.file(), "{}\n", 1000);
    let r = store.sync_mirror().unwrap();
    assert!(r.retry_in_ms.is_some(), "{:?}", r);
    assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
    hand_edit(&t.file(), "{}\n", 3000);
    store.sync_mirror().unwrap();
    assert!(store.all(None).unwrap().is_empty());
}

#[test]
fn a_file_still_being_written_waits_for_it_to_settle() {
    let t = TempDir::new();
    let store = open_shifted(t.path(), 0);
    set(&store, "a", 1);
    store.flush_mirror().unwrap();
    fs::write(t.file(), "{\n  \"a\": 2\n}\n").unwrap(); // modified just now
    let r = store.sync_mirror().unwrap();
    if r.retry_in_ms.is_some() {
        assert_eq!(store.get("a").unwrap(), Some(Value::from(1)));
        std::thread::sleep(Duration::from_millis(40));
        store.sync_mirror().unwrap();
    }
    assert_eq!(store.get("a").unwrap(), Some(Value::from(2)));
}

#[test]
fn temp_files_of_killed_writers_are_swept_and_fresh_ones_kept() {
    let t = TempDir::new();
    drop(open(t.path()));
    set(&open(t.path()), "a", 1);
    let stale = t.path().join(".config.json.psmc-tmp-999999-0badf00d");
    let fresh = t.path().join(".config.json.psmc-tmp-999998-0badf00e");
    fs::write(&stale, "{").unwrap();
    fs::write(&fresh, "{").unwrap();
    fs::File::options().write(true).open(&stale).unwrap().set_modified(SystemTime::now() - Duration::from_secs(120)).unwrap();
    let store = open(t.path());
    set(&store, "b", 2);
    assert!(!stale.exists(), "a temp file older than a minute is removed");
    assert!(fresh.exists(), "a live writer's temp file is left alone");
}

#[test]
fn the_mirror_can_be_switched_to_toml_or_turned_off() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    store.set_mirror_format("toml").unwrap();
    let toml = t.path().join("config.toml");
    assert_eq!(mirror::parse(MirrorFormat::Toml, &read(&toml)).unwrap().entries, vec![("a".to_string(), Value::from(1))]);
    store.set_mirror_format("off").unwrap();
    set(&store, "b", 2);
    store.flush_mirror().unwrap();
    assert!(!read(&toml).contains("b ="), "off: the file is left alone");
    assert_eq!(store.mirror_status().unwrap().unwrap().0.state, MirrorState::Off);
    assert_eq!(store.set_mirror_format("xml").unwrap_err().code(), "PSMC_USAGE");
}

#[test]
fn the_imports_folder_merges_good_files_and_rejects_bad_ones_with_a_reason() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    let dir = t.path().join("imports");
    fs::create_dir(&dir).unwrap();
    let old = |p: &Path| fs::File::options().write(true).open(p).unwrap().set_modified(SystemTime::now() - Duration::from_secs(5)).unwrap();
    fs::write(dir.join("plain.json"), "{\"b\": 2, \"c.d\": \"x\"}").unwrap();
    fs::write(dir.join("full.json"), "{\"format\":\"psmc-export\",\"version\":1,\"entries\":{\"e\":{\"value\":true}}}").unwrap();
    fs::write(dir.join("bad.json"), "{\"f\": 1,,}").unwrap();
    fs::write(dir.join("notes.txt"), "hello").unwrap();
    fs::write(dir.join(".hidden.json"), "{}").unwrap();
    fs::write(dir.join("new.json"), "{\"g\": 1}").unwrap(); // just written: left for later
    for n in ["plain.json", "full.json", "bad.json", "notes.txt", ".hidden.json"] {
        old(&dir.join(n));
    }
    let report = store.process_imports().unwrap();
    let done: Vec<&str> = report.done.iter().map(|d| d.file.as_str()).collect();
    let rejected: Vec<&str> = report.rejected.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(done, ["full.json", "plain.json"]);
    assert_eq!(rejected, ["bad.json", "notes.txt"]);
    assert!(report.skipped.iter().any(|s| s.file == "new.json" && s.reason.contains("still being written")));
    assert!(report.skipped.iter().any(|s| s.file == ".hidden.json"));
    assert_eq!(store.get("b").unwrap(), Some(Value::from(2)));
    assert_eq!(store.get("e").unwrap(), Some(Value::from(true)));
    assert_eq!(store.get("f").unwrap(), None, "a rejected file changes nothing");
    let h = store.history(Some("b"), HistoryOptions::default()).unwrap();
    assert_eq!(h[0].source, "import:plain.json");
    assert!(dir.join("done/plain.json").exists() && dir.join("rejected/bad.json").exists());
    let reason = read(&dir.join("rejected/bad.json.reason"));
    assert!(reason.contains("code: PSMC_PARSE") && reason.contains("line: 1") && reason.contains("hint: "), "{}", reason);
    // A second drop of the same name does not overwrite the first.
    fs::write(dir.join("plain.json"), "{\"b\": 3}").unwrap();
    old(&dir.join("plain.json"));
    store.process_imports().unwrap();
    assert!(dir.join("done/plain-1.json").exists());
    assert_eq!(store.get("b").unwrap(), Some(Value::from(3)));
    store.flush_mirror().unwrap();
    assert!(values(&t.file()).iter().any(|(k, v)| k == "b" && *v == Value::from(3)), "imports are exported to the mirror");
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_in_imports_is_never_followed() {
    let t = TempDir::new();
    let store = open(t.path());
    set(&store, "a", 1);
    let dir = t.path().join("imports");
    fs::create_dir(&dir).unwrap();
    let outside = t.path().join("outside.json");
    fs::write(&outside, "{\"secret\": 1}").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link.json")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let report = store.process_imports().unwrap();
    assert_eq!(report.rejected.len(), 1);
    assert!(report.rejected[0].message.contains("symbolic link"));
    assert_eq!(store.get("secret").unwrap(), None);
    assert!(outside.exists(), "the link's target is untouched");
}

#[test]
fn read_only_and_mirror_off_handles_leave_the_file_alone() {
    let t = TempDir::new();
    let off = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), mirror: Some(false), ..Default::default() }).unwrap();
    off.set("a", 1, SetOptions::default()).unwrap();
    assert!(!t.file().exists());
    let ro = Store::open(OpenOptions { dir: Some(t.path().to_path_buf()), env: Some(Default::default()), read_only: true, ..Default::default() }).unwrap();
    assert_eq!(ro.get("a").unwrap(), Some(Value::from(1)));
    assert!(!t.file().exists());
    // The first handle with the mirror on writes it at open.
    drop(open(t.path()));
    assert_eq!(values(&t.file()), vec![("a".into(), Value::from(1))]);
}

#[test]
fn toml_and_yaml_mirrors_import_hand_edits_and_keep_comments() {
    for (format, file, edit) in [("toml", "config.toml", ("\"a\" = 1", "\"a\" = 5 # mine")), ("yaml", "config.yaml", ("a: 1", "a: 5 # mine"))] {
        let t = TempDir::new();
        let store = open(t.path());
        set(&store, "a", 1);
        set(&store, "b", "x");
        store.set_mirror_format(format).unwrap();
        let path = t.path().join(file);
        let text = read(&path);
        assert!(text.contains(edit.0), "{}: {}", format, text);
        hand_edit(&path, &text.replace(edit.0, edit.1), 1000);
        let r = store.sync_mirror().unwrap();
        assert!(r.error.is_none(), "{}: {:?}", format, r.error);
        assert_eq!(store.get("a").unwrap(), Some(Value::from(5)), "{}", format);
        set(&store, "b", "y");
        store.flush_mirror().unwrap();
        let text = read(&path);
        assert!(text.contains("# mine") && text.contains("y"), "{}: {}", format, text);
        // An invalid edit in this format is refused with its line.
        let broken = format!("{}\n{}\n", text.trim_end(), if format == "toml" { "c = [1," } else { "c: [1," });
        hand_edit(&path, &broken, 500);
        let e = store.sync_mirror().unwrap().error.expect("refused");
        assert_eq!(e.code, "PSMC_PARSE", "{}", format);
        assert!(e.line.is_some(), "{}: {:?}", format, e);
        assert_eq!(read(&path), broken);
    }
}

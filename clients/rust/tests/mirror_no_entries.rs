//! A mirror file that parses as a document with no entries (spec/sections/mirror-sync.md
//! §mirror.detect): while the base (the values at mirror.revision) has a key it is waited on like
//! an empty file — an in-place save cut inside the header comment looks exactly like this — and
//! imported only once it has stayed unchanged for EMPTY_GRACE_MS. Over an empty base it imports at
//! once. Real files; the file's age is set by backdating its mtime.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use psmc::sync::engine::{EMPTY_GRACE_MS, SETTLE_MS};
use psmc::sync::MirrorState;
use psmc::{HistoryOptions, OpenOptions, SetOptions, Store, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-noentries-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Documents with no entries, per format: what a user writes to clear the store, or a cut save.
const NO_ENTRIES: &[(&str, &str)] = &[
    ("json", "{}\n"),
    ("json", "// cleared by hand\n{ }\n"),
    ("toml", "# only a comment\n"),
    ("toml", "\n# psmc mirror\n# another comment line\n"),
    ("yaml", "# only a comment\n"),
    ("yaml", "\n# psmc mirror\n\n# another comment line\n"),
];

fn open(dir: &Path) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), ..Default::default() }).unwrap()
}

fn backdate(file: &Path, ago_ms: i64) {
    let f = fs::File::options().write(true).open(file).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_millis(ago_ms as u64)).unwrap();
}

fn save(file: &Path, text: &str, ago_ms: i64) {
    fs::write(file, text).unwrap();
    backdate(file, ago_ms);
}

fn set(store: &Store, key: &str, v: impl Into<Value>) {
    store.set(key, v, SetOptions::default()).unwrap();
}

fn state(store: &Store) -> MirrorState {
    store.mirror_status().unwrap().unwrap().0.state
}

fn file_deletes(store: &Store, key: &str) -> usize {
    store.history(Some(key), HistoryOptions::default()).unwrap().iter().filter(|h| h.op == "delete" && h.source == "file").count()
}

fn keys(store: &Store) -> Vec<String> {
    store.all(None).unwrap().keys().cloned().collect()
}

#[test]
fn no_entries_over_a_base_with_keys_waits_for_the_grace_then_imports() {
    for (format, text) in NO_ENTRIES {
        let t = TempDir::new();
        let store = open(t.path());
        store.set_mirror_format(format).unwrap();
        set(&store, "a", 1);
        set(&store, "b.c", "two");
        store.flush_mirror().unwrap();
        let file = store.mirror_file().unwrap();
        save(&file, text, SETTLE_MS + 200);
        let early = store.sync_mirror().unwrap();
        assert!(early.error.is_none(), "{format} {text:?}: not an invalid edit: {early:?}");
        let retry = early.retry_in_ms.unwrap_or_else(|| panic!("{format} {text:?}: waited on like an empty file: {early:?}"));
        assert!(retry > 0 && retry <= EMPTY_GRACE_MS - SETTLE_MS - 200, "{format} {text:?}: {retry}");
        assert_eq!(keys(&store), vec!["a".to_string(), "b.c".to_string()], "{format} {text:?}: nothing imported");
        assert_eq!(state(&store), MirrorState::PendingImport, "{format} {text:?}");
        assert_eq!(fs::read_to_string(&file).unwrap(), *text, "{format}: the file is left as written");
        set(&store, "during", 1); // a write during the grace is kept, and survives the import
        backdate(&file, EMPTY_GRACE_MS + 500);
        let late = store.sync_mirror().unwrap();
        assert!(late.error.is_none() && late.retry_in_ms.is_none(), "{format} {text:?}: {late:?}");
        assert_eq!(keys(&store), vec!["during".to_string()], "{format} {text:?}: imported after the grace");
        assert_eq!(file_deletes(&store, "a"), 1, "{format} {text:?}");
        assert_eq!(file_deletes(&store, "b.c"), 1, "{format} {text:?}");
        assert_ne!(state(&store), MirrorState::InvalidEdit, "{format} {text:?}");
    }
}

#[test]
fn no_entries_over_an_empty_base_imports_at_once() {
    for format in ["json", "toml", "yaml"] {
        let text = NO_ENTRIES.iter().find(|(f, _)| *f == format).unwrap().1;
        let t = TempDir::new();
        let store = open(t.path());
        store.set_mirror_format(format).unwrap(); // creates the store, with an empty mirror file
        store.flush_mirror().unwrap();
        let file = store.mirror_file().unwrap();
        save(&file, text, SETTLE_MS + 200);
        let r = store.sync_mirror().unwrap();
        assert!(r.error.is_none() && r.retry_in_ms.is_none(), "{format}: no grace, the base has no key to lose: {r:?}");
        assert_eq!(state(&store), MirrorState::InSync, "{format}");
        assert_eq!(fs::read_to_string(&file).unwrap(), text, "{format}: kept as written");
        assert!(store.all(None).unwrap().is_empty());
    }
}

#[test]
fn no_entries_over_a_base_whose_keys_were_deleted_since_still_waits() {
    for format in ["json", "toml", "yaml"] {
        let text = NO_ENTRIES.iter().find(|(f, _)| *f == format).unwrap().1;
        let t = TempDir::new();
        let store = open(t.path());
        store.set_mirror_format(format).unwrap();
        set(&store, "a", 1);
        store.flush_mirror().unwrap();
        let file = store.mirror_file().unwrap();
        save(&file, text, SETTLE_MS + 200);
        store.delete("a", SetOptions::default()).unwrap();
        let r = store.sync_mirror().unwrap();
        assert!(r.retry_in_ms.is_some(), "{format}: the base is the last export, which had a key: {r:?}");
        backdate(&file, EMPTY_GRACE_MS + 500);
        let r = store.sync_mirror().unwrap();
        assert!(r.error.is_none() && r.retry_in_ms.is_none(), "{format}: {r:?}");
        assert_eq!(state(&store), MirrorState::InSync, "{format}");
        assert!(store.all(None).unwrap().is_empty());
        assert_eq!(file_deletes(&store, "a"), 0, "{format}: deleted by the program, not by the file");
    }
}

/// The hazard in docs/mirror.md, "Editors that write in place": the first write of an in-place
/// save ends inside the header comment and the writer stalls past SETTLE_MS.
#[test]
fn a_header_only_prefix_of_an_in_place_save_is_not_imported_before_the_grace() {
    for format in ["toml", "yaml"] {
        let t = TempDir::new();
        let store = open(t.path());
        store.set_mirror_format(format).unwrap();
        set(&store, "a", 1);
        set(&store, "b", "two");
        store.flush_mirror().unwrap();
        let file = store.mirror_file().unwrap();
        let from = if format == "toml" { "\"a\" = 1" } else { "a: 1" };
        let to = if format == "toml" { "\"a\" = 42" } else { "a: 42" };
        let full = fs::read_to_string(&file).unwrap().replacen(from, to, 1);
        let header_end = full.find('\n').unwrap() + 1;
        assert!(full.starts_with('#'), "{format}: {full}");
        let mut f = fs::File::create(&file).unwrap();
        f.write_all(&full.as_bytes()[..header_end / 2]).unwrap();
        f.sync_all().unwrap();
        f.set_modified(SystemTime::now() - Duration::from_millis(1000)).unwrap(); // stalled a second
        let r = store.sync_mirror().unwrap();
        assert!(r.error.is_none() && r.retry_in_ms.is_some(), "{format}: {r:?}");
        assert_eq!(keys(&store), vec!["a".to_string(), "b".to_string()], "{format}: nothing imported");
        f.write_all(&full.as_bytes()[header_end / 2..]).unwrap();
        drop(f);
        backdate(&file, 200);
        let r = store.sync_mirror().unwrap();
        assert!(r.error.is_none(), "{format}: {r:?}");
        assert_eq!(store.get("a").unwrap(), Some(Value::from(42)), "{format}");
        assert_eq!(store.get("b").unwrap(), Some(Value::from("two")), "{format}");
        assert_eq!(file_deletes(&store, "a") + file_deletes(&store, "b"), 0, "{format}");
    }
}

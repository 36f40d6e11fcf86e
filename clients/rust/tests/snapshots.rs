//! Snapshots of a Rust store on real files (spec/sections/snapshots.md): create (named and
//! generated), list, read, diff, delete, restore (one undoable revision, after a
//! `before-restore` snapshot), the automatic `before-import` (imports and hand edits of the
//! mirror) and `every-changes` snapshots with rotation, and files shared with the TypeScript CLI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use psmc::snapshot::{parse_snapshot, render_snapshot};
use psmc::store::snapshot_ops::CreateSnapshot;
use psmc::{ImportOptions, OpenOptions, SetOptions, Store, UndoOptions, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-snap-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
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

fn open(dir: &Path) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), env: Some(Default::default()), source: Some("test".into()), ..Default::default() }).unwrap()
}

fn set(s: &Store, k: &str, v: impl Into<Value>) {
    s.set(k, v, SetOptions::default()).unwrap();
}

fn named(name: &str) -> CreateSnapshot {
    CreateSnapshot { name: Some(name.into()), ..CreateSnapshot::default() }
}

#[test]
fn create_list_read_diff_and_delete() {
    let t = TempDir::new();
    let s = open(t.path());
    set(&s, "display.units", "metric");
    set(&s, "net.port", 8080);
    let info = s.create_snapshot(named("before-upgrade")).unwrap();
    assert_eq!((info.revision, info.keys, info.reason.as_str(), info.source.as_str()), (2, 2, "manual", "test"));
    let text = fs::read_to_string(&info.path).unwrap();
    let doc = parse_snapshot(&text, None, Some("before-upgrade")).unwrap();
    assert_eq!(render_snapshot(&doc), text, "the file holds the canonical bytes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&info.path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // A generated name; names are unique case-insensitively.
    let gen = s.create_snapshot(CreateSnapshot::default()).unwrap();
    assert!(gen.name.starts_with("snap-"), "{}", gen.name);
    assert_eq!(s.create_snapshot(named("Before-Upgrade")).unwrap_err().code(), "PSMC_USAGE");
    assert_eq!(s.create_snapshot(named("../x")).unwrap_err().code(), "PSMC_USAGE");
    assert_eq!(s.create_snapshot(named("before-upgrade")).unwrap_err().code(), "PSMC_USAGE");
    s.create_snapshot(CreateSnapshot { name: Some("before-upgrade".into()), overwrite: true, ..CreateSnapshot::default() }).unwrap();
    // Listing: newest first; a stray file is reported, not thrown.
    fs::write(s.snapshots_dir().join("bad name.json"), "{}").unwrap();
    let (list, problems) = s.list_snapshots().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(problems.len(), 1);
    // Read by any case; diff against the live store.
    assert_eq!(s.read_snapshot("BEFORE-upgrade").unwrap().name, "before-upgrade");
    set(&s, "net.port", 9090);
    s.delete("display.units", SetOptions::default()).unwrap();
    set(&s, "new", true);
    let d: Vec<(String, &str)> = s.diff_snapshots("before-upgrade", "current").unwrap().into_iter().map(|i| (i.key, i.change)).collect();
    assert_eq!(d, [("display.units".to_string(), "removed"), ("net.port".into(), "changed"), ("new".into(), "added")]);
    assert_eq!(s.delete_snapshot("before-upgrade").unwrap(), "before-upgrade");
    assert_eq!(s.read_snapshot("before-upgrade").unwrap_err().code(), "PSMC_NOT_FOUND");
}

#[test]
fn restore_is_one_undoable_revision_after_a_before_restore_snapshot() {
    let t = TempDir::new();
    let s = open(t.path());
    set(&s, "a", 1);
    set(&s, "b", 2);
    s.create_snapshot(named("good")).unwrap();
    set(&s, "a", 100);
    s.delete("b", SetOptions::default()).unwrap();
    set(&s, "c", 3);
    let before = s.revision().unwrap();
    let (name, commit, auto) = s.restore_snapshot("GOOD", None).unwrap();
    assert_eq!(name, "good");
    assert_eq!(commit.revision, before + 1, "one revision");
    assert!(commit.changes.iter().all(|c| c.source == "restore:good"));
    assert_eq!(auto.reason, "before-restore");
    assert_eq!(auto.revision, before);
    assert_eq!(s.all(None).unwrap().len(), 2);
    assert_eq!(s.get("a").unwrap(), Some(Value::from(1)));
    assert_eq!(s.get("c").unwrap(), None);
    s.undo(UndoOptions::default()).unwrap();
    assert_eq!(s.get("a").unwrap(), Some(Value::from(100)));
    assert_eq!(s.get("c").unwrap(), Some(Value::from(3)));
    // A snapshot the schema now refuses changes nothing (the automatic snapshot stays).
    s.set_schema(Some(&psmc::json::parse(r#"{"keys":{"a":{"type":"integer","minimum":50}}}"#).unwrap()), None).unwrap();
    let revision = s.revision().unwrap();
    assert_eq!(s.restore_snapshot("good", None).unwrap_err().code(), "PSMC_SCHEMA_VIOLATION");
    assert_eq!(s.revision().unwrap(), revision);
    assert_eq!(s.get("a").unwrap(), Some(Value::from(100)));
}

#[test]
fn imports_and_hand_edits_take_a_before_import_snapshot() {
    let t = TempDir::new();
    let s = open(t.path());
    set(&s, "a", 1);
    s.import_data(&psmc::json::parse(r#"{"b": 2}"#).unwrap(), ImportOptions::default()).unwrap();
    let (list, _) = s.list_snapshots().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].reason.as_str(), list[0].revision, list[0].keys), ("before-import", 1, 1));
    // A hand edit of the mirror: the store as it was is kept first, by source file.
    s.flush_mirror().unwrap();
    let file = t.path().join("config.json");
    let text = fs::read_to_string(&file).unwrap().replace("\"a\": 1", "\"a\": 5");
    fs::write(&file, text).unwrap();
    fs::File::options().write(true).open(&file).unwrap().set_modified(SystemTime::now() - Duration::from_secs(1)).unwrap();
    s.sync_mirror().unwrap();
    assert_eq!(s.get("a").unwrap(), Some(Value::from(5)));
    let (list, _) = s.list_snapshots().unwrap();
    let hand = list.iter().find(|i| i.revision == 2).expect("a before-import snapshot of revision 2");
    assert_eq!((hand.reason.as_str(), hand.source.as_str()), ("before-import", "file"));
    assert_eq!(s.read_snapshot(&hand.name).unwrap().values().get("a"), Some(&Value::from(1)));
}

#[test]
fn every_changes_snapshots_rotate_and_keep_manual_ones() {
    let t = TempDir::new();
    let s = open(t.path());
    set(&s, "x", 0);
    s.create_snapshot(named("mine")).unwrap();
    s.set_snapshot_settings(Some(2), Some(3)).unwrap();
    for i in 1..=12 {
        set(&s, "x", i);
    }
    let (list, _) = s.list_snapshots().unwrap();
    let auto: Vec<&str> = list.iter().filter(|i| i.reason == "every-changes").map(|i| i.name.as_str()).collect();
    assert_eq!(auto.len(), 2, "rotated to keep 2: {:?}", list);
    assert!(list.iter().any(|i| i.name == "mine"), "a manual snapshot is never rotated");
    assert!(auto.iter().all(|n| n.starts_with("auto-")), "{:?}", auto);
    assert_eq!(s.set_snapshot_settings(Some(0), None).unwrap_err().code(), "PSMC_USAGE");
}

fn ts_cli() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !root.join("dist/bundle/psmc.cjs").exists() {
        return Err("dist/bundle/psmc.cjs is missing: run `npm run build` at the repository root".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(root.join("bin/psmc.cjs")),
        _ => Err("node is not installed".into()),
    }
}

#[test]
fn snapshot_files_are_shared_with_the_typescript_cli() {
    let cli = match ts_cli() {
        Ok(c) => c,
        Err(why) => {
            // Reason: this cross-language test needs Node and the built TS CLI (CI builds it
            // before `cargo test`); without them it cannot run, and says so.
            eprintln!("SKIPPED snapshot_files_are_shared_with_the_typescript_cli: {}", why);
            return;
        }
    };
    let t = TempDir::new();
    let s = open(t.path());
    set(&s, "display.units", "metric");
    s.create_snapshot(named("from-rust")).unwrap();
    let ts = |args: &[&str]| {
        let o = Command::new("node").arg(&cli).arg("--store").arg(t.path()).args(args).output().unwrap();
        assert!(o.status.success(), "psmc {:?}: {}", args, String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = ts(&["snapshot", "show", "from-rust", "--json"]);
    assert!(shown.contains("\"display.units\""), "{}", shown);
    ts(&["set", "display.units", "imperial"]);
    ts(&["snapshot", "create", "from-ts"]);
    let doc = s.read_snapshot("from-ts").unwrap();
    assert_eq!(doc.values().get("display.units"), Some(&Value::from("imperial")));
    let text = fs::read_to_string(s.snapshots_dir().join("from-ts.json")).unwrap();
    assert_eq!(render_snapshot(&doc), text, "both languages write the same bytes");
    s.restore_snapshot("from-rust", None).unwrap();
    assert_eq!(ts(&["get", "display.units"]).trim(), "metric");
}

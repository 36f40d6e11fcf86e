//! Snapshots (spec/sections/snapshots.md; TypeScript: src/snapshot/): the file format, names
//! and diff (pure), and the files on disk ([`files`]). Taking, listing and restoring snapshots
//! of a store are [`crate::Store`] methods (src/store/snapshot_ops.rs).

pub mod diff;
pub mod files;
pub mod format;
pub mod names;

pub use diff::{diff_entries, diff_to_json, DiffItem};
pub use format::{build_snapshot, parse_snapshot, render_snapshot, SnapshotDocument, SnapshotEntry, SnapshotParts};
pub use names::{assert_snapshot_name, is_valid_snapshot_name, name_of_file, name_problem};

//! The mirror protocol (spec/sections/mirror-sync.md; DESIGN.md "The plaintext mirror
//! protocol"; TypeScript: src/mirror/mirror.ts, atomic.ts, imports.ts): keeps a store's
//! plaintext file (`config.json`, `.toml` or `.yaml`) true in both directions, and merges the
//! files dropped into `imports/`.
//!
//! - [`engine::MirrorSync`]: detect a hand edit (size and mtime, then the SHA-256 recorded in the
//!   database), import it with the 3-way merge ([`crate::merge`]), refuse an invalid edit
//!   without applying or overwriting it (recorded for `psmc status`), and export after commits
//!   with span edits that keep the user's comments and layout.
//! - [`atomic`]: temp file in the same directory, fsync, rename, fsync of the directory.
//! - [`imports`]: the `imports/` drop folder.
//!
//! Nothing here starts a thread or a timer: the [`crate::Store`] calls the engine on open,
//! before writes, after commits and (at most every 50 ms) on reads; the `psmcd` service polls.
//! The codecs themselves are [`crate::mirror`].

pub mod atomic;
pub mod engine;
pub mod file;
pub mod imports;
pub mod state;

pub use engine::{MirrorError, MirrorSetting, MirrorState, MirrorStatus, MirrorSync, SyncResult};
pub use imports::{process_imports, ImportsReport};

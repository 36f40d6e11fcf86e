//! `psmcd`, the Rust service (DESIGN.md "Cross-language contract"; docs/psmcd.md): a
//! long-running process that keeps the plaintext mirror and the `imports/` folder of one or
//! more stores in sync when no TypeScript process is there to do it, and publishes a
//! heartbeat key (`service.psmcd.<host>.heartbeat`) that the GUI shows live.
//!
//! - [`options`]: the command line and how a path names a store;
//! - [`heartbeat`]: the heartbeat key and value;
//! - [`log`]: one line per event on stderr, text or JSON;
//! - [`watch`]: the polling loop (one thread, no file watchers: a stat of the mirror and a
//!   look at `PRAGMA data_version` per store per interval) and the clean shutdown.

pub mod heartbeat;
pub mod log;
pub mod options;
pub mod watch;

pub use options::{resolve_store_dir, ServiceOptions};
pub use watch::{run, ExitStatus};

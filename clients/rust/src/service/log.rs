//! The log of `psmcd`: one line per event on stderr, as text
//! (`2026-11-26T06:10:00.000Z info  /srv/app/.psmc: imported 2 changes …`) or, with `--json`,
//! one JSON object per line (`{"time","level","store"?,"event","message",…}`).

use std::io::Write;

use crate::clock::{iso_time, system_ms};
use crate::json::{Object, Value};

/// How much is logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes events to stderr.
#[derive(Clone, Debug)]
pub struct Logger {
    pub json: bool,
    pub min: Level,
}

impl Logger {
    /// Logs one event; `fields` are extra members of the JSON line (and shown as `k=v` in text).
    pub fn log(&self, level: Level, store: Option<&str>, event: &str, message: &str, fields: &[(&str, Value)]) {
        if level < self.min {
            return;
        }
        let time = iso_time(system_ms());
        let line = if self.json {
            let mut o = Object::new();
            o.insert("time", Value::String(time));
            o.insert("level", Value::String(level.as_str().into()));
            if let Some(s) = store {
                o.insert("store", Value::String(s.into()));
            }
            o.insert("event", Value::String(event.into()));
            o.insert("message", Value::String(message.into()));
            for (k, v) in fields {
                o.insert(*k, v.clone());
            }
            Value::Object(o).to_json()
        } else {
            let mut s = format!("{} {:<5} ", time, level.as_str());
            if let Some(st) = store {
                s.push_str(st);
                s.push_str(": ");
            }
            s.push_str(message);
            s
        };
        // A closed stderr must not stop the service.
        let _ = writeln!(std::io::stderr().lock(), "{}", line);
    }

    pub fn info(&self, store: Option<&str>, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Info, store, event, message, fields);
    }
    pub fn warn(&self, store: Option<&str>, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Warn, store, event, message, fields);
    }
    pub fn error(&self, store: Option<&str>, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Error, store, event, message, fields);
    }
    pub fn debug(&self, store: Option<&str>, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Debug, store, event, message, fields);
    }
}

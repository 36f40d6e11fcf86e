//! The one error type of psmc (spec/SPEC.md §errors). Every failure a caller can act on is a
//! [`PsmcError`] with a stable code (the same strings in TypeScript, Python and Rust), a message
//! that says what went wrong and where, and a hint that says how to fix it. Each code maps to
//! exactly one CLI exit code and one HTTP status, in [`ErrorCode::exit_code`] and
//! [`ErrorCode::http_status`] and nowhere else.

use crate::json::{Object, Value};
use std::fmt;

macro_rules! codes {
    ($($variant:ident => $name:literal, $exit:literal, $http:literal;)*) => {
        /// Every error code psmc can produce.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            /// Every code, in the order of the §errors table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable string code, e.g. `PSMC_KEY_SYNTAX`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name),* }
            }
            /// The CLI exit code.
            pub fn exit_code(self) -> i32 {
                match self { $(ErrorCode::$variant => $exit),* }
            }
            /// The HTTP status.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $http),* }
            }
            /// The code named by `s`, or None for an unknown string.
            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $($name => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    Usage => "PSMC_USAGE", 2, 400;
    KeySyntax => "PSMC_KEY_SYNTAX", 5, 400;
    KeyReserved => "PSMC_KEY_RESERVED", 5, 400;
    ValueInvalid => "PSMC_VALUE_INVALID", 5, 400;
    ValueTooLarge => "PSMC_VALUE_TOO_LARGE", 5, 413;
    SchemaViolation => "PSMC_SCHEMA_VIOLATION", 5, 422;
    SchemaInvalid => "PSMC_SCHEMA_INVALID", 5, 400;
    EnvCoerce => "PSMC_ENV_COERCE", 5, 422;
    Parse => "PSMC_PARSE", 5, 400;
    Conflict => "PSMC_CONFLICT", 4, 412;
    NotFound => "PSMC_NOT_FOUND", 3, 404;
    NothingToUndo => "PSMC_NOTHING_TO_UNDO", 3, 409;
    StoreNotFound => "PSMC_STORE_NOT_FOUND", 3, 404;
    Busy => "PSMC_BUSY", 6, 503;
    Io => "PSMC_IO", 6, 500;
    Closed => "PSMC_CLOSED", 6, 500;
    ReadOnly => "PSMC_READ_ONLY", 6, 403;
    Unauthorized => "PSMC_UNAUTHORIZED", 6, 401;
    Forbidden => "PSMC_FORBIDDEN", 6, 403;
    UnsupportedMediaType => "PSMC_UNSUPPORTED_MEDIA_TYPE", 5, 415;
    FormatTooNew => "PSMC_FORMAT_TOO_NEW", 7, 500;
    Corrupt => "PSMC_CORRUPT", 7, 500;
    Internal => "PSMC_INTERNAL", 1, 500;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A psmc failure: code, message, hint and machine-readable details.
#[derive(Clone, Debug)]
pub struct PsmcError {
    code: ErrorCode,
    message: String,
    hint: String,
    details: Object,
}

pub type Result<T, E = PsmcError> = std::result::Result<T, E>;

impl PsmcError {
    pub fn new(code: ErrorCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        PsmcError { code, message: message.into(), hint: hint.into(), details: Object::new() }
    }

    /// Adds a detail (`key`, `path`, `currentRevision` …).
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.details.insert(name, value.into());
        self
    }

    pub fn with_details(mut self, details: Object) -> Self {
        self.details = details;
        self
    }

    /// The stable code string, e.g. `PSMC_CONFLICT`. Compare codes, never messages.
    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }
    pub fn error_code(&self) -> ErrorCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// How to fix it.
    pub fn hint(&self) -> &str {
        &self.hint
    }
    pub fn details(&self) -> &Object {
        &self.details
    }
    pub fn exit_code(&self) -> i32 {
        self.code.exit_code()
    }
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// `{"code","message","hint","details"}`, as the CLI's `--json` and HTTP bodies carry it.
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("code", self.code.as_str().into());
        o.insert("message", self.message.clone().into());
        o.insert("hint", self.hint.clone().into());
        o.insert("details", Value::Object(self.details.clone()));
        Value::Object(o)
    }

    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        PsmcError::new(ErrorCode::Usage, message, hint)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        PsmcError::new(
            ErrorCode::Internal,
            format!("Internal error: {}", message.into()),
            "This is a bug, please report it with the output of the same command run with --debug.",
        )
    }
}

impl fmt::Display for PsmcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for PsmcError {}

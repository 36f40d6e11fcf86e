//! The TOML codec (in progress: the Rust port lands in the next commits; until then every call
//! fails with PSMC_INTERNAL and the toml mfmt vectors stay listed in spec/expected-failures/rust.txt).

use super::common::Layout;
use crate::errors::{PsmcError, Result};
use crate::json::Value;

fn missing() -> PsmcError {
    PsmcError::internal("the TOML mirror codec is not implemented in the Rust client yet")
}

pub fn scan(_text: &str) -> Result<Layout> {
    Err(missing())
}

pub fn render(_list: &[(String, Value)]) -> Result<String> {
    Err(missing())
}

pub struct Editor;

impl super::common::Editor for Editor {
    fn scan(&self, text: &str) -> Result<Layout> {
        scan(text)
    }
    fn replace(&self, _: &str, _: &Layout, _: usize, _: &Value) -> Result<String> {
        Err(missing())
    }
    fn remove(&self, _: &str, _: &Layout, _: usize) -> Result<String> {
        Err(missing())
    }
    fn insert(&self, _: &str, _: &Layout, _: &str, _: &Value) -> Result<String> {
        Err(missing())
    }
}

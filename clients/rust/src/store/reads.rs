//! Reads through the layers (spec/SPEC.md §layers): `get`, `resolve`, `explain` and `list`
//! walk override, env, project, user, default and the caller's default, highest first.
//! Mirrors the read half of src/store/store.ts (the layer order is src/core/layers.ts).

use super::{Explanation, Layer, LayerCandidate, LayerError, Resolved, Store};
use crate::env::{coerce_env, env_name, is_reserved_env_name};
use crate::errors::{PsmcError, Result};
use crate::json::{quote_str, Object, Value};
use crate::keys::{assert_key, is_valid_key, key_has_prefix, normalize_prefix};
use crate::value::checked;
use std::sync::Arc;
use std::time::Instant;

use super::read_cache::CachedRow;

type EnvCandidate = (String, std::result::Result<Value, PsmcError>);

fn explain_reason(key: &str, layers: &[LayerCandidate]) -> String {
    let winner = match layers.iter().find(|c| c.present) {
        None => {
            return format!(
                "No layer has a value for {}: it is not set in any store, environment variable, override or default.",
                quote_str(key)
            )
        }
        Some(w) => w,
    };
    let beaten: Vec<&str> = layers.iter().filter(|c| c.present && c.layer != winner.layer).map(|c| c.layer.text()).collect();
    let beat = if beaten.is_empty() { String::new() } else { format!(", which outranks {}", beaten.join(" and ")) };
    format!("The value comes from {} ({}){}.", winner.layer.text(), winner.origin, beat)
}

impl Store {
    /// The env candidate for a (valid) key: None when its variable is unset or reserved.
    fn env_candidate(&self, key: &str) -> Result<Option<EnvCandidate>> {
        let prefix = match &self.env_prefix {
            None => return Ok(None),
            Some(p) => p,
        };
        let variable = env_name(prefix, key)?;
        if is_reserved_env_name(prefix, &variable) {
            return Ok(None);
        }
        let raw = match self.env_vars.get(&variable) {
            None => return Ok(None),
            Some(r) => r,
        };
        let schema = self.compiled_schema()?;
        let ks = schema.as_ref().and_then(|s| s.schema_for(key));
        Ok(Some((variable.clone(), coerce_env(raw, ks, &variable, key))))
    }

    /// The row of a (valid) key in slot `i`, through the slot's read cache.
    fn read_slot(&self, i: usize, key: &str, now: Instant) -> Result<Option<Arc<CachedRow>>> {
        match self.try_attach(i)? {
            None => Ok(None),
            Some(s) => self.slots[i].cache.read(s, key, self.freshness, now),
        }
    }

    /// The value of `key` from the highest layer that has it, or None.
    /// `PSMC_KEY_SYNTAX`/`PSMC_KEY_RESERVED` for an illegal key, `PSMC_ENV_COERCE` when the
    /// key's environment variable does not parse.
    pub fn get(&self, key: &str) -> Result<Option<Value>> {
        self.get_or(key, None)
    }

    /// Like [`Store::get`], with the caller's default (the lowest layer).
    pub fn get_or(&self, key: &str, default: Option<&Value>) -> Result<Option<Value>> {
        self.ensure_open()?;
        let now = Instant::now();
        self.mirror_on_read_at(now);
        if !self.overrides.is_empty() {
            if let Some(o) = self.overrides.get(key) {
                return Ok(Some(o.clone()));
            }
        }
        assert_key(key)?;
        if !self.env_vars.is_empty() {
            if let Some((_, r)) = self.env_candidate(key)? {
                return r.map(Some);
            }
        }
        for i in 0..self.slots.len() {
            if let Some(row) = self.read_slot(i, key, now)? {
                return Ok(Some(row.value.clone()));
            }
        }
        if let Some(d) = self.defaults.get(key) {
            return Ok(Some(d.clone()));
        }
        if let Some(s) = self.compiled_schema()? {
            if let Some(d) = s.default_for(key) {
                return Ok(Some(d.clone()));
            }
        }
        match default {
            None => Ok(None),
            Some(d) => checked(d.clone(), Some(key)).map(Some),
        }
    }

    /// Like get, plus where the value came from.
    pub fn resolve(&self, key: &str) -> Result<Resolved> {
        self.resolve_or(key, None)
    }

    /// Like [`Store::resolve`] with the caller's default. Walks the layers from the top and
    /// stops at the first that has a value, so a key set in the store costs one `SELECT`
    /// (the result equals `explain_or(key, default).resolved`, and a bad env value fails).
    pub fn resolve_or(&self, key: &str, default: Option<&Value>) -> Result<Resolved> {
        self.ensure_open()?;
        self.mirror_on_read();
        assert_key(key)?;
        // explain checks the caller's default whatever wins; so does this.
        let caller = match default {
            None => None,
            Some(d) => Some(checked(d.clone(), Some(key))?),
        };
        let found = |layer: Layer, value: Value, source: String| Resolved {
            key: key.to_string(),
            value: Some(value),
            found: true,
            layer: Some(layer),
            revision: 0,
            source: Some(source),
            updated_at: None,
        };
        if let Some(o) = self.overrides.get(key) {
            return Ok(found(Layer::Override, o.clone(), "process override".into()));
        }
        if let Some((variable, r)) = self.env_candidate(key)? {
            return r.map(|v| found(Layer::Env, v, format!("env:{}", variable)));
        }
        for i in 0..self.slots.len() {
            if let Some(row) = self.read_slot(i, key, Instant::now())? {
                return Ok(Resolved {
                    revision: row.revision,
                    updated_at: Some(row.updated_at.clone()),
                    ..found(self.slots[i].layer, row.value.clone(), row.source.clone())
                });
            }
        }
        if let Some(d) = self.defaults.get(key) {
            return Ok(found(Layer::Default, d.clone(), "shipped default".into()));
        }
        if let Some(sd) = self.compiled_schema()?.as_ref().and_then(|s| s.default_for(key).cloned()) {
            return Ok(found(Layer::Default, sd, "schema default".into()));
        }
        if let Some(c) = caller {
            return Ok(found(Layer::Caller, c, "caller's default".into()));
        }
        Ok(Resolved { key: key.to_string(), value: None, found: false, layer: None, revision: 0, source: None, updated_at: None })
    }

    /// Every layer's candidate for `key`, which one won, and why. A bad env value is
    /// reported as that layer's error, never thrown.
    pub fn explain(&self, key: &str) -> Result<Explanation> {
        self.explain_or(key, None)
    }

    pub fn explain_or(&self, key: &str, default: Option<&Value>) -> Result<Explanation> {
        self.ensure_open()?;
        self.mirror_on_read();
        assert_key(key)?;
        let mut layers: Vec<LayerCandidate> = Vec::with_capacity(6);
        layers.push(match self.overrides.get(key) {
            None => LayerCandidate::absent(Layer::Override, "process override"),
            Some(o) => LayerCandidate::present(Layer::Override, o.clone(), "process override"),
        });
        match &self.env_prefix {
            None => layers.push(LayerCandidate::absent(Layer::Env, "environment layer turned off")),
            Some(prefix) => {
                let variable = env_name(prefix, key)?;
                if is_reserved_env_name(prefix, &variable) {
                    layers.push(LayerCandidate::absent(Layer::Env, format!("{} (reserved by psmc, not read as a value)", variable)));
                } else {
                    match self.env_candidate(key)? {
                        None => layers.push(LayerCandidate::absent(Layer::Env, variable)),
                        Some((_, Err(e))) => {
                            let mut c = LayerCandidate::absent(Layer::Env, variable);
                            c.error = Some(LayerError { code: e.code().to_string(), message: e.message().to_string(), hint: e.hint().to_string() });
                            layers.push(c);
                        }
                        Some((_, Ok(v))) => {
                            let mut c = LayerCandidate::present(Layer::Env, v, variable.clone());
                            c.source = Some(format!("env:{}", variable));
                            layers.push(c);
                        }
                    }
                }
            }
        }
        for layer in [Layer::Project, Layer::User] {
            let i = match self.slots.iter().position(|s| s.layer == layer) {
                None => {
                    layers.push(LayerCandidate::absent(layer, if layer == Layer::Project { "no project store" } else { "no user store" }));
                    continue;
                }
                Some(i) => i,
            };
            let dir = self.slots[i].dir.display().to_string();
            match self.read_slot(i, key, Instant::now())? {
                None => layers.push(LayerCandidate::absent(layer, dir)),
                Some(row) => {
                    let mut c = LayerCandidate::present(layer, row.value.clone(), dir);
                    c.revision = Some(row.revision);
                    c.source = Some(row.source.clone());
                    c.updated_at = Some(row.updated_at.clone());
                    layers.push(c);
                }
            }
        }
        match self.defaults.get(key) {
            Some(d) => layers.push(LayerCandidate::present(Layer::Default, d.clone(), "shipped default")),
            None => match self.compiled_schema()?.as_ref().and_then(|s| s.default_for(key).cloned()) {
                Some(sd) => layers.push(LayerCandidate::present(Layer::Default, sd, "schema default")),
                None => layers.push(LayerCandidate::absent(Layer::Default, "no default")),
            },
        }
        match default {
            None => layers.push(LayerCandidate::absent(Layer::Caller, "no caller's default")),
            Some(d) => layers.push(LayerCandidate::present(Layer::Caller, checked(d.clone(), Some(key))?, "caller's default")),
        }

        // A bad env value fails the read unless an override (the only higher layer) wins.
        let override_wins = layers[0].present;
        let env_error = if override_wins { None } else { layers.iter().find(|l| l.layer == Layer::Env).and_then(|l| l.error.clone()) };
        let winner = if env_error.is_some() { None } else { layers.iter().find(|l| l.present) };
        let mut reason = explain_reason(key, &layers);
        if let Some(e) = &env_error {
            reason = format!("{} A read of this key fails until it is fixed. {}", e.message, e.hint);
        }
        let resolved = Resolved {
            key: key.to_string(),
            value: winner.and_then(|w| w.value.clone()),
            found: winner.is_some(),
            layer: winner.map(|w| w.layer).or(if env_error.is_some() { Some(Layer::Env) } else { None }),
            revision: winner.and_then(|w| w.revision).unwrap_or(0),
            source: winner.map(|w| w.source.clone().unwrap_or_else(|| w.origin.clone())),
            updated_at: winner.and_then(|w| w.updated_at.clone()),
        };
        Ok(Explanation { resolved, layers, reason })
    }

    /// The resolved value of every known key under `prefix` (all keys when None), by key.
    pub fn list(&self, prefix: Option<&str>) -> Result<Vec<Resolved>> {
        self.ensure_open()?;
        self.mirror_on_read();
        let p = normalize_prefix(prefix)?;
        let mut keys: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for k in self.override_keys.iter().chain(&self.default_keys) {
            if key_has_prefix(k, &p) {
                keys.insert(k.clone());
            }
        }
        if let Some(s) = self.compiled_schema()? {
            for k in s.keys() {
                if key_has_prefix(&k, &p) && is_valid_key(&k) {
                    keys.insert(k);
                }
            }
        }
        for i in 0..self.slots.len() {
            if let Some(st) = self.try_attach(i)? {
                for row in st.list_rows(&p)? {
                    keys.insert(row.key);
                }
            }
        }
        let mut out = Vec::new();
        for k in keys {
            let r = self.resolve(&k)?;
            if r.found {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// [`Store::list`] as an object of key → value.
    pub fn all(&self, prefix: Option<&str>) -> Result<Object> {
        let mut o = Object::new();
        for r in self.list(prefix)? {
            if let Some(v) = r.value {
                o.insert(r.key, v);
            }
        }
        Ok(o)
    }
}

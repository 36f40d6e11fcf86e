//! The JSON value and the object that keeps ECMAScript property order.

use std::collections::HashMap;

use super::write::write_value;

/// A JSON value. Numbers are doubles, as in every JavaScript engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Object),
}

/// A JSON object whose members are kept in ECMAScript property order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<(String, Value)>,
}

/// True when `name` is an ECMAScript array index: the canonical decimal form of 0 … 2^32−2.
pub fn is_array_index(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if b.len() > 1 && b[0] == b'0' {
        return false;
    }
    name.parse::<u64>().map(|n| n <= 4_294_967_294).unwrap_or(false)
}

fn index_value(name: &str) -> u64 {
    name.parse::<u64>().unwrap_or(0)
}

impl Object {
    pub fn new() -> Self {
        Object { members: Vec::new() }
    }

    /// Builds an object from members in the order a writer gave them: a repeated name keeps the
    /// last value at the position of the first, then array-index names move to the front.
    pub fn from_members(members: Vec<(String, Value)>) -> Self {
        let mut out: Vec<(String, Value)> = Vec::with_capacity(members.len());
        if members.len() <= 16 {
            for (k, v) in members {
                if let Some(slot) = out.iter_mut().find(|(n, _)| *n == k) {
                    slot.1 = v;
                } else {
                    out.push((k, v));
                }
            }
        } else {
            let mut seen: HashMap<String, usize> = HashMap::with_capacity(members.len());
            for (k, v) in members {
                if let Some(&i) = seen.get(&k) {
                    out[i].1 = v;
                } else {
                    seen.insert(k.clone(), out.len());
                    out.push((k, v));
                }
            }
        }
        if out.iter().any(|(k, _)| is_array_index(k)) {
            let (mut idx, rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|(k, _)| is_array_index(k));
            idx.sort_by_key(|(k, _)| index_value(k));
            idx.extend(rest);
            out = idx;
        }
        Object { members: out }
    }

    /// Sets a member: replaces the value in place when the name exists, else adds it where
    /// ECMAScript would (array-index names in numeric order before all others).
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        if let Some(slot) = self.members.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = value;
            return;
        }
        if is_array_index(&name) {
            let n = index_value(&name);
            let end = self.members.partition_point(|(k, _)| is_array_index(k));
            let pos = self.members[..end].partition_point(|(k, _)| index_value(k) < n);
            self.members.insert(pos, (name, value));
        } else {
            self.members.push((name, value));
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.members.iter().position(|(n, _)| n == name)?;
        Some(self.members.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.members.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Value)> {
        self.members.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.members.iter().map(|(k, _)| k)
    }

    pub fn into_members(self) -> Vec<(String, Value)> {
        self.members
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, Value)>, fn(&'a (String, Value)) -> (&'a String, &'a Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.iter().map(|(k, v)| (k, v))
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// A member of an object value (None for other values).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|o| o.get(name))
    }
    /// Compact JSON text exactly as `JSON.stringify(value)` writes it.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        write_value(&mut s, self, None, 0);
        s
    }
    /// Pretty JSON text as `JSON.stringify(value, null, 2)` writes it.
    pub fn to_json_pretty(&self) -> String {
        let mut s = String::new();
        write_value(&mut s, self, Some(2), 0);
        s
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(n as f64)
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::Object(o)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}

/// Builds an object value from `(name, value)` pairs: `obj([("a", 1.into())])`.
pub fn obj<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(members: I) -> Value {
    let mut o = Object::new();
    for (k, v) in members {
        o.insert(k, v);
    }
    Value::Object(o)
}

//! JSON values with ECMAScript semantics (spec/SPEC.md §value.encoding).
//!
//! psmc stores values as the exact bytes `JSON.stringify` writes, so this module re-implements
//! the parts of ECMAScript JSON that matter, instead of using serde_json:
//!
//! - numbers are IEEE-754 doubles, parsed with correct rounding (`1e400` parses to infinity,
//!   which the value rules then refuse, as in JavaScript), written in `Number::toString` form;
//! - objects keep ECMAScript property order: array-index names (`0` … `4294967294`) first in
//!   ascending numeric order, then every other name in insertion order;
//! - a member name given twice keeps the last value at the position of the first (`JSON.parse`);
//! - strings are escaped exactly like `JSON.stringify`;
//! - a lone UTF-16 surrogate escape (`"\uD800"`) cannot live in a Rust `String`: the parser
//!   reports it as [`ParseError::LoneSurrogate`] once the whole text has parsed, which callers
//!   map to `PSMC_VALUE_INVALID` (in JavaScript the text parses and the value rules refuse it).

use std::collections::HashMap;
use std::fmt::Write as _;

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

// ---------------------------------------------------------------------------
// Writing

/// ECMAScript `Number::toString(x)` for a finite double (`-0` gives `0`).
pub fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip (closest on ties), like
    // ECMAScript's Number::toString; only the layout differs.
    let (digits, exp) = shortest_digits(x.abs());
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n - 1 < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", (n - 1).abs());
    }
    out
}

/// The shortest decimal digits `d₁d₂…d_k` and exponent `e` with `0.d₁… × 10^(e+1)`, i.e.
/// `d₁.d₂… × 10^e`, that read back as `x` (> 0), chosen as ECMAScript Number::toString does:
/// the closest to `x`, and on an exact tie the even one. Rust's `{:e}` gives the shortest
/// closest digits but breaks exact ties upwards, so a tie is detected and resolved here.
fn shortest_digits(x: f64) -> (String, i32) {
    let sci = format!("{:e}", x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let last = digits.as_bytes()[digits.len() - 1] - b'0';
    if last % 2 == 1 {
        // A tie needs a neighbour in the last place (odd → even) that also reads back as x.
        for cand in [last.wrapping_sub(1), last + 1] {
            if cand == 0 || cand > 9 {
                continue; // a trailing 0 would be shorter; 10 would carry
            }
            let mut n = digits.clone();
            n.pop();
            n.push((b'0' + cand) as char);
            let text = format!("{}{}{}e{}", &n[..1], if n.len() > 1 { "." } else { "" }, &n[1..], exp);
            if text.parse::<f64>() != Ok(x) {
                continue;
            }
            let low = if cand < last { &n } else { &digits };
            if is_exact_midpoint(x, &format!("{}5", low), exp - digits.len() as i32) {
                return (n, exp);
            }
        }
    }
    (digits, exp)
}

/// True when `x` equals `mid × 10^q` exactly (`mid` a digit string).
fn is_exact_midpoint(x: f64, mid: &str, q: i32) -> bool {
    if q >= 0 {
        if x.fract() != 0.0 {
            return false;
        }
        let int = format!("{:.0}", x);
        return int.len() == mid.len() + q as usize && int.starts_with(mid) && int[mid.len()..].bytes().all(|b| b == b'0');
    }
    // x = f × 2^e: it has max(0, −e) fractional digits once f's trailing zeros are absorbed.
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let mut f = bits & ((1u64 << 52) - 1);
    let mut e = if biased == 0 { -1074 } else { f |= 1u64 << 52; biased - 1075 };
    if f == 0 {
        return false;
    }
    e += f.trailing_zeros() as i32;
    let frac = (-e).max(0) as usize;
    let need = (-q) as usize;
    if need > frac {
        return false;
    }
    // mid × 10^q as fixed text with `frac` fractional digits.
    let point = mid.len() as i32 + q;
    let (int_part, frac_part) = if point <= 0 {
        ("0".to_string(), format!("{}{}", "0".repeat((-point) as usize), mid))
    } else {
        (mid[..point as usize].to_string(), mid[point as usize..].to_string())
    };
    let expected = format!("{}.{}{}", int_part, frac_part, "0".repeat(frac - frac_part.len()));
    format!("{:.*}", frac, x) == expected
}

/// Appends `s` as a JSON string literal exactly as `JSON.stringify` escapes it.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x09 => Some("\\t"),
            0x0a => Some("\\n"),
            0x0c => Some("\\f"),
            0x0d => Some("\\r"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `s` as a JSON string literal.
pub fn quote_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n * level {
            out.push(' ');
        }
    }
}

fn write_value(out: &mut String, v: &Value, indent: Option<usize>, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if n.is_finite() {
                out.push_str(&format_number(*n))
            } else {
                out.push_str("null")
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(o) => {
            if o.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// Why text did not parse.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// Not JSON at all (JavaScript's `JSON.parse` throws a SyntaxError): byte offset and reason.
    Syntax { offset: usize, message: String },
    /// JSON, but it holds a lone surrogate escape, which no Rust string can hold. JavaScript
    /// parses it and the value rules refuse it (§value.limits 2). Where the first one is.
    LoneSurrogate(LoneAt),
    /// JSON nested deeper than this parser builds (far beyond the 64 the value rules allow).
    TooDeep,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax { offset, message } => write!(f, "{} at position {}", message, offset),
            ParseError::LoneSurrogate(at) => write!(
                f,
                "{} holds a lone UTF-16 surrogate (U+{:04X}) at index {}, which is not valid Unicode",
                if at.name { "a member name" } else { "a string" },
                at.unit,
                at.index
            ),
            ParseError::TooDeep => f.write_str("the JSON nests too deep"),
        }
    }
}

/// The first lone surrogate escape of a JSON text, as JavaScript's value rules report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoneAt {
    /// The surrogate's UTF-16 code unit (0xD800–0xDFFF).
    pub unit: u32,
    /// Its index in the string, in UTF-16 code units (as JavaScript counts).
    pub index: usize,
    /// The JSON Pointer of the string within the value (`""` for the value itself); a member
    /// name's is the path of its member.
    pub path: String,
    /// True when the string is a member name.
    pub name: bool,
}

/// How the parser treats a lone surrogate escape.
#[derive(Clone, Copy, Debug)]
pub enum LoneSurrogates {
    /// Parse the whole text, then fail with [`ParseError::LoneSurrogate`].
    Refuse,
    /// Write this character in its place (test runners use a marker character).
    Replace(char),
}

/// Deepest nesting the parser builds. The value rules refuse anything deeper than 64.
pub const MAX_PARSE_DEPTH: usize = 1000;

/// Parses JSON text like ECMAScript `JSON.parse` (lone surrogates refused, see [`ParseError`]).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    parse_with(text, LoneSurrogates::Refuse)
}

pub fn parse_with(text: &str, lone: LoneSurrogates) -> Result<Value, ParseError> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0, lone, saw_lone: false, pending: None, first: None };
    let v = p.parse_document()?;
    if p.saw_lone && matches!(lone, LoneSurrogates::Refuse) {
        let at = p.first.unwrap_or(LoneAt { unit: 0xFFFD, index: 0, path: String::new(), name: false });
        return Err(ParseError::LoneSurrogate(at));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    lone: LoneSurrogates,
    saw_lone: bool,
    /// The first lone surrogate (code unit, UTF-16 index, is a member name) until its path is known.
    pending: Option<(u32, usize, bool)>,
    first: Option<LoneAt>,
}

enum Frame {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>, String),
}

/// The JSON Pointer of the place the parser is at: each open array's next index, each open
/// object's current member name.
fn pointer(stack: &[Frame]) -> String {
    let mut out = String::new();
    for f in stack {
        out.push('/');
        match f {
            Frame::Array(items) => out.push_str(&items.len().to_string()),
            Frame::Object(_, name) => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
        }
    }
    out
}

impl<'a> Parser<'a> {
    /// Gives the first lone surrogate its path once the string holding it is placed on `stack`.
    fn settle(&mut self, stack: &[Frame]) {
        if let Some((unit, index, name)) = self.pending.take() {
            self.first = Some(LoneAt { unit, index, path: pointer(stack), name });
        }
    }

    fn err<T>(&self, message: &str) -> Result<T, ParseError> {
        Err(ParseError::Syntax { offset: self.i, message: message.to_string() })
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn parse_document(&mut self) -> Result<Value, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut too_deep = false;
        // Depth counted in containers beyond MAX_PARSE_DEPTH: checked for syntax, not built.
        let mut skipped: Vec<u8> = Vec::new();
        'value: loop {
            self.ws();
            let c = match self.s.get(self.i) {
                Some(&c) => c,
                None => return self.err("unexpected end of the input, expected a value"),
            };
            let mut v: Value;
            match c {
                b'[' | b'{' => {
                    self.i += 1;
                    if stack.len() >= MAX_PARSE_DEPTH || too_deep {
                        too_deep = true;
                        skipped.push(c);
                        self.ws();
                        let close = if c == b'[' { b']' } else { b'}' };
                        if self.s.get(self.i) == Some(&close) {
                            self.i += 1;
                            skipped.pop();
                            v = Value::Null;
                        } else {
                            if c == b'{' {
                                self.member_name()?;
                            }
                            continue 'value;
                        }
                    } else if c == b'[' {
                        self.ws();
                        if self.s.get(self.i) == Some(&b']') {
                            self.i += 1;
                            v = Value::Array(Vec::new());
                        } else {
                            stack.push(Frame::Array(Vec::new()));
                            continue 'value;
                        }
                    } else {
                        self.ws();
                        if self.s.get(self.i) == Some(&b'}') {
                            self.i += 1;
                            v = Value::Object(Object::new());
                        } else {
                            let name = self.member_name()?;
                            stack.push(Frame::Object(Vec::new(), name));
                            self.settle(&stack);
                            continue 'value;
                        }
                    }
                }
                b'"' => {
                    v = Value::String(self.string()?);
                    self.settle(&stack);
                }
                b't' => v = self.literal("true", Value::Bool(true))?,
                b'f' => v = self.literal("false", Value::Bool(false))?,
                b'n' => v = self.literal("null", Value::Null)?,
                b'-' | b'0'..=b'9' => v = Value::Number(self.number()?),
                _ => return self.err("unexpected character, expected a value"),
            }
            // Close containers as far as the text says.
            loop {
                self.ws();
                if let Some(&open) = skipped.last() {
                    let close = if open == b'[' { b']' } else { b'}' };
                    match self.s.get(self.i) {
                        Some(b',') => {
                            self.i += 1;
                            if open == b'{' {
                                self.ws();
                                self.member_name()?;
                            }
                            continue 'value;
                        }
                        Some(&c) if c == close => {
                            self.i += 1;
                            skipped.pop();
                            v = Value::Null;
                            continue;
                        }
                        _ => return self.err("expected ',' or a closing bracket"),
                    }
                }
                match stack.last_mut() {
                    None => {
                        self.ws();
                        if self.i < self.s.len() {
                            return self.err("unexpected text after the end of the JSON value");
                        }
                        if too_deep {
                            return Err(ParseError::TooDeep);
                        }
                        return Ok(v);
                    }
                    Some(Frame::Array(items)) => {
                        items.push(v);
                        match self.s.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                continue 'value;
                            }
                            Some(b']') => {
                                self.i += 1;
                                match stack.pop() {
                                    Some(Frame::Array(items)) => v = Value::Array(items),
                                    _ => unreachable!(),
                                }
                            }
                            _ => return self.err("expected ',' or ']' after an array element"),
                        }
                    }
                    Some(Frame::Object(members, name)) => {
                        members.push((std::mem::take(name), v));
                        match self.s.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                                let n = self.member_name()?;
                                if let Some(Frame::Object(_, name)) = stack.last_mut() {
                                    *name = n;
                                }
                                self.settle(&stack);
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.i += 1;
                                match stack.pop() {
                                    Some(Frame::Object(members, _)) => v = Value::Object(Object::from_members(members)),
                                    _ => unreachable!(),
                                }
                            }
                            _ => return self.err("expected ',' or '}' after a member"),
                        }
                    }
                }
            }
        }
    }

    /// `"name"` then `:` (whitespace around allowed).
    fn member_name(&mut self) -> Result<String, ParseError> {
        self.ws();
        if self.s.get(self.i) != Some(&b'"') {
            return self.err("expected a member name in double quotes");
        }
        let name = self.string()?;
        if let Some(p) = self.pending.as_mut() {
            p.2 = true;
        }
        self.ws();
        if self.s.get(self.i) != Some(&b':') {
            return self.err("expected ':' after the member name");
        }
        self.i += 1;
        Ok(name)
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("unexpected word (literals are true, false and null)")
        }
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        let start = self.i;
        let s = self.s;
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(s.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return self.err("invalid number");
            }
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err("invalid number (no digit after '.')");
            }
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err("invalid number (no digit in the exponent)");
            }
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.i = i;
        // Rust's float parsing is correctly rounded, like ECMAScript's; overflow gives ±inf.
        Ok(self.text[start..i].parse::<f64>().unwrap_or(f64::NAN))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.s.get(self.i..self.i + 4).ok_or(ParseError::Syntax {
            offset: self.i,
            message: "bad \\u escape in a string (it needs 4 hex digits)".into(),
        })?;
        let mut n = 0u32;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err("bad \\u escape in a string (it needs 4 hex digits)"),
            };
            n = n * 16 + d as u32;
        }
        self.i += 4;
        Ok(n)
    }

    fn lone(&mut self, out: &mut String, unit: u32) {
        if !self.saw_lone {
            self.pending = Some((unit, out.encode_utf16().count(), false));
        }
        self.saw_lone = true;
        out.push(match self.lone {
            LoneSurrogates::Refuse => '\u{FFFD}',
            LoneSurrogates::Replace(c) => c,
        });
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start_quote = self.i;
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            let c = match self.s.get(self.i) {
                Some(&c) => c,
                None => {
                    self.i = start_quote;
                    return self.err("unterminated string (a closing double quote is missing)");
                }
            };
            match c {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    let e = self.s.get(self.i).copied();
                    self.i += 1;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u) {
                                // A high surrogate: a low one must follow as another escape.
                                if self.s.get(self.i) == Some(&b'\\') && self.s.get(self.i + 1) == Some(&b'u') {
                                    let save = self.i;
                                    self.i += 2;
                                    let l = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&l) {
                                        let cp = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                    } else {
                                        self.lone(&mut out, u);
                                        self.i = save;
                                    }
                                } else {
                                    self.lone(&mut out, u);
                                }
                            } else if (0xDC00..0xE000).contains(&u) {
                                self.lone(&mut out, u);
                            } else {
                                out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return self.err("bad escape in a string");
                        }
                    }
                    run = self.i;
                }
                0x00..=0x1f => return self.err("control character inside a string (write it as an escape such as \\n)"),
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)]
    fn numbers() {
        for (x, s) in [
            (0.1, "0.1"),
            (2.5, "2.5"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (1.0, "1"),
            (-12.0, "-12"),
            (9007199254740991.0, "9007199254740991"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123.456, "123.456"),
            (-0.0, "0"),
            // Exact ties between two shortest candidates: ECMAScript takes the even one.
            (1658815243128337.25, "1658815243128337.2"),
            (184308692176867.125, "184308692176867.12"),
            (-681372685890580.25, "-681372685890580.2"),
        ] {
            assert_eq!(format_number(x), s);
        }
    }

    #[test]
    fn order_and_duplicates() {
        let v = parse(r#"{"b":1,"10":4,"1":2,"01":5,"b":7}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"1":2,"10":4,"b":7,"01":5}"#);
    }

    #[test]
    fn strings() {
        let v = parse(r#""a\u0001\u007f\u2028\"\\\/\b\f\n\r\t😀""#).unwrap();
        assert_eq!(v.to_json(), "\"a\\u0001\u{7f}\u{2028}\\\"\\\\/\\b\\f\\n\\r\\t😀\"");
        let at = |unit, index, path: &str, name| ParseError::LoneSurrogate(LoneAt { unit, index, path: path.into(), name });
        assert_eq!(parse(r#""\ud800""#), Err(at(0xD800, 0, "", false)));
        assert_eq!(parse(r#"[1,{"a~":["\ud800\u0041", "\udc00"]}]"#), Err(at(0xD800, 0, "/1/a~0/0", false)));
        assert_eq!(parse(r#"{"x":1,"y\udc00":2}"#), Err(at(0xDC00, 1, "/y\u{fffd}", true)));
        assert_eq!(parse(r#"{"x":"\u00e9\ud83d\ude00\ud83d"}"#), Err(at(0xD83D, 3, "/x", false)));
        assert!(matches!(parse(r#""\ud800"x"#), Err(ParseError::Syntax { .. })));
    }

    #[test]
    fn deep() {
        let t = "[".repeat(5000) + &"]".repeat(5000);
        assert_eq!(parse(&t), Err(ParseError::TooDeep));
        let t = "[".repeat(5000) + &"]".repeat(4999);
        assert!(matches!(parse(&t), Err(ParseError::Syntax { .. })));
        let t = "{\"a\":".repeat(3000) + "1" + &"}".repeat(3000);
        assert_eq!(parse(&t), Err(ParseError::TooDeep));
    }
}

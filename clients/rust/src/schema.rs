//! Key schemas (spec/sections/schema-env.md §schema.document … §schema.default). Pure: no I/O.
//!
//! A schema document declares, per key or key pattern (`sensors.*.max`), a JSON Schema in a
//! small subset that every language enforces identically. [`parse_schema_document`] checks a
//! document and returns its normalised copy (the text that is stored); [`CompiledSchema`]
//! compiles one check per entry and fails writes with `PSMC_SCHEMA_VIOLATION`.
//!
//! Patterns (`pattern`) are checked against the portable regex subset, then translated to the
//! `regex` crate's syntax so that matching is the JavaScript `u`-flag semantics the spec fixes:
//! `.` excludes only U+000A, U+000D, U+2028, U+2029; `\d \w \s` are explicit ASCII / listed
//! classes; `^`/`$` are whole-string anchors; every other literal is written as `\x{…}`.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, format_number, quote_str, Object, Value};
use crate::keys::{is_reserved_segment, is_valid_key, key_error, MAX_KEY_LENGTH, MAX_KEY_SEGMENTS};
use crate::value::{check_value, is_integer, pointer_segment, type_of, values_equal, ValueType};

/// Every keyword a key schema may hold, in the order validation checks them.
pub const SUPPORTED_KEYWORDS: &[&str] = &[
    "type",
    "const",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "required",
    "minProperties",
    "maxProperties",
    "properties",
    "additionalProperties",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "secret",
];

pub const MAX_REPEAT: u64 = 1000;
pub const MAX_GROUP_DEPTH: usize = 32;

// ---------------------------------------------------------------------------
// Messages

/// `s` as a JSON string, cut to 80 UTF-16 units with `…`.
pub fn quote(s: &str) -> String {
    quote_str(&cut_utf16(s, 80))
}

/// `s` cut to `n` UTF-16 units plus `…` when longer (as `s.slice(0, n) + '…'` in JavaScript).
pub fn cut_utf16(s: &str, n: usize) -> String {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let w = c.len_utf16();
        if units + w > n {
            // JavaScript would cut a surrogate pair in half here; keep whole characters only.
            return format!("{}…", &s[..i]);
        }
        units += w;
    }
    s.to_string()
}

fn invalid(path: &str, message: impl AsRef<str>, hint: impl Into<String>) -> PsmcError {
    PsmcError::new(
        ErrorCode::SchemaInvalid,
        format!("Schema error at {}: {}", if path.is_empty() { "/" } else { path }, message.as_ref()),
        hint,
    )
    .with("path", path)
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::String(s) => format!("the string {}", quote(s)),
        Value::Number(n) => format_number(*n),
        Value::Bool(b) => b.to_string(),
    }
}

fn a_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Integer => "an integer",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Array => "an array",
        ValueType::Object => "an object",
    }
}

fn or_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn render(v: &Value, redact: bool) -> String {
    if redact {
        return "(a secret value)".into();
    }
    let s = v.to_json();
    let units: usize = s.chars().map(char::len_utf16).sum();
    if units > 60 {
        cut_utf16(&s, 60)
    } else {
        s
    }
}

// ---------------------------------------------------------------------------
// Violations

/// What is wrong with a value, before it becomes an error.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Path segments inside the value, innermost first.
    pub rpath: Vec<String>,
    pub keyword: &'static str,
    /// E.g. `is 120, above the maximum 100`.
    pub problem: String,
    /// A noun phrase for the fix, e.g. `a number of at most 100`.
    pub expected: String,
}

impl Violation {
    fn new(keyword: &'static str, problem: String, expected: String) -> Self {
        Violation { rpath: Vec::new(), keyword, problem, expected }
    }

    /// The JSON pointer of the violation inside the value (`""` for the value itself).
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.rpath.iter().rev() {
            s.push('/');
            s.push_str(&pointer_segment(seg));
        }
        s
    }
}

/// The `PSMC_SCHEMA_VIOLATION` error for a violation of `key`'s schema.
pub fn violation_error(key: &str, v: &Violation) -> PsmcError {
    let path = v.path();
    let subject = if path.is_empty() {
        format!("The value of key {}", quote(key))
    } else {
        format!("The value at {} of key {}", path, quote(key))
    };
    PsmcError::new(ErrorCode::SchemaViolation, format!("{} {}.", subject, v.problem), format!("Use {}.", v.expected))
        .with("key", key)
        .with("path", path)
        .with("keyword", v.keyword)
}

// ---------------------------------------------------------------------------
// Numbers

/// Length in Unicode code points.
pub fn code_point_length(s: &str) -> usize {
    s.chars().count()
}

/// `|x|` as `m × 10^e` (m without trailing zeros) from its shortest round-trip decimal form.
fn decimal(x: f64) -> (u128, i64) {
    let s = format_number(x.abs());
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (s.clone(), 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((&mant, ""));
    let mut digits = format!("{}{}", int, frac);
    let mut e = exp - frac.len() as i64;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        e += 1;
    }
    (digits.parse::<u128>().unwrap_or(0), e)
}

fn pow10_mod(k: i64, m: u128) -> u128 {
    let mut r = 1 % m;
    for _ in 0..k {
        r = r * 10 % m;
    }
    r
}

/// True when `v` is an integer multiple of `d` (> 0), computed on exact decimals.
pub fn is_multiple_of(v: f64, d: f64) -> bool {
    if v == 0.0 {
        return true;
    }
    if is_integer(v) && is_integer(d) {
        return v % d == 0.0;
    }
    let (am, ae) = decimal(v);
    let (bm, be) = decimal(d);
    if am == 0 {
        return true;
    }
    if bm == 0 {
        return false;
    }
    if be > ae {
        // The divisor scales up: b.m × 10^(be−ae) must divide a.m (< 10^18).
        let k = be - ae;
        if k > 21 {
            return false;
        }
        let b = bm * 10u128.pow(k as u32);
        am % b == 0
    } else {
        // The value scales up: a.m × 10^(ae−be) mod b.m, with b.m < 10^18.
        (am % bm) * pow10_mod(ae - be, bm) % bm == 0
    }
}

// ---------------------------------------------------------------------------
// The portable regex subset (`pattern`)

const SYNTAX: &str = "^$\\.*+?()[]{}|/";
const CLASS_ESC: &str = "dDwWsS";

/// Checks that `p` lies in the portable regex subset; returns what is wrong, or None.
pub fn check_pattern_subset(p: &str) -> Option<String> {
    let cps: Vec<char> = p.chars().collect();
    let mut c = PatternChecker { cps: &cps, i: 0, depth: 0 };
    if let Err(problem) = c.alternatives() {
        return Some(problem);
    }
    if c.i < cps.len() {
        return Some(format!("\")\" at position {} has no matching \"(\"; escape it as \"\\)\"", c.i + 1));
    }
    None
}

struct PatternChecker<'a> {
    cps: &'a [char],
    i: usize,
    depth: usize,
}

impl PatternChecker<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.cps.get(i).copied()
    }
    fn pos(&self) -> String {
        format!("at position {}", self.i + 1)
    }

    fn escape_problem(c: Option<char>, in_class: bool) -> Option<String> {
        let c = match c {
            None => return Some("a pattern cannot end with a lone \"\\\"".into()),
            Some(c) => c,
        };
        if CLASS_ESC.contains(c) || SYNTAX.contains(c) || (in_class && c == '-') {
            return None;
        }
        Some(match c {
            '1'..='9' => format!("backreferences (\"\\{}\") are not supported", c),
            'k' => "named backreferences (\"\\k<…>\") are not supported".into(),
            'p' | 'P' => format!("unicode property escapes (\"\\{}{{…}}\") are not supported", c),
            'b' | 'B' => format!("word boundaries (\"\\{}\") are not supported", c),
            _ => format!("the escape \"\\{}\" is not supported (only \\d \\D \\w \\W \\s \\S and escaped syntax characters)", c),
        })
    }

    fn quantifier(&mut self) -> Result<(), String> {
        match self.at(self.i) {
            Some('*') | Some('+') | Some('?') => self.i += 1,
            Some('{') => {
                let start = self.i;
                self.i += 1;
                let mut n = String::new();
                while let Some(d) = self.at(self.i).filter(char::is_ascii_digit) {
                    n.push(d);
                    self.i += 1;
                }
                if n.is_empty() {
                    return Err(format!(
                        "\"{{\" at position {} does not start a quantifier {{n}}, {{n,}} or {{n,m}}; escape it as \"\\{{\"",
                        start + 1
                    ));
                }
                let mut m: Option<String> = Some(n.clone());
                if self.at(self.i) == Some(',') {
                    self.i += 1;
                    let mut mm = String::new();
                    while let Some(d) = self.at(self.i).filter(char::is_ascii_digit) {
                        mm.push(d);
                        self.i += 1;
                    }
                    m = if mm.is_empty() { None } else { Some(mm) };
                }
                if self.at(self.i) != Some('}') {
                    return Err(format!("the quantifier starting at position {} is not closed with \"}}\"", start + 1));
                }
                self.i += 1;
                let big = |s: &str| s.len() > 7 || s.parse::<u64>().unwrap_or(u64::MAX) > MAX_REPEAT;
                let nv: u64 = n.parse().unwrap_or(u64::MAX);
                if big(&n) || m.as_deref().is_some_and(big) {
                    return Err(format!("the quantifier at position {} exceeds {} repetitions", start + 1, MAX_REPEAT));
                }
                if let Some(mv) = m.as_deref().map(|s| s.parse::<u64>().unwrap_or(0)) {
                    if mv < nv {
                        return Err(format!("the quantifier at position {} has its bounds out of order", start + 1));
                    }
                }
            }
            _ => return Ok(()),
        }
        let prev = self.at(self.i - 1).unwrap_or(' ');
        match self.at(self.i) {
            Some('?') => Err(format!("lazy quantifiers (\"{}?\") are not supported ({})", prev, self.pos())),
            Some('+') => Err(format!("possessive quantifiers (\"{}+\") are not supported ({})", prev, self.pos())),
            Some('*') | Some('{') => Err(format!("a quantifier cannot follow another quantifier ({})", self.pos())),
            _ => Ok(()),
        }
    }

    /// One class atom; Some(code point) for a single character, None for a class escape.
    fn class_item(&mut self) -> Result<Option<char>, String> {
        match self.at(self.i) {
            None => Err("a \"[\" class is not closed with \"]\"".into()),
            Some('[') => Err(format!("\"[\" inside a class must be escaped as \"\\[\" ({})", self.pos())),
            Some('\\') => {
                let e = self.at(self.i + 1);
                if let Some(prob) = Self::escape_problem(e, true) {
                    return Err(format!("{} ({})", prob, self.pos()));
                }
                self.i += 2;
                let e = e.unwrap_or(' ');
                Ok(if CLASS_ESC.contains(e) { None } else { Some(e) })
            }
            Some(c) => {
                self.i += 1;
                Ok(Some(c))
            }
        }
    }

    fn class(&mut self) -> Result<(), String> {
        let open = self.i;
        self.i += 1;
        if self.at(self.i) == Some('^') {
            self.i += 1;
        }
        if self.at(self.i) == Some(']') {
            return Err(format!(
                "empty classes (\"[]\" or \"[^]\") are not supported (position {}); escape a literal \"]\" as \"\\]\"",
                open + 1
            ));
        }
        loop {
            let c = match self.at(self.i) {
                None => return Err(format!("the class opened at position {} is not closed with \"]\"", open + 1)),
                Some(c) => c,
            };
            if c == ']' {
                self.i += 1;
                return Ok(());
            }
            if let Some(n) = self.at(self.i + 1) {
                if n == c && matches!(c, '&' | '-' | '~' | '|') {
                    return Err(format!(
                        "\"{}{}\" inside a class means set operations in some engines; write the character once ({})",
                        c,
                        n,
                        self.pos()
                    ));
                }
            }
            let lo = self.class_item()?;
            if self.at(self.i) == Some('-') && self.at(self.i + 1) != Some(']') && self.at(self.i + 1).is_some() {
                let dash = self.i;
                self.i += 1;
                let hi = self.class_item()?;
                match (lo, hi) {
                    (Some(l), Some(h)) => {
                        if h < l {
                            return Err(format!("the range at position {} is out of order", dash));
                        }
                    }
                    _ => {
                        return Err(format!(
                            "a range cannot start or end with a class escape such as \\d (position {}); escape the \"-\" as \"\\-\"",
                            dash + 1
                        ))
                    }
                }
            }
        }
    }

    fn alternatives(&mut self) -> Result<(), String> {
        loop {
            loop {
                let c = match self.at(self.i) {
                    None | Some('|') | Some(')') => break,
                    Some(c) => c,
                };
                if c == '^' || c == '$' {
                    self.i += 1;
                    if matches!(self.at(self.i), Some('*') | Some('+') | Some('?') | Some('{')) {
                        return Err(format!("an anchor cannot be quantified ({})", self.pos()));
                    }
                    continue;
                }
                if c == '*' || c == '+' || c == '?' {
                    return Err(format!("\"{}\" at position {} has nothing to repeat; escape it as \"\\{}\"", c, self.i + 1, c));
                }
                if c == '{' {
                    return Err(format!("\"{{\" at position {} has nothing to repeat; escape it as \"\\{{\"", self.i + 1));
                }
                if c == '}' || c == ']' {
                    return Err(format!("\"{}\" at position {} must be escaped as \"\\{}\"", c, self.i + 1, c));
                }
                if c == '(' {
                    let open = self.i;
                    self.i += 1;
                    if self.at(self.i) == Some('?') {
                        if self.at(self.i + 1) == Some(':') {
                            self.i += 2;
                        } else {
                            let n = self.at(self.i + 1);
                            let what = match n {
                                Some('=') | Some('!') => "lookahead",
                                Some('<') if matches!(self.at(self.i + 2), Some('=') | Some('!')) => "lookbehind",
                                Some('<') | Some('P') => "named groups",
                                _ => "inline flags and other \"(?\" forms",
                            };
                            return Err(format!(
                                "{} (\"(?{}…\") {} not supported (position {}); use \"(\" or \"(?:\"",
                                what,
                                n.map(String::from).unwrap_or_default(),
                                if what.ends_with('s') { "are" } else { "is" },
                                open + 1
                            ));
                        }
                    }
                    self.depth += 1;
                    if self.depth > MAX_GROUP_DEPTH {
                        return Err(format!("groups nest deeper than {} levels", MAX_GROUP_DEPTH));
                    }
                    self.alternatives()?;
                    if self.at(self.i) != Some(')') {
                        return Err(format!("the group opened at position {} is not closed with \")\"", open + 1));
                    }
                    self.i += 1;
                    self.depth -= 1;
                } else if c == '[' {
                    self.class()?;
                } else if c == '\\' {
                    if let Some(prob) = Self::escape_problem(self.at(self.i + 1), false) {
                        return Err(format!("{} ({})", prob, self.pos()));
                    }
                    self.i += 2;
                } else {
                    self.i += 1;
                }
                self.quantifier()?;
            }
            if self.at(self.i) == Some('|') {
                self.i += 1;
                continue;
            }
            return Ok(());
        }
    }
}

const SPACE_CLASS: &str = "\\t-\\r\\x{20}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

fn class_escape(c: char) -> String {
    match c {
        'd' => "[0-9]".into(),
        'D' => "[^0-9]".into(),
        'w' => "[A-Za-z0-9_]".into(),
        'W' => "[^A-Za-z0-9_]".into(),
        's' => format!("[{}]", SPACE_CLASS),
        _ => format!("[^{}]", SPACE_CLASS),
    }
}

fn literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// Translates a pattern of the portable subset (already checked) into `regex` crate syntax.
pub fn translate_pattern(p: &str) -> String {
    let cps: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() * 2);
    let mut i = 0;
    while i < cps.len() {
        let c = cps[i];
        match c {
            '\\' => {
                let e = cps.get(i + 1).copied().unwrap_or('\\');
                if CLASS_ESC.contains(e) {
                    out.push_str(&class_escape(e));
                } else {
                    literal(&mut out, e);
                }
                i += 2;
            }
            '.' => {
                out.push_str("[^\\n\\r\\x{2028}\\x{2029}]");
                i += 1;
            }
            '^' | '$' | '|' | ')' | '*' | '+' | '?' => {
                out.push(c);
                i += 1;
            }
            '(' => {
                if cps.get(i + 1) == Some(&'?') {
                    out.push_str("(?:");
                    i += 3;
                } else {
                    out.push_str("(?:");
                    i += 1;
                }
            }
            '{' => {
                // A quantifier (the subset refuses a bare "{"): copy up to "}".
                while i < cps.len() {
                    out.push(cps[i]);
                    i += 1;
                    if cps[i - 1] == '}' {
                        break;
                    }
                }
            }
            '[' => {
                out.push('[');
                i += 1;
                if cps.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                while i < cps.len() && cps[i] != ']' {
                    let item = |i: &mut usize, out: &mut String| {
                        if cps[*i] == '\\' {
                            let e = cps.get(*i + 1).copied().unwrap_or('\\');
                            if CLASS_ESC.contains(e) {
                                out.push_str(&class_escape(e));
                            } else {
                                literal(out, e);
                            }
                            *i += 2;
                        } else {
                            literal(out, cps[*i]);
                            *i += 1;
                        }
                    };
                    item(&mut i, &mut out);
                    if cps.get(i) == Some(&'-') && cps.get(i + 1).is_some_and(|n| *n != ']') {
                        out.push('-');
                        i += 1;
                        item(&mut i, &mut out);
                    }
                }
                out.push(']');
                i += 1;
            }
            _ => {
                literal(&mut out, c);
                i += 1;
            }
        }
    }
    out
}

fn compile_pattern(p: &str) -> std::result::Result<Regex, String> {
    regex::RegexBuilder::new(&translate_pattern(p))
        .size_limit(64 << 20)
        .dfa_size_limit(8 << 20)
        .build()
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// Key patterns (§schema.keys)

#[derive(Clone, Debug)]
struct KeyPattern {
    pattern: String,
    segments: Vec<String>,
    stars: Vec<usize>,
    entry: usize,
}

/// Checks one name of `keys`: Ok(None) for an exact key, Ok(Some((segments, stars))) for a
/// pattern, `PSMC_SCHEMA_INVALID` at `path` otherwise.
fn parse_key_name(name: &str, path: &str) -> Result<Option<(Vec<String>, Vec<usize>)>> {
    if !name.contains('*') {
        if !is_valid_key(name) {
            let e = key_error(name);
            return Err(invalid(path, format!("the key {} is not a legal key: {}", quote(name), e.message()), e.hint()));
        }
        return Ok(None);
    }
    let segments: Vec<String> = name.split('.').map(String::from).collect();
    let mut stars = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if s == "*" {
            stars.push(i);
        } else if s.contains('*') {
            return Err(invalid(
                path,
                format!("in the key pattern {}, \"*\" must be a whole segment (found {}).", quote(name), quote(s)),
                "Write e.g. sensors.*.max; a \"*\" matches exactly one segment.",
            ));
        } else if is_reserved_segment(s) {
            return Err(invalid(path, format!("the key pattern {} uses the reserved segment {}.", quote(name), quote(s)), "Rename the segment."));
        }
    }
    let probe: Vec<&str> = segments.iter().map(|s| if s == "*" { "x" } else { s.as_str() }).collect();
    let probe = probe.join(".");
    if !is_valid_key(&probe) {
        let e = key_error(&probe);
        let why = if segments.len() > MAX_KEY_SEGMENTS || name.chars().map(char::len_utf16).sum::<usize>() > MAX_KEY_LENGTH {
            e.message().to_string()
        } else {
            "a segment is empty or not letters and digits joined by single \"_\" or \"-\".".to_string()
        };
        return Err(invalid(
            path,
            format!("the key pattern {} is not legal: {}", quote(name), why),
            "A pattern is a legal key in which some whole segments are \"*\".",
        ));
    }
    Ok(Some((segments, stars)))
}

fn compare_patterns(a: &KeyPattern, b: &KeyPattern) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if a.stars.len() != b.stars.len() {
        return a.stars.len().cmp(&b.stars.len());
    }
    for i in 0..a.stars.len() {
        match b.stars[i].cmp(&a.stars[i]) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    a.pattern.cmp(&b.pattern)
}

// ---------------------------------------------------------------------------
// Key schemas

#[derive(Clone, Debug)]
enum Additional {
    Allowed,
    Refused,
    Schema(Box<KeySchema>),
}

/// One parsed, compiled key schema (or a part of one: `items`, `properties`).
#[derive(Clone, Debug)]
pub struct KeySchema {
    types: Option<Vec<ValueType>>,
    const_: Option<Value>,
    enum_: Option<Vec<Value>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: Option<f64>,
    exclusive_maximum: Option<f64>,
    multiple_of: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<(String, Regex)>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    items: Option<Box<KeySchema>>,
    required: Vec<String>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    properties: Option<Vec<(String, KeySchema)>>,
    property_index: HashMap<String, usize>,
    additional: Additional,
    default: Option<Value>,
    secret: bool,
    /// The normalised JSON of this schema (what is stored).
    json: Value,
}

impl KeySchema {
    /// The type names listed by `type`, if any.
    pub fn types(&self) -> Option<&[ValueType]> {
        self.types.as_deref()
    }
    pub fn is_secret(&self) -> bool {
        self.secret
    }
    pub fn has_enum_or_const(&self) -> bool {
        self.enum_.is_some() || self.const_.is_some()
    }
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }
    pub fn to_json(&self) -> &Value {
        &self.json
    }

    /// The first violation of this schema by `v`, or None. Values of secret keys are not echoed.
    pub fn check(&self, v: &Value) -> Option<Violation> {
        self.check_with(v, self.secret)
    }

    fn check_with(&self, v: &Value, redact: bool) -> Option<Violation> {
        let r = |x: &Value| render(x, redact);
        if let Some(types) = &self.types {
            let ok = types.iter().any(|t| matches_type(*t, v));
            if !ok {
                let expected = or_list(&types.iter().map(|t| a_type(*t).to_string()).collect::<Vec<_>>());
                return Some(Violation::new("type", format!("is {} ({}), not {}", r(v), a_type(type_of(v)), expected), expected));
            }
        }
        if let Some(c) = &self.const_ {
            if !values_equal(v, c) {
                return Some(Violation::new(
                    "const",
                    format!("is {}, not the required value {}", r(v), render(c, false)),
                    format!("exactly {}", render(c, false)),
                ));
            }
        }
        if let Some(e) = &self.enum_ {
            if !e.iter().any(|x| values_equal(v, x)) {
                let shown: Vec<String> = e.iter().take(20).map(|x| render(x, false)).collect();
                let more = if e.len() > 20 { format!(" (and {} more)", e.len() - 20) } else { String::new() };
                return Some(Violation::new("enum", format!("is {}, not one of the allowed values", r(v)), format!("one of {}{}", shown.join(", "), more)));
            }
        }
        if let Value::Number(n) = v {
            let n = *n;
            type NumberCheck = (&'static str, Option<f64>, fn(f64, f64) -> bool, &'static str, &'static str);
            let checks: [NumberCheck; 5] = [
                ("minimum", self.minimum, |v, b| v >= b, "below the minimum", "a number of at least"),
                ("maximum", self.maximum, |v, b| v <= b, "above the maximum", "a number of at most"),
                ("exclusiveMinimum", self.exclusive_minimum, |v, b| v > b, "not above the exclusive minimum", "a number greater than"),
                ("exclusiveMaximum", self.exclusive_maximum, |v, b| v < b, "not below the exclusive maximum", "a number less than"),
                ("multipleOf", self.multiple_of, is_multiple_of, "not a multiple of", "a multiple of"),
            ];
            for (kw, bound, ok, problem, expected) in checks {
                if let Some(b) = bound {
                    if !ok(n, b) {
                        return Some(Violation::new(kw, format!("is {}, {} {}", r(v), problem, format_number(b)), format!("{} {}", expected, format_number(b))));
                    }
                }
            }
        }
        if let Value::String(s) = v {
            if let Some(min) = self.min_length {
                let n = code_point_length(s) as u64;
                if n < min {
                    return Some(Violation::new(
                        "minLength",
                        format!("is {}, {} characters long, shorter than the minimum length {}", r(v), n, min),
                        format!("a string of at least {} characters", min),
                    ));
                }
            }
            if let Some(max) = self.max_length {
                let n = code_point_length(s) as u64;
                if n > max {
                    return Some(Violation::new(
                        "maxLength",
                        format!("is {}, {} characters long, longer than the maximum length {}", r(v), n, max),
                        format!("a string of at most {} characters", max),
                    ));
                }
            }
            if let Some((src, re)) = &self.pattern {
                if !re.is_match(s) {
                    return Some(Violation::new(
                        "pattern",
                        format!("is {}, which does not match the pattern {}", r(v), src),
                        format!("a string matching the pattern {}", src),
                    ));
                }
            }
        }
        if let Value::Array(items) = v {
            if let Some(min) = self.min_items {
                if (items.len() as u64) < min {
                    return Some(Violation::new(
                        "minItems",
                        format!("is an array of {} items, fewer than the minimum {}", items.len(), min),
                        format!("an array of at least {} items", min),
                    ));
                }
            }
            if let Some(max) = self.max_items {
                if (items.len() as u64) > max {
                    return Some(Violation::new(
                        "maxItems",
                        format!("is an array of {} items, more than the maximum {}", items.len(), max),
                        format!("an array of at most {} items", max),
                    ));
                }
            }
            if self.unique_items && items.len() >= 2 {
                let mut seen: HashMap<String, usize> = HashMap::new();
                let mut complex: Vec<usize> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let dup = match primitive_key(item) {
                        Some(k) => match seen.get(&k) {
                            Some(&j) => Some(j),
                            None => {
                                seen.insert(k, i);
                                None
                            }
                        },
                        None => match complex.iter().copied().find(|&j| values_equal(&items[j], item)) {
                            Some(j) => Some(j),
                            None => {
                                complex.push(i);
                                None
                            }
                        },
                    };
                    if let Some(j) = dup {
                        let mut f = Violation::new("uniqueItems", format!("repeats item {} ({})", j, r(item)), "an array without duplicate items".into());
                        f.rpath.push(i.to_string());
                        return Some(f);
                    }
                }
            }
            if let Some(item_schema) = &self.items {
                for (i, item) in items.iter().enumerate() {
                    if let Some(mut f) = item_schema.check_with(item, redact) {
                        f.rpath.push(i.to_string());
                        return Some(f);
                    }
                }
            }
        }
        if let Value::Object(o) = v {
            for m in &self.required {
                if !o.contains_key(m) {
                    return Some(Violation::new(
                        "required",
                        format!("has no member {}, which is required", quote(m)),
                        format!("an object with the member {}", quote(m)),
                    ));
                }
            }
            if let Some(min) = self.min_properties {
                if (o.len() as u64) < min {
                    return Some(Violation::new(
                        "minProperties",
                        format!("has {} members, fewer than the minimum {}", o.len(), min),
                        format!("an object with at least {} members", min),
                    ));
                }
            }
            if let Some(max) = self.max_properties {
                if (o.len() as u64) > max {
                    return Some(Violation::new(
                        "maxProperties",
                        format!("has {} members, more than the maximum {}", o.len(), max),
                        format!("an object with at most {} members", max),
                    ));
                }
            }
            if self.properties.is_some() || !matches!(self.additional, Additional::Allowed) {
                for (m, item) in o.iter() {
                    let f = if let Some(&pi) = self.property_index.get(m.as_str()) {
                        self.properties.as_ref().and_then(|p| p[pi].1.check_with(item, redact))
                    } else {
                        match &self.additional {
                            Additional::Allowed => None,
                            Additional::Refused => {
                                let allowed: Vec<String> = self.properties.iter().flatten().map(|(n, _)| quote(n)).collect();
                                let only = if allowed.is_empty() {
                                    "an object with no members".to_string()
                                } else {
                                    format!("an object with only the members {}", or_list(&allowed))
                                };
                                Some(Violation::new("additionalProperties", "is not an allowed member".into(), only))
                            }
                            Additional::Schema(s) => s.check_with(item, redact),
                        }
                    };
                    if let Some(mut f) = f {
                        f.rpath.push(m.clone());
                        return Some(f);
                    }
                }
            }
        }
        None
    }
}

fn matches_type(t: ValueType, v: &Value) -> bool {
    match t {
        ValueType::Null => v.is_null(),
        ValueType::Boolean => matches!(v, Value::Bool(_)),
        ValueType::Integer => matches!(v, Value::Number(n) if is_integer(*n)),
        ValueType::Number => matches!(v, Value::Number(_)),
        ValueType::String => matches!(v, Value::String(_)),
        ValueType::Array => matches!(v, Value::Array(_)),
        ValueType::Object => matches!(v, Value::Object(_)),
    }
}

fn primitive_key(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("n".into()),
        Value::Bool(b) => Some(if *b { "t".into() } else { "f".into() }),
        Value::Number(n) => Some(format!("d{}", format_number(*n))),
        Value::String(s) => Some(format!("s{}", s)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Parsing a document

const SUPPORTED_HINT_PREFIX: &str = "Supported keywords: ";

fn supported_hint() -> String {
    format!("{}{}.", SUPPORTED_HINT_PREFIX, SUPPORTED_KEYWORDS.join(", "))
}

fn json_value_at(v: &Value, path: &str) -> Result<Value> {
    let mut c = v.clone();
    match check_value(&mut c, None) {
        Ok(()) => Ok(c),
        Err(e) => {
            let inner = e.details().get("path").and_then(Value::as_str).unwrap_or("").to_string();
            Err(invalid(&format!("{}{}", path, inner), format!("not a valid psmc value: {}", e.message()), e.hint()))
        }
    }
}

fn expect_number(v: &Value, path: &str, kw: &str) -> Result<f64> {
    match v {
        Value::Number(n) if n.is_finite() => Ok(if *n == 0.0 { 0.0 } else { *n }),
        _ => Err(invalid(path, format!("\"{}\" must be a finite number, not {}.", kw, describe(v)), format!("Write e.g. \"{}\": 0.", kw))),
    }
}

fn expect_count(v: &Value, path: &str, kw: &str) -> Result<u64> {
    match v {
        Value::Number(n) if crate::value::is_safe_integer(*n) && *n >= 0.0 => Ok(*n as u64),
        _ => Err(invalid(path, format!("\"{}\" must be a non-negative integer, not {}.", kw, describe(v)), format!("Write e.g. \"{}\": 1.", kw))),
    }
}

fn expect_bool(v: &Value, path: &str, kw: &str) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(invalid(
            path,
            format!("\"{}\" must be true or false, not {}.", kw, describe(v)),
            format!("Write \"{}\": true or \"{}\": false.", kw, kw),
        )),
    }
}

fn expect_string<'a>(v: &'a Value, path: &str, kw: &str) -> Result<&'a str> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(invalid(path, format!("\"{}\" must be a string, not {}.", kw, describe(v)), format!("Write \"{}\" as a JSON string.", kw))),
    }
}

fn check_member_name(name: &str, path: &str) -> Result<()> {
    if name == "__proto__" {
        return Err(invalid(path, "the member name \"__proto__\" is refused anywhere in a schema.", "Rename or remove the \"__proto__\" member."));
    }
    Ok(())
}

fn parse_type(v: &Value, path: &str) -> Result<(Vec<ValueType>, Value)> {
    let hint = format!(
        "Use one of {}, or a non-empty array of them.",
        ValueType::ALL.iter().map(|t| format!("\"{}\"", t.as_str())).collect::<Vec<_>>().join(", ")
    );
    let one = |t: &Value, p: &str| -> Result<ValueType> {
        t.as_str().and_then(ValueType::parse).ok_or_else(|| invalid(p, format!("{} is not a type name.", describe(t)), hint.clone()))
    };
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(invalid(path, "\"type\" is an empty array.", hint.clone()));
            }
            let mut out: Vec<ValueType> = Vec::new();
            for (i, t) in items.iter().enumerate() {
                let p = format!("{}/{}", path, i);
                let n = one(t, &p)?;
                if out.contains(&n) {
                    return Err(invalid(&p, format!("the type \"{}\" is listed twice.", n.as_str()), "List each type once."));
                }
                out.push(n);
            }
            let json = Value::Array(out.iter().map(|t| Value::String(t.as_str().into())).collect());
            Ok((out, json))
        }
        _ => {
            let t = one(v, path)?;
            Ok((vec![t], Value::String(t.as_str().into())))
        }
    }
}

fn parse_node(raw: &Value, path: &str) -> Result<KeySchema> {
    let members = match raw {
        Value::Object(o) => o,
        _ => {
            return Err(invalid(
                path,
                format!("a schema must be a JSON object, not {}.", describe(raw)),
                "Write a schema such as {\"type\": \"string\"}; boolean schemas are not supported.",
            ))
        }
    };
    let mut s = KeySchema {
        types: None,
        const_: None,
        enum_: None,
        minimum: None,
        maximum: None,
        exclusive_minimum: None,
        exclusive_maximum: None,
        multiple_of: None,
        min_length: None,
        max_length: None,
        pattern: None,
        min_items: None,
        max_items: None,
        unique_items: false,
        items: None,
        required: Vec::new(),
        min_properties: None,
        max_properties: None,
        properties: None,
        property_index: HashMap::new(),
        additional: Additional::Allowed,
        default: None,
        secret: false,
        json: Value::Null,
    };
    let mut out = Object::new();
    for (kw, v) in members.iter() {
        let p = format!("{}/{}", path, pointer_segment(kw));
        check_member_name(kw, &p)?;
        if !SUPPORTED_KEYWORDS.contains(&kw.as_str()) {
            return Err(invalid(&p, format!("the keyword {} is not supported.", quote(kw)), supported_hint()));
        }
        let parsed: Value = match kw.as_str() {
            "type" => {
                let (t, j) = parse_type(v, &p)?;
                s.types = Some(t);
                j
            }
            "enum" => {
                let items = match v {
                    Value::Array(a) if !a.is_empty() => a,
                    _ => {
                        return Err(invalid(
                            &p,
                            format!("\"enum\" must be a non-empty array, not {}.", describe(v)),
                            "Write e.g. \"enum\": [\"metric\", \"imperial\"].",
                        ))
                    }
                };
                let mut vals = Vec::with_capacity(items.len());
                for (i, x) in items.iter().enumerate() {
                    vals.push(json_value_at(x, &format!("{}/{}", p, i))?);
                }
                s.enum_ = Some(vals.clone());
                Value::Array(vals)
            }
            "const" => {
                let c = json_value_at(v, &p)?;
                s.const_ = Some(c.clone());
                c
            }
            "default" => {
                let c = json_value_at(v, &p)?;
                s.default = Some(c.clone());
                c
            }
            "examples" => {
                let items = match v {
                    Value::Array(a) => a,
                    _ => return Err(invalid(&p, format!("\"examples\" must be an array, not {}.", describe(v)), "Write e.g. \"examples\": [\"metric\"].")),
                };
                let mut vals = Vec::with_capacity(items.len());
                for (i, x) in items.iter().enumerate() {
                    vals.push(json_value_at(x, &format!("{}/{}", p, i))?);
                }
                Value::Array(vals)
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                let n = expect_number(v, &p, kw)?;
                match kw.as_str() {
                    "minimum" => s.minimum = Some(n),
                    "maximum" => s.maximum = Some(n),
                    "exclusiveMinimum" => s.exclusive_minimum = Some(n),
                    _ => s.exclusive_maximum = Some(n),
                }
                Value::Number(n)
            }
            "multipleOf" => {
                let n = expect_number(v, &p, kw)?;
                if n <= 0.0 {
                    return Err(invalid(&p, format!("\"multipleOf\" must be greater than 0, not {}.", format_number(n)), "Write e.g. \"multipleOf\": 0.5."));
                }
                s.multiple_of = Some(n);
                Value::Number(n)
            }
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties" => {
                let n = expect_count(v, &p, kw)?;
                match kw.as_str() {
                    "minLength" => s.min_length = Some(n),
                    "maxLength" => s.max_length = Some(n),
                    "minItems" => s.min_items = Some(n),
                    "maxItems" => s.max_items = Some(n),
                    "minProperties" => s.min_properties = Some(n),
                    _ => s.max_properties = Some(n),
                }
                Value::Number(n as f64)
            }
            "uniqueItems" | "deprecated" | "readOnly" | "secret" => {
                let b = expect_bool(v, &p, kw)?;
                if kw == "uniqueItems" {
                    s.unique_items = b;
                } else if kw == "secret" {
                    s.secret = b;
                }
                Value::Bool(b)
            }
            "title" | "description" => Value::String(expect_string(v, &p, kw)?.to_string()),
            "pattern" => {
                let src = expect_string(v, &p, kw)?;
                if let Some(problem) = check_pattern_subset(src) {
                    return Err(invalid(
                        &p,
                        format!("the pattern {} is outside the portable regex subset: {}.", quote(src), problem),
                        "Patterns may use literals, \".\", classes [...] and [^...], \\d \\w \\s \\D \\W \\S, escaped syntax characters, ^ $, groups ( ) and (?: ), | and the quantifiers * + ? {n} {n,} {n,m}.",
                    ));
                }
                let re = compile_pattern(src)
                    .map_err(|e| invalid(&p, format!("the pattern {} does not compile: {}.", quote(src), e), "Fix the regular expression."))?;
                s.pattern = Some((src.to_string(), re));
                Value::String(src.to_string())
            }
            "items" => {
                if matches!(v, Value::Array(_)) {
                    return Err(invalid(
                        &p,
                        "\"items\" must be one schema for every item; tuple forms (an array of schemas) are not supported.",
                        "Write e.g. \"items\": {\"type\": \"string\"}.",
                    ));
                }
                let node = parse_node(v, &p)?;
                let j = node.json.clone();
                s.items = Some(Box::new(node));
                j
            }
            "additionalProperties" => match v {
                Value::Bool(b) => {
                    s.additional = if *b { Additional::Allowed } else { Additional::Refused };
                    Value::Bool(*b)
                }
                _ => {
                    let node = parse_node(v, &p)?;
                    let j = node.json.clone();
                    s.additional = Additional::Schema(Box::new(node));
                    j
                }
            },
            "properties" => {
                let props = match v {
                    Value::Object(o) => o,
                    _ => {
                        return Err(invalid(
                            &p,
                            format!("\"properties\" must be an object of schemas, not {}.", describe(v)),
                            "Write e.g. \"properties\": {\"name\": {\"type\": \"string\"}}.",
                        ))
                    }
                };
                let mut list = Vec::with_capacity(props.len());
                let mut jo = Object::new();
                for (name, sub) in props.iter() {
                    let pp = format!("{}/{}", p, pointer_segment(name));
                    check_member_name(name, &pp)?;
                    let node = parse_node(sub, &pp)?;
                    jo.insert(name.clone(), node.json.clone());
                    s.property_index.insert(name.clone(), list.len());
                    list.push((name.clone(), node));
                }
                s.properties = Some(list);
                Value::Object(jo)
            }
            "required" => {
                let items = match v {
                    Value::Array(a) => a,
                    _ => {
                        return Err(invalid(
                            &p,
                            format!("\"required\" must be an array of member names, not {}.", describe(v)),
                            "Write e.g. \"required\": [\"name\"].",
                        ))
                    }
                };
                let mut names: Vec<String> = Vec::new();
                for (i, n) in items.iter().enumerate() {
                    let np = format!("{}/{}", p, i);
                    let n = match n {
                        Value::String(s) => s,
                        _ => {
                            return Err(invalid(
                                &np,
                                format!("a required member name must be a string, not {}.", describe(n)),
                                "List member names as strings.",
                            ))
                        }
                    };
                    check_member_name(n, &np)?;
                    if names.contains(n) {
                        return Err(invalid(&np, format!("the member {} is listed twice.", quote(n)), "List each required member once."));
                    }
                    names.push(n.clone());
                }
                s.required = names.clone();
                Value::Array(names.into_iter().map(Value::String).collect())
            }
            _ => return Err(invalid(&p, format!("the keyword {} is not supported.", quote(kw)), supported_hint())),
        };
        out.insert(kw.clone(), parsed);
    }
    s.json = Value::Object(out);
    if let Some(d) = &s.default {
        if let Some(violation) = s.check_with(d, false) {
            let inner = violation.path();
            return Err(invalid(
                &format!("{}/default{}", path, inner),
                format!(
                    "the default {}{}.",
                    if inner.is_empty() { String::new() } else { format!("(at {}) ", inner) },
                    violation.problem
                ),
                format!("Make the default {}, or change the schema.", violation.expected),
            ));
        }
    }
    Ok(s)
}

/// A parsed document: its normalised JSON and one key schema per entry, in document order.
struct ParsedDocument {
    json: Value,
    entries: Vec<(String, KeySchema)>,
    additional_keys: bool,
}

fn parse_document(doc: &Value) -> Result<ParsedDocument> {
    let members = match doc {
        Value::Object(o) => o,
        _ => {
            return Err(invalid(
                "",
                format!("a schema document must be a JSON object, not {}.", describe(doc)),
                "Write {\"version\": 1, \"keys\": {\"display.units\": {\"type\": \"string\"}}}.",
            ))
        }
    };
    for m in members.keys() {
        let p = format!("/{}", pointer_segment(m));
        check_member_name(m, &p)?;
        if !matches!(m.as_str(), "version" | "keys" | "additionalKeys") {
            return Err(invalid(
                &p,
                format!("the document member {} is not supported.", quote(m)),
                "A schema document has only \"version\", \"keys\" and \"additionalKeys\".",
            ));
        }
    }
    let mut out = Object::new();
    if let Some(v) = members.get("version") {
        if !matches!(v, Value::Number(n) if *n == 1.0) {
            return Err(invalid("/version", format!("\"version\" must be 1, not {}.", describe(v)), "Write \"version\": 1, or leave it out."));
        }
        out.insert("version", Value::Number(1.0));
    }
    let keys = match members.get("keys") {
        None => return Err(invalid("/keys", "the document has no \"keys\" member.", "Add \"keys\": {} with one schema per key.")),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                "/keys",
                format!("\"keys\" must be an object, not {}.", describe(other)),
                "Write \"keys\": {\"display.units\": {\"type\": \"string\"}}.",
            ))
        }
    };
    let mut out_keys = Object::new();
    let mut entries = Vec::with_capacity(keys.len());
    for (name, raw) in keys.iter() {
        let p = format!("/keys/{}", pointer_segment(name));
        check_member_name(name, &p)?;
        parse_key_name(name, &p)?;
        let node = parse_node(raw, &p)?;
        out_keys.insert(name.clone(), node.json.clone());
        entries.push((name.clone(), node));
    }
    out.insert("keys", Value::Object(out_keys));
    let mut additional_keys = true;
    if let Some(v) = members.get("additionalKeys") {
        additional_keys = expect_bool(v, "/additionalKeys", "additionalKeys")?;
        out.insert("additionalKeys", Value::Bool(additional_keys));
    }
    Ok(ParsedDocument { json: Value::Object(out), entries, additional_keys })
}

/// Checks a schema document; returns its normalised copy (the document that is stored).
/// Fails with `PSMC_SCHEMA_INVALID` whose `details.path` points into `doc`.
pub fn parse_schema_document(doc: &Value) -> Result<Value> {
    Ok(parse_document(doc)?.json)
}

/// Parses one key schema as a stored document would hold it (`{"keys": {"k": schema}}`).
pub fn parse_key_schema(schema: &Value) -> Result<KeySchema> {
    let doc = json::obj([("keys", json::obj([("k", schema.clone())]))]);
    let mut parsed = parse_document(&doc)?;
    Ok(parsed.entries.remove(0).1)
}

/// A parsed and compiled schema document.
pub struct CompiledSchema {
    document: Value,
    text: String,
    additional_keys: bool,
    entries: Vec<(String, KeySchema)>,
    exact: HashMap<String, usize>,
    patterns: Vec<KeyPattern>,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema").field("document", &self.text).finish()
    }
}

impl CompiledSchema {
    /// Parses (`PSMC_SCHEMA_INVALID`) and compiles a document.
    pub fn new(doc: &Value) -> Result<Self> {
        let parsed = parse_document(doc)?;
        let mut exact = HashMap::new();
        let mut patterns = Vec::new();
        for (i, (name, _)) in parsed.entries.iter().enumerate() {
            match parse_key_name(name, &format!("/keys/{}", pointer_segment(name)))? {
                None => {
                    exact.insert(name.clone(), i);
                }
                Some((segments, stars)) => patterns.push(KeyPattern { pattern: name.clone(), segments, stars, entry: i }),
            }
        }
        patterns.sort_by(compare_patterns);
        let text = parsed.json.to_json();
        Ok(CompiledSchema { document: parsed.json, text, additional_keys: parsed.additional_keys, entries: parsed.entries, exact, patterns })
    }

    /// Compiles a stored document text.
    pub fn from_text(text: &str) -> Result<Self> {
        let doc = json::parse(text).map_err(|e| {
            PsmcError::new(
                ErrorCode::Corrupt,
                format!("The stored schema is not valid JSON ({}).", e),
                "Set the schema again (psmc schema set), or restore the store from a snapshot.",
            )
        })?;
        CompiledSchema::new(&doc)
    }

    /// The normalised document.
    pub fn document(&self) -> &Value {
        &self.document
    }
    /// The normalised document as stored (compact JSON).
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn additional_keys(&self) -> bool {
        self.additional_keys
    }

    fn lookup(&self, key: &str) -> Option<&(String, KeySchema)> {
        if let Some(&i) = self.exact.get(key) {
            return Some(&self.entries[i]);
        }
        if self.patterns.is_empty() {
            return None;
        }
        let segs: Vec<&str> = key.split('.').collect();
        for p in &self.patterns {
            if p.segments.len() == segs.len() && p.segments.iter().zip(&segs).all(|(a, b)| a == "*" || a == b) {
                return Some(&self.entries[p.entry]);
            }
        }
        None
    }

    /// The schema governing `key` (exact entry, else the most specific pattern).
    pub fn schema_for(&self, key: &str) -> Option<&KeySchema> {
        self.lookup(key).map(|(_, s)| s)
    }

    /// The document entry (exact key or pattern) governing `key`.
    pub fn entry_for(&self, key: &str) -> Option<&str> {
        self.lookup(key).map(|(n, _)| n.as_str())
    }

    /// The exact (non-pattern) keys, in document order.
    pub fn keys(&self) -> Vec<String> {
        self.entries.iter().filter(|(n, _)| self.exact.contains_key(n)).map(|(n, _)| n.clone()).collect()
    }

    /// The patterns, most specific first.
    pub fn patterns(&self) -> Vec<String> {
        self.patterns.iter().map(|p| p.pattern.clone()).collect()
    }

    /// The schema `default` for `key`.
    pub fn default_for(&self, key: &str) -> Option<&Value> {
        self.schema_for(key).and_then(|s| s.default.as_ref())
    }

    /// Fails with `PSMC_SCHEMA_VIOLATION` unless `value` is acceptable for `key`.
    pub fn validate(&self, key: &str, value: &Value) -> Result<()> {
        match self.lookup(key) {
            None => {
                if self.additional_keys {
                    return Ok(());
                }
                let first = key.split('.').next().unwrap_or("");
                let near: Vec<String> = self.keys().into_iter().filter(|k| k.split('.').next() == Some(first)).take(5).collect();
                Err(PsmcError::new(
                    ErrorCode::SchemaViolation,
                    format!(
                        "The key {} is not declared in the schema, and the schema does not allow other keys (additionalKeys is false).",
                        quote(key)
                    ),
                    format!(
                        "Check the spelling of the key{}, or declare it in the schema's \"keys\".",
                        if near.is_empty() { String::new() } else { format!(" (declared keys nearby: {})", near.join(", ")) }
                    ),
                )
                .with("key", key)
                .with("path", "")
                .with("keyword", "additionalKeys"))
            }
            Some((_, s)) => match s.check(value) {
                None => Ok(()),
                Some(f) => Err(violation_error(key, &f)),
            },
        }
    }
}

/// The set of type names of a schema (for env coercion).
pub fn type_set(types: &[ValueType]) -> HashSet<ValueType> {
    types.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(p: &str, s: &str) -> bool {
        assert_eq!(check_pattern_subset(p), None, "{}", p);
        compile_pattern(p).unwrap().is_match(s)
    }

    #[test]
    fn patterns() {
        assert!(matches("^.$", "😀"));
        assert!(!matches("^\\d+$", "\u{663}"));
        assert!(!matches("^a$", "a\n"));
        assert!(matches("a|", "zzz"));
        assert!(matches("^(?:[a-z0-9_-]|\\.){1,8}$|\\[x\\]", "a.b"));
        assert!(matches("[\\s]", "\u{feff}"));
        assert!(!matches("^[^\\d]$", "5"));
        assert!(matches("^[a-]$", "-"));
        assert!(matches("^\\/\\{$", "/{"));
        assert!(matches("^()$", ""));
        assert!(matches("^\\W\\S\\D$", "#x#"));
    }

    #[test]
    fn multiples() {
        assert!(is_multiple_of(0.3, 0.1));
        assert!(!is_multiple_of(0.35, 0.1));
        assert!(is_multiple_of(1e-7, 1e-8));
        assert!(is_multiple_of(-15.0, 5.0));
        assert!(!is_multiple_of(7.0, 5.0));
        assert!(is_multiple_of(100.0, 0.5));
        assert!(!is_multiple_of(1e-300, 3.0));
        assert!(is_multiple_of(4.5, 1.5));
    }
}

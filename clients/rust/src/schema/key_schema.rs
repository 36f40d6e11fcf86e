//! One compiled key schema and its check of a value (the first violation, in keyword order).

use std::collections::HashMap;

use regex::Regex;

use super::messages::{a_type, or_list, quote, render};
use super::numbers::{code_point_length, is_multiple_of};
use super::violation::Violation;
use crate::json::{format_number, Value};
use crate::value::{is_integer, type_of, values_equal, ValueType};

#[derive(Clone, Debug)]
pub(super) enum Additional {
    Allowed,
    Refused,
    Schema(Box<KeySchema>),
}

/// One parsed, compiled key schema (or a part of one: `items`, `properties`).
#[derive(Clone, Debug)]
pub struct KeySchema {
    pub(super) types: Option<Vec<ValueType>>,
    pub(super) const_: Option<Value>,
    pub(super) enum_: Option<Vec<Value>>,
    pub(super) minimum: Option<f64>,
    pub(super) maximum: Option<f64>,
    pub(super) exclusive_minimum: Option<f64>,
    pub(super) exclusive_maximum: Option<f64>,
    pub(super) multiple_of: Option<f64>,
    pub(super) min_length: Option<u64>,
    pub(super) max_length: Option<u64>,
    pub(super) pattern: Option<(String, Regex)>,
    pub(super) min_items: Option<u64>,
    pub(super) max_items: Option<u64>,
    pub(super) unique_items: bool,
    pub(super) items: Option<Box<KeySchema>>,
    pub(super) required: Vec<String>,
    pub(super) min_properties: Option<u64>,
    pub(super) max_properties: Option<u64>,
    pub(super) properties: Option<Vec<(String, KeySchema)>>,
    pub(super) property_index: HashMap<String, usize>,
    pub(super) additional: Additional,
    pub(super) default: Option<Value>,
    pub(super) secret: bool,
    /// The normalised JSON of this schema (what is stored).
    pub(super) json: Value,
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

    pub(super) fn check_with(&self, v: &Value, redact: bool) -> Option<Violation> {
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

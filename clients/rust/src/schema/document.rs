//! Parsing a schema document (§schema.document): every keyword checked, the normalised copy
//! that is stored, one [`KeySchema`] per entry.

use std::collections::HashMap;

use super::key_pattern::parse_key_name;
use super::key_schema::{Additional, KeySchema};
use super::messages::{describe, invalid, quote};
use super::pattern::{check_pattern_subset, compile_pattern};
use crate::errors::Result;
use crate::json::{self, format_number, Object, Value};
use crate::value::{check_value, pointer_segment, ValueType};

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
pub(super) struct ParsedDocument {
    pub(super) json: Value,
    pub(super) entries: Vec<(String, KeySchema)>,
    pub(super) additional_keys: bool,
}

pub(super) fn parse_document(doc: &Value) -> Result<ParsedDocument> {
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

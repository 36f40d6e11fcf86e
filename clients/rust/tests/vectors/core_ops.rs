//! Family: the pure core ops (`key.*`, `value.*`, `clock.*`, `error.info`, `schema.*`, `env.*`),
//! each one call of a core function.

use psmc::clock::{compare_hlc, format_hlc, next_hlc, parse_hlc, Hlc};
use psmc::env::{coerce_env, env_name, env_variable_for};
use psmc::errors::ErrorCode;
use psmc::json::{obj, Value};
use psmc::keys::assert_key;
use psmc::schema::{parse_key_schema, parse_schema_document, CompiledSchema};
use psmc::value::{checked, decode_value, encode_value, type_of, values_equal};

use super::common::{json_text, plain, s, usage, Res, LONE, R};

pub fn run_core(op: &str, i: &Value) -> R {
    let v = |x: Value| Ok(Res::Value(x));
    match op {
        "key.validate" => {
            assert_key(s(i, "key")?)?;
            v(Value::Bool(true))
        }
        "value.encode" => {
            let text = s(i, "valueJson")?;
            if text.contains(LONE) {
                return Err(psmc::value::lone_surrogate_error(None));
            }
            let value = decode_value(text, None)?;
            v(Value::String(encode_value(&value, None)?))
        }
        "value.type" => v(Value::String(type_of(&checked(json_text(s(i, "valueJson")?)?, None)?).as_str().into())),
        "value.equal" => {
            let a = checked(json_text(s(i, "aJson")?)?, None)?;
            let b = checked(json_text(s(i, "bJson")?)?, None)?;
            v(Value::Bool(values_equal(&a, &b)))
        }
        "clock.parse" => {
            let t = parse_hlc(s(i, "text")?)?;
            v(obj([("ms", Value::Number(t.ms as f64)), ("counter", Value::Number(t.counter as f64))]))
        }
        "clock.format" => {
            let ms = i.get("ms").and_then(Value::as_f64).unwrap_or(0.0) as i64;
            let counter = i.get("counter").and_then(Value::as_f64).unwrap_or(0.0) as u32;
            v(Value::String(format_hlc(Hlc { ms, counter })))
        }
        "clock.next" => {
            let last = parse_hlc(s(i, "lastText")?)?;
            let wall = i.get("wallMs").and_then(Value::as_f64).unwrap_or(0.0);
            v(Value::String(format_hlc(next_hlc(last, wall)?)))
        }
        "clock.compare" => {
            let o = compare_hlc(parse_hlc(s(i, "a")?)?, parse_hlc(s(i, "b")?)?);
            v(Value::Number(o as i32 as f64))
        }
        "error.info" => match ErrorCode::parse(s(i, "code")?) {
            None => Ok(Res::Absent),
            Some(c) => v(obj([("exit", Value::Number(c.exit_code() as f64)), ("http", Value::Number(c.http_status() as f64))])),
        },
        "schema.parse" => {
            parse_schema_document(&plain(i.get("schema").unwrap_or(&Value::Null))?)?;
            v(Value::Bool(true))
        }
        "schema.validate" => {
            let schema = CompiledSchema::new(&plain(i.get("schema").unwrap_or(&Value::Null))?)?;
            schema.validate(s(i, "key")?, &json_text(s(i, "valueJson")?)?)?;
            v(Value::Bool(true))
        }
        "env.coerce" => {
            let ks = match i.get("keySchema") {
                None | Some(Value::Null) => None,
                Some(k) => Some(parse_key_schema(&plain(k)?)?),
            };
            let raw = s(i, "raw")?;
            if raw.contains(LONE) {
                return Err(usage("raw is not well-formed Unicode"));
            }
            v(coerce_env(raw, ks.as_ref(), s(i, "variable")?, s(i, "key")?)?)
        }
        "env.name" => v(Value::String(env_name(s(i, "prefix")?, s(i, "key")?)?)),
        "env.variable" => v(env_variable_for(s(i, "prefix")?, s(i, "key")?)?.map(Value::String).unwrap_or(Value::Null)),
        other => panic!("unknown pure op {:?}", other),
    }
}

"""Conformance-vector family: the pure core ops (``key.*``, ``value.*``, ``clock.*``,
``error.info``, ``schema.*``, ``env.*``), each one call of a core function."""
from psmc.clock import compare_hlc, format_hlc, next_hlc, parse_hlc
from psmc.env import coerce_env, env_name, env_variable_for
from psmc.errors import error_info
from psmc.keys import assert_key
from psmc.schema import compile_schema, parse_schema_document
from psmc.value import assert_value, decode_value, encode_value, parse_json, type_of, values_equal

from vectors_common import ABSENT, s


def run_core(op, i):
    if op == "key.validate":
        assert_key(s(i, "key"))
        return True
    if op == "value.encode":
        return encode_value(decode_value(s(i, "valueJson")))
    if op == "value.type":
        return type_of(assert_value(parse_json(s(i, "valueJson"))))
    if op == "value.equal":
        return values_equal(assert_value(parse_json(s(i, "aJson"))), assert_value(parse_json(s(i, "bJson"))))
    if op == "clock.parse":
        t = parse_hlc(s(i, "text"))
        return {"ms": t.ms, "counter": t.counter}
    if op == "clock.format":
        return format_hlc((i["ms"], i["counter"]))
    if op == "clock.next":
        return format_hlc(next_hlc(parse_hlc(s(i, "lastText")), i["wallMs"]))
    if op == "clock.compare":
        d = compare_hlc(parse_hlc(s(i, "a")), parse_hlc(s(i, "b")))
        return (d > 0) - (d < 0)
    if op == "error.info":
        info = error_info(s(i, "code"))
        return ABSENT if info is None else info
    if op == "schema.parse":
        parse_schema_document(i["schema"])
        return True
    if op == "schema.validate":
        compile_schema(i["schema"]).validate(s(i, "key"), parse_json(s(i, "valueJson")))
        return True
    if op == "env.coerce":
        ks = i.get("keySchema")
        key_schema = None if ks is None else parse_schema_document({"keys": {"k": ks}})["keys"]["k"]
        return coerce_env(s(i, "raw"), key_schema, s(i, "variable"), s(i, "key"))
    if op == "env.name":
        return env_name(s(i, "prefix"), s(i, "key"))
    if op == "env.variable":
        return env_variable_for(s(i, "prefix"), s(i, "key"))
    raise AssertionError("unknown pure op %r" % op)

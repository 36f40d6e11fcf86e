//! The YAML reader, continued: flow sequences and mappings (`[a, b]`, `{a: 1, "b": 2}`), over
//! several lines, inside block values.

use super::common::with_stack;
use super::yaml_parse::{Node, NodeKind, Parser, Style};
use crate::errors::Result;
use crate::json::quote_str;

impl Parser<'_> {
    pub(super) fn flow_collection(&mut self, p: usize, m: isize) -> Result<(Node, usize)> {
        with_stack(|| self.flow_collection_here(p, m))
    }

    fn flow_collection_here(&mut self, p: usize, m: isize) -> Result<(Node, usize)> {
        let opening = self.b[p];
        let closing = if opening == b'[' { b']' } else { b'}' };
        self.enter(p)?;
        let outer = self.flow_outer.is_none();
        if outer {
            self.flow_outer = Some(closing);
        }
        let mut node = Node::new(if opening == b'[' { NodeKind::Seq } else { NodeKind::Map }, p, p);
        node.flow = true;
        let mut i = p + 1;
        let mut need_item = true;
        loop {
            i = self.flow_space(i, m, p)?;
            let c = self.ch(i);
            if c == closing && i < self.n {
                i += 1;
                break;
            }
            if i >= self.n {
                return self.err(&format!("Flow collection is never closed: {} is expected", quote_str(&(closing as char).to_string())), self.n);
            }
            if c == b',' {
                if need_item {
                    let what = if opening == b'[' { "sequence" } else { "mapping" };
                    return self.err(&format!("Unexpected , in flow {}", what), i);
                }
                need_item = true;
                i += 1;
                continue;
            }
            if !need_item {
                return self.err(&format!("Expected , or {} in a flow collection", closing as char), i);
            }
            if c == b']' || c == b'}' {
                return self.err(&format!("Unexpected {} in a flow collection", c as char), i);
            }
            let explicit = c == b'?' && matches!(self.ch(i + 1), b' ' | b'\t' | b'\n' | b'\r');
            if opening == b'{' || explicit {
                if explicit {
                    return self.err("Explicit keys (? key) are not used in the mirror file", i);
                }
                let (key, key_end) = if c == b':' && (matches!(self.ch(i + 1), b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}') || i + 1 >= self.n) {
                    (Node::new(NodeKind::Scalar, i, i), i)
                } else {
                    self.inline_value(i, m, true)?
                };
                let mut j = self.flow_space(key_end, m, p)?;
                let value;
                if self.ch(j) == b':' {
                    j = self.flow_space(j + 1, m, p)?;
                    if matches!(self.ch(j), b',' | b'}') {
                        value = None;
                        i = j;
                    } else {
                        let (v, e) = self.inline_value(j, m, true)?;
                        value = Some(v);
                        i = e;
                    }
                } else {
                    value = None;
                    i = key_end;
                }
                node.map.push((key, value, key_end));
            } else {
                let (mut item, mut e) = self.inline_value(i, m, true)?;
                let mut j = self.flow_space(e, m, p)?;
                if self.ch(j) == b':' && (matches!(self.ch(j + 1), b' ' | b'\t' | b'\n' | b'\r' | b',' | b']') || j + 1 >= self.n || item.style == Style::Quoted) {
                    j = self.flow_space(j + 1, m, p)?;
                    let (value, e2) = if matches!(self.ch(j), b',' | b']') {
                        (None, j)
                    } else {
                        let (v, e2) = self.inline_value(j, m, true)?;
                        (Some(v), e2)
                    };
                    let mut pair = Node::new(NodeKind::Map, item.start, e2);
                    pair.flow = true;
                    pair.map.push((item, value, e));
                    item = pair;
                    e = e2;
                }
                node.seq.push(Some(item));
                i = e;
            }
            need_item = false;
        }
        node.end = i;
        self.nesting -= 1;
        if outer {
            self.flow_outer = None;
        }
        Ok((node, i))
    }

    /// Skips blanks, line breaks and comments inside a flow collection; lines inside it are
    /// indented more than `m`.
    pub(super) fn flow_space(&self, mut i: usize, m: isize, opened: usize) -> Result<usize> {
        loop {
            let c = self.ch(i);
            if i >= self.n {
                return Ok(i);
            }
            if c == b' ' || c == b'\t' {
                i += 1;
            } else if c == b'#' && (i == 0 || matches!(self.before(i), b' ' | b'\t' | b'\n' | b'\r')) {
                while !self.is_break(i) {
                    i += 1;
                }
            } else if c == b'\n' || c == b'\r' {
                i = self.after_break(i);
                let ls = i;
                while self.ch(i) == b' ' {
                    i += 1;
                }
                let d = self.ch(i);
                let depth = (i - ls) as isize;
                // The closing bracket of the outermost collection may sit at the indent of its key.
                let closing_ok = Some(d) == self.flow_outer && i < self.n && depth >= m;
                if !(i >= self.n || matches!(d, b'\n' | b'\r' | b'#' | b'\t')) && depth <= m && !closing_ok {
                    let close = if self.ch(opened) == b'[' { "]" } else { "}" };
                    return self.err(&format!("Flow sequence in block collection must be sufficiently indented and end with a {}", close), i);
                }
                if self.is_doc_marker(ls) && i == ls {
                    return self.err("A document marker inside a flow collection", i);
                }
            } else {
                return Ok(i);
            }
        }
    }
}

//! The YAML reader: a hand-written parser of the subset §mirror.parse requires (the Python port
//! `psmc/mirror/yaml.py` is the model, rule for rule): block mappings and sequences (with the
//! compact `- key: value` and `- - item` forms and a sequence at its key's indent), flow
//! sequences and mappings over several lines, plain / single-quoted / double-quoted scalars,
//! block scalars (`|`, `>`, chomping and indentation indicators), comments, blank lines and one
//! `---` line. It builds a node tree with positions; anchors, aliases and tags are kept on the
//! nodes and refused in file order when values are converted (`yaml.rs`); directives and more
//! than one document are refused here. Explicit `? ` keys are refused (§mirror.parse allows it).
//!
//! Offsets are bytes; every character the grammar looks at is ASCII. Nesting is capped (200
//! collections) before recursion could exhaust the stack.

use super::common::{depth_error, line_start, parse_error};
use crate::errors::Result;
use crate::json::{quote_str, Value};

const YAML_HINT: &str = "Indent with spaces (not tabs), put a space after \":\" and \"-\", and quote strings holding \": \" or \" #\". See spec/sections/mirror-format.md §mirror.parse.";

/// The nesting the reader follows before it stops (deeper than any legal value).
const MAX_NESTING: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Scalar,
    Seq,
    Map,
    Alias,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// One node of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub style: Style,
    /// A scalar's value (a plain one resolved by the core schema).
    pub value: Value,
    /// A plain scalar's text as written.
    pub source: String,
    /// A string held a lone surrogate escape (read as U+FFFD; refused by the value rules).
    pub lone: bool,
    pub start: usize,
    pub end: usize,
    /// Sequence items (None for an empty item).
    pub seq: Vec<Option<Node>>,
    /// Mapping members: key, value (None when empty), offset after the colon (or the key).
    pub map: Vec<(Node, Option<Node>, usize)>,
    pub flow: bool,
    pub anchor: Option<String>,
    pub tag: Option<String>,
    pub props_at: usize,
}

impl Node {
    fn new(kind: NodeKind, start: usize, end: usize) -> Node {
        Node {
            kind,
            style: Style::Plain,
            value: Value::Null,
            source: String::new(),
            lone: false,
            start,
            end,
            seq: Vec::new(),
            map: Vec::new(),
            flow: false,
            anchor: None,
            tag: None,
            props_at: start,
        }
    }
}

/// `&anchor` and `!tag` before a node, and where they start.
struct Props {
    anchor: Option<String>,
    tag: Option<String>,
    at: usize,
}

const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@`";
const FLOW_IND: &[u8] = b",[]{}";

/// Space, tab, line break or the end (0).
fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0)
}

/// True when a plain scalar may start with `c` followed by `next`: no indicator, or `-`, `?`,
/// `:` followed by a character that is not a separator (nor, in flow context, a flow indicator).
fn can_start_plain(c: u8, next: u8, flow: bool) -> bool {
    !INDICATORS.contains(&c) || (b"-?:".contains(&c) && !is_sep(next) && !(flow && FLOW_IND.contains(&next)))
}

fn is_int(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

fn all_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// A plain scalar by the YAML 1.2 core schema.
pub fn resolve(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Number(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Number(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Number(f64::NAN),
        _ => {}
    }
    let radix = |digits: &str, r: u32| Value::Number(u128::from_str_radix(digits, r).map_or(1e300, |n| n as f64));
    if is_int(s) {
        return Value::Number(s.parse::<f64>().unwrap_or(f64::NAN));
    }
    if let Some(d) = s.strip_prefix("0o").filter(|d| all_digits(d, 8)) {
        return radix(d, 8);
    }
    if let Some(d) = s.strip_prefix("0x").filter(|d| all_digits(d, 16)) {
        return radix(d, 16);
    }
    if super::common::is_float_text(s) {
        if let Ok(n) = s.parse::<f64>() {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

pub struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    n: usize,
    nesting: usize,
    flow_outer: Option<u8>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser { text, b: text.as_bytes(), n: text.len(), nesting: 0, flow_outer: None }
    }

    // ── errors and positions ──

    fn err<T>(&self, what: &str, at: usize) -> Result<T> {
        Err(parse_error(self.text, at, what, YAML_HINT))
    }

    fn col(&self, p: usize) -> isize {
        (p - line_start(self.text, p)) as isize
    }

    fn ch(&self, p: usize) -> u8 {
        self.b.get(p).copied().unwrap_or(0)
    }

    /// `ch(p - 1)`, or 0 at the start.
    fn before(&self, p: usize) -> u8 {
        if p == 0 {
            0
        } else {
            self.b[p - 1]
        }
    }

    fn is_break(&self, p: usize) -> bool {
        let c = self.ch(p);
        c == b'\n' || p >= self.n || (c == b'\r' && (self.ch(p + 1) == b'\n' || p + 1 >= self.n))
    }

    fn skip_blanks(&self, mut p: usize) -> usize {
        while p < self.n && matches!(self.b[p], b' ' | b'\t') {
            p += 1;
        }
        p
    }

    /// The offset after the line break at `p`.
    fn after_break(&self, p: usize) -> usize {
        if self.ch(p) == b'\r' && self.ch(p + 1) == b'\n' {
            p + 2
        } else if p < self.n {
            p + 1
        } else {
            p
        }
    }

    /// Skips blanks and a comment from `p`; the offset of the line break (or the end), or None
    /// when anything else is there.
    fn end_of_line_void(&self, p: usize) -> Option<usize> {
        let mut q = self.skip_blanks(p);
        if self.ch(q) == b'#' && (q > p || matches!(self.before(p), b' ' | b'\t' | b'\n' | 0)) {
            while !self.is_break(q) {
                q += 1;
            }
        }
        if self.is_break(q) {
            Some(q)
        } else {
            None
        }
    }

    /// From the line break at `p` (or a line start), skips blank and comment-only lines: the
    /// offset of the first non-blank character and its indent, or `(n, -1)` at the end.
    fn next_content(&self, mut p: usize) -> Result<(usize, isize)> {
        loop {
            if p >= self.n {
                return Ok((self.n, -1));
            }
            if matches!(self.ch(p), b'\r' | b'\n') {
                p = self.after_break(p);
            }
            let ls = p;
            let mut q = ls;
            while q < self.n && self.b[q] == b' ' {
                q += 1;
            }
            let mut r = self.skip_blanks(q);
            if self.is_break(r) {
                p = r;
                if r >= self.n {
                    return Ok((self.n, -1));
                }
                continue;
            }
            if self.b[r] == b'#' {
                while !self.is_break(r) {
                    r += 1;
                }
                p = r;
                if r >= self.n {
                    return Ok((self.n, -1));
                }
                continue;
            }
            if r != q {
                return self.err("Tabs are not allowed as indentation", q);
            }
            return Ok((q, (q - ls) as isize));
        }
    }

    fn is_doc_marker(&self, p: usize) -> bool {
        if self.col(p) != 0 {
            return false;
        }
        let t = self.b.get(p..p + 3);
        (t == Some(b"---") || t == Some(b"...")) && is_sep(self.ch(p + 3))
    }

    fn starts(&self, p: usize, s: &str) -> bool {
        self.b.get(p..p + s.len()) == Some(s.as_bytes())
    }

    // ── the document ──

    /// The root node of the one document, or None for an empty document.
    pub fn document(&mut self) -> Result<Option<Node>> {
        let (mut p, mut ind) = self.next_content(0)?;
        let mut directives = false;
        while p < self.n && ind == 0 && self.b[p] == b'%' {
            // As the TypeScript codec: %YAML is refused, other directives (%TAG) pass (tags are refused anyway).
            if self.starts(p, "%YAML") && is_sep(self.ch(p + 5)) {
                return self.err("Directives (%YAML, %TAG) are not used in the mirror file", self.text.find('%').unwrap_or(p));
            }
            directives = true;
            let mut q = p;
            while !self.is_break(q) {
                q += 1;
            }
            (p, ind) = self.next_content(q)?;
        }
        if directives && !(p < self.n && ind == 0 && self.starts(p, "---")) {
            return self.err("Missing directives-end indicator line", p);
        }
        if p < self.n && ind == 0 && self.starts(p, "---") && is_sep(self.ch(p + 3)) {
            let Some(q) = self.end_of_line_void(p + 3) else {
                return self.err("A top-level entry does not start its own line", self.skip_blanks(p + 3));
            };
            (p, _) = self.next_content(q)?;
            if p < self.n && self.starts(p, "---") && self.is_doc_marker(p) {
                return self.err("The file holds more than one YAML document", p);
            }
            if p >= self.n || self.is_doc_marker(p) {
                // As the TypeScript codec: an explicit document with no content is an empty scalar.
                return self.err("The top level of the file is not a block mapping", q);
            }
        }
        let mut root = None;
        if p < self.n && !self.is_doc_marker(p) {
            let (node, next, _) = self.block_node(p, -1)?;
            root = node;
            p = next;
        } else if p < self.n && self.starts(p, "...") {
            return self.err("The top level of the file is not a block mapping", p);
        }
        if p < self.n {
            if self.is_doc_marker(p) && self.starts(p, "...") {
                if let Some(q) = self.end_of_line_void(p + 3) {
                    (p, _) = self.next_content(q)?;
                    if p >= self.n {
                        return Ok(root);
                    }
                }
            }
            if self.is_doc_marker(p) {
                return self.err("The file holds more than one YAML document", p);
            }
            return self.err("Unexpected text after the top-level mapping", p);
        }
        Ok(root)
    }

    // ── block nodes ──

    fn enter(&mut self, at: usize) -> Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(depth_error(self.text, at, None));
        }
        Ok(())
    }

    fn is_seq_dash(&self, p: usize) -> bool {
        self.ch(p) == b'-' && is_sep(self.ch(p + 1))
    }

    fn is_explicit_key(&self, p: usize) -> bool {
        self.ch(p) == b'?' && is_sep(self.ch(p + 1))
    }

    /// A node starting at `p` whose lines are indented more than `parent`: the node, the offset
    /// of the next content and its indent.
    fn block_node(&mut self, p: usize, parent: isize) -> Result<(Option<Node>, usize, isize)> {
        if self.is_seq_dash(p) {
            let (node, nxt, ind) = self.block_seq(p)?;
            return Ok((Some(node), nxt, ind));
        }
        if self.is_explicit_key(p) {
            return self.err("Explicit keys (? key) are not used in the mirror file", p);
        }
        if self.key_here(p)?.is_some() {
            let (node, nxt, ind) = self.block_map(p)?;
            return Ok((Some(node), nxt, ind));
        }
        let (node, q) = self.inline_value(p, parent, false)?;
        let Some(r) = self.end_of_line_void(q) else {
            return self.trailing_error(q, None);
        };
        let (nxt, ind) = self.next_content(r)?;
        Ok((Some(node), nxt, ind))
    }

    fn trailing_error<T>(&self, q: usize, value_at: Option<usize>) -> Result<T> {
        let r = self.skip_blanks(q);
        if self.ch(r) == b':' {
            return self.err("Nested mappings are not allowed in compact mappings", value_at.unwrap_or(r));
        }
        self.err("Unexpected text after a value", r)
    }

    /// The key node and the offset of its `:` when an implicit key starts at `p`.
    fn key_here(&mut self, p: usize) -> Result<Option<(Node, usize)>> {
        let c = self.ch(p);
        let node;
        let q;
        if c == b'"' || c == b'\'' {
            match self.quoted(p, -1, true)? {
                None => return Ok(None),
                Some((n, e)) => {
                    node = n;
                    q = e;
                }
            }
        } else if p >= self.n || c == b'\r' || c == b'\n' || !can_start_plain(c, self.ch(p + 1), false) {
            return Ok(None);
        } else {
            let mut e = p;
            loop {
                let d = self.ch(e);
                if e >= self.n || d == b'\r' || d == b'\n' {
                    break;
                }
                if d == b':' && is_sep(self.ch(e + 1)) {
                    break;
                }
                if d == b'#' && matches!(self.before(e), b' ' | b'\t') {
                    break;
                }
                e += 1;
            }
            while e > p && matches!(self.b[e - 1], b' ' | b'\t') {
                e -= 1;
            }
            let mut n = Node::new(NodeKind::Scalar, p, e);
            n.source = self.text[p..e].to_string();
            n.value = Value::String(n.source.clone());
            node = n;
            q = e;
        }
        let r = self.skip_blanks(q);
        if self.ch(r) == b':' && is_sep(self.ch(r + 1)) {
            return Ok(Some((node, r)));
        }
        Ok(None)
    }

    fn block_map(&mut self, mut p: usize) -> Result<(Node, usize, isize)> {
        let m = self.col(p);
        self.enter(p)?;
        let mut node = Node::new(NodeKind::Map, p, p);
        let (nxt, ind) = loop {
            let Some((key, colon)) = self.key_here(p)? else {
                if self.is_seq_dash(p) {
                    return self.err("A block sequence may not be used as an implicit map key", p);
                }
                if self.is_explicit_key(p) {
                    return self.err("Explicit keys (? key) are not used in the mirror file", p);
                }
                return self.err("Implicit map keys need to be followed by map values", p);
            };
            let (value, end, nxt, ind) = self.value_after(colon + 1, m, true)?;
            node.map.push((key, value, colon + 1));
            node.end = end;
            if nxt >= self.n || ind < m || self.is_doc_marker(nxt) {
                break (nxt, ind);
            }
            if ind > m {
                return self.err("Bad indentation of a mapping entry", line_start(self.text, nxt));
            }
            p = nxt;
        };
        self.nesting -= 1;
        Ok((node, nxt, ind))
    }

    fn block_seq(&mut self, mut p: usize) -> Result<(Node, usize, isize)> {
        let m = self.col(p);
        self.enter(p)?;
        let mut node = Node::new(NodeKind::Seq, p, p);
        let (nxt, ind) = loop {
            let (value, end, nxt, ind) = self.value_after(p + 1, m, false)?;
            node.seq.push(value);
            node.end = end;
            if nxt >= self.n || ind < m || self.is_doc_marker(nxt) {
                break (nxt, ind);
            }
            if ind > m {
                return self.err("Bad indentation of a sequence entry", line_start(self.text, nxt));
            }
            if !self.is_seq_dash(nxt) {
                break (nxt, ind);
            }
            p = nxt;
        };
        self.nesting -= 1;
        Ok((node, nxt, ind))
    }

    /// The value after a key's `:` or a sequence's `-` at `p` (collection indent `m`): the node
    /// (None when empty), the end offset for the collection, the next content and its indent.
    fn value_after(&mut self, p: usize, m: isize, in_map: bool) -> Result<(Option<Node>, usize, usize, isize)> {
        let mut q = self.skip_blanks(p);
        let mut props = None;
        if matches!(self.ch(q), b'&' | b'!') && !self.is_break(q) {
            let (pr, e) = self.properties(q);
            props = Some(pr);
            q = e;
        }
        if let Some(r) = self.end_of_line_void(q) {
            let (nxt, ind) = self.next_content(r)?;
            if nxt < self.n && !self.is_doc_marker(nxt) {
                if ind > m {
                    let (mut node, nxt2, ind2) = self.block_node(nxt, m)?;
                    attach(node.as_mut(), props);
                    let end = node.as_ref().map_or(p, |n| n.end);
                    return Ok((node, end, nxt2, ind2));
                }
                if in_map && ind == m && self.is_seq_dash(nxt) {
                    let (mut node, nxt2, ind2) = self.block_seq(nxt)?;
                    attach(Some(&mut node), props);
                    let end = node.end;
                    return Ok((Some(node), end, nxt2, ind2));
                }
            }
            let mut node = None;
            if props.is_some() {
                let mut n = Node::new(NodeKind::Scalar, q, q);
                attach(Some(&mut n), props);
                node = Some(n);
            }
            return Ok((node, p, nxt, ind));
        }
        if self.is_seq_dash(q) {
            if in_map {
                return self.err("Unexpected block-seq-ind on same line with key", q);
            }
            let (mut node, nxt, ind) = self.block_seq(q)?;
            attach(Some(&mut node), props);
            let end = node.end;
            return Ok((Some(node), end, nxt, ind));
        }
        if !in_map && props.is_none() {
            if self.is_explicit_key(q) {
                return self.err("Explicit keys (? key) are not used in the mirror file", q);
            }
            if self.key_here(q)?.is_some() {
                let (node, nxt, ind) = self.block_map(q)?;
                let end = node.end;
                return Ok((Some(node), end, nxt, ind));
            }
        }
        let (mut node, e) = self.inline_value(q, m, false)?;
        attach(Some(&mut node), props);
        let Some(r) = self.end_of_line_void(e) else {
            return self.trailing_error(e, Some(q));
        };
        let (nxt, ind) = self.next_content(r)?;
        let end = node.end;
        Ok((Some(node), end, nxt, ind))
    }

    /// `&anchor` and `!tag` before a node, and the offset after them.
    fn properties(&self, mut p: usize) -> (Props, usize) {
        let mut props = Props { anchor: None, tag: None, at: p };
        while matches!(self.ch(p), b'&' | b'!') {
            let mut q = p + 1;
            while q < self.n && !b" \t\r\n,[]{}".contains(&self.b[q]) {
                q += 1;
            }
            if self.b[p] == b'&' {
                props.anchor = Some(self.text[p + 1..q].to_string());
            } else {
                props.tag = Some(self.text[p..q].to_string());
            }
            p = self.skip_blanks(q);
        }
        (props, p)
    }

    // ── inline values ──

    /// A value on the current line (flow collection, quoted, block scalar, alias or plain)
    /// whose continuation lines are indented more than `m`: the node and its end offset.
    fn inline_value(&mut self, mut p: usize, m: isize, flow: bool) -> Result<(Node, usize)> {
        let mut props = None;
        if matches!(self.ch(p), b'&' | b'!') {
            let (pr, e) = self.properties(p);
            p = e;
            if self.is_break(p) || (flow && FLOW_IND.contains(&self.ch(p))) {
                let mut node = Node::new(NodeKind::Scalar, p, p);
                attach(Some(&mut node), Some(pr));
                return Ok((node, p));
            }
            props = Some(pr);
        }
        let c = self.ch(p);
        let (mut node, e) = if c == b'[' || c == b'{' {
            self.flow_collection(p, m)?
        } else if c == b'"' || c == b'\'' {
            self.quoted(p, m, false)?.expect("a multi-line quoted scalar is always here")
        } else if c == b'*' {
            let mut q = p + 1;
            while q < self.n && !b" \t\r\n,[]{}".contains(&self.b[q]) {
                q += 1;
            }
            (Node::new(NodeKind::Alias, p, q), q)
        } else if (c == b'|' || c == b'>') && !flow {
            self.block_scalar(p, m)?
        } else {
            self.plain(p, m, flow)?
        };
        attach(Some(&mut node), props);
        Ok((node, e))
    }

    fn plain(&mut self, p: usize, m: isize, flow: bool) -> Result<(Node, usize)> {
        let c = self.ch(p);
        if p >= self.n || c == b'\r' || c == b'\n' {
            return self.err("A value is expected", p);
        }
        if !can_start_plain(c, self.ch(p + 1), flow) {
            if c == b'@' || c == b'`' {
                return self.err(&format!("Plain value cannot start with reserved character {}", c as char), p);
            }
            if c == b'%' {
                return self.err("Plain value cannot start with directive indicator character %", p);
            }
            return self.err(&format!("Unexpected character {}", quote_str(&(c as char).to_string())), p);
        }
        let mut parts = String::new();
        let mut any = false;
        let start = p;
        let mut end = p;
        let mut q = p;
        let mut pending_breaks = 0;
        loop {
            // One line of the scalar from q.
            let line_at = q;
            loop {
                let d = self.ch(q);
                if q >= self.n || d == b'\r' || d == b'\n' {
                    break;
                }
                if d == b':' && (is_sep(self.ch(q + 1)) || (flow && FLOW_IND.contains(&self.ch(q + 1)))) {
                    break;
                }
                if d == b'#' && q > line_at && matches!(self.before(q), b' ' | b'\t') {
                    break;
                }
                if flow && FLOW_IND.contains(&d) {
                    break;
                }
                q += 1;
            }
            let mut e = q;
            while e > line_at && matches!(self.b[e - 1], b' ' | b'\t') {
                e -= 1;
            }
            if e > line_at {
                if any {
                    if pending_breaks > 0 {
                        parts.push_str(&"\n".repeat(pending_breaks));
                    } else {
                        parts.push(' ');
                    }
                }
                parts.push_str(&self.text[line_at..e]);
                any = true;
                end = e;
            }
            if !self.is_break(q) || q >= self.n {
                break;
            }
            if self.ch(self.skip_blanks(q)) == b'#' {
                break;
            }
            // A continuation line: more indented than m, not a comment, not a document marker.
            let mut r = q;
            let mut breaks = 0;
            let mut ls;
            loop {
                r = self.after_break(r);
                ls = r;
                r = self.skip_blanks(r);
                if self.is_break(r) && r < self.n {
                    breaks += 1;
                    continue;
                }
                break;
            }
            if r >= self.n || self.ch(r) == b'#' || ((r - ls) as isize) <= m || (self.is_doc_marker(ls) && r == ls) {
                break;
            }
            if !flow && r > ls && self.b[ls..r].contains(&b'\t') {
                break;
            }
            if flow && FLOW_IND.contains(&self.ch(r)) {
                break;
            }
            pending_breaks = breaks;
            q = r;
        }
        let mut node = Node::new(NodeKind::Scalar, start, end);
        node.source = self.text[start..end].to_string();
        let multi_line = node.source.contains('\n');
        node.value = if multi_line { Value::String(parts) } else { resolve(&parts) };
        if multi_line && !flow && self.ch(self.skip_blanks(end)) == b':' {
            // The scalar stopped at ":" on a continuation line: a key inside a multi-line plain value.
            return self.err("Implicit keys need to be on a single line", start);
        }
        Ok((node, end))
    }

    /// A quoted scalar at `p`. With `single_line`, None when it is no single-line key.
    fn quoted(&mut self, p: usize, m: isize, single_line: bool) -> Result<Option<(Node, usize)>> {
        let q = self.b[p];
        let qs = (q as char).to_string();
        let mut i = p + 1;
        let mut out = String::new();
        let mut blanks = String::new();
        let mut lone = false;
        let mut high: Option<u32> = None;
        loop {
            if i >= self.n {
                if single_line {
                    return Ok(None);
                }
                return self.err(&format!("Missing closing {}quote", qs), self.n);
            }
            let c = self.b[i];
            if c != b'\\' || q != b'"' || self.ch(i + 1) != b'u' {
                if let Some(h) = high.take() {
                    // A high surrogate escape not followed by a low one.
                    let _ = h;
                    lone = true;
                    out.push('\u{FFFD}');
                }
            }
            if c == q {
                if q == b'\'' && self.ch(i + 1) == b'\'' {
                    out.push_str(&blanks);
                    blanks.clear();
                    out.push('\'');
                    i += 2;
                    continue;
                }
                out.push_str(&blanks);
                i += 1;
                break;
            }
            if c == b'\\' && q == b'"' {
                out.push_str(&blanks);
                blanks.clear();
                let e = self.ch(i + 1);
                if e == b'\n' || (e == b'\r' && self.ch(i + 2) == b'\n') {
                    if single_line {
                        return Ok(None);
                    }
                    i = self.after_break(i + 1);
                    i = self.skip_blanks(i);
                    continue;
                }
                if e == b'x' || e == b'u' || e == b'U' {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let h = self.b.get(i + 2..i + 2 + n);
                    let cp = h.filter(|h| h.iter().all(u8::is_ascii_hexdigit)).and_then(|_| u32::from_str_radix(&self.text[i + 2..i + 2 + n], 16).ok());
                    let Some(cp) = cp.filter(|c| *c <= 0x10FFFF) else {
                        return self.err("Invalid escape sequence", i);
                    };
                    if (0xD800..0xDC00).contains(&cp) {
                        if let Some(_h) = high.take() {
                            lone = true;
                            out.push('\u{FFFD}');
                        }
                        high = Some(cp);
                    } else if (0xDC00..0xE000).contains(&cp) {
                        match high.take() {
                            Some(h) => out.push(char::from_u32(0x10000 + ((h - 0xD800) << 10) + (cp - 0xDC00)).unwrap_or('\u{FFFD}')),
                            None => {
                                lone = true;
                                out.push('\u{FFFD}');
                            }
                        }
                    } else {
                        if high.take().is_some() {
                            lone = true;
                            out.push('\u{FFFD}');
                        }
                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                    }
                    i += 2 + n;
                    continue;
                }
                let rep = match e {
                    b'0' => '\0',
                    b'a' => '\u{7}',
                    b'b' => '\u{8}',
                    b't' | b'\t' => '\t',
                    b'n' => '\n',
                    b'v' => '\u{b}',
                    b'f' => '\u{c}',
                    b'r' => '\r',
                    b'e' => '\u{1b}',
                    b' ' => ' ',
                    b'"' => '"',
                    b'/' => '/',
                    b'\\' => '\\',
                    b'N' => '\u{85}',
                    b'_' => '\u{a0}',
                    b'L' => '\u{2028}',
                    b'P' => '\u{2029}',
                    _ => {
                        let shown = self.text[i..].chars().take(2).collect::<String>();
                        return self.err(&format!("Invalid escape sequence {}", quote_str(&shown)), i);
                    }
                };
                out.push(rep);
                i += 2;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                if single_line {
                    return Ok(None);
                }
                blanks.clear();
                let mut breaks = 0;
                let mut j = i;
                let mut ls;
                loop {
                    j = self.after_break(j);
                    ls = j;
                    j = self.skip_blanks(j);
                    if j >= self.n {
                        return self.err(&format!("Missing closing {}quote", qs), self.n);
                    }
                    if matches!(self.ch(j), b'\r' | b'\n') {
                        breaks += 1;
                        continue;
                    }
                    break;
                }
                if (((j - ls) as isize) <= m && !(self.ch(j) == q && m < 0)) || (self.is_doc_marker(ls) && j == ls) {
                    return self.err(&format!("Missing closing {}quote", qs), i);
                }
                if breaks > 0 {
                    out.push_str(&"\n".repeat(breaks));
                } else {
                    out.push(' ');
                }
                i = j;
                continue;
            }
            if c == b' ' || c == b'\t' {
                blanks.push(c as char);
                i += 1;
                continue;
            }
            out.push_str(&blanks);
            blanks.clear();
            let ch = self.text[i..].chars().next().unwrap_or('\u{FFFD}');
            out.push(ch);
            i += ch.len_utf8();
        }
        let mut node = Node::new(NodeKind::Scalar, p, i);
        node.style = Style::Quoted;
        node.source = out.clone();
        node.value = Value::String(out);
        node.lone = lone;
        Ok(Some((node, i)))
    }

    fn block_scalar(&mut self, p: usize, m: isize) -> Result<(Node, usize)> {
        let literal = self.b[p] == b'|';
        let mut i = p + 1;
        let mut chomp = 0u8;
        let mut explicit: isize = 0;
        for _ in 0..2 {
            let c = self.ch(i);
            if (c == b'+' || c == b'-') && chomp == 0 {
                chomp = c;
                i += 1;
            } else if (b'1'..=b'9').contains(&c) && explicit == 0 {
                explicit = (c - b'0') as isize;
                i += 1;
            }
        }
        let head_end = i;
        let Some(r) = self.end_of_line_void(i) else {
            return self.err("Unexpected text after a block scalar indicator", self.skip_blanks(i));
        };
        // (offset of the line start, line text without its break)
        let mut lines: Vec<(usize, &str)> = Vec::new();
        let mut j = r;
        let mut content_indent: isize = if explicit > 0 { m + explicit } else { -1 };
        let mut last_content_end: Option<usize> = None;
        while j < self.n {
            j = self.after_break(j);
            if j >= self.n {
                break;
            }
            let mut le = j;
            while le < self.n && !matches!(self.b[le], b'\r' | b'\n') {
                le += 1;
            }
            let line = &self.text[j..le];
            let spaces = (line.len() - line.trim_start_matches(' ').len()) as isize;
            if line.trim_matches([' ', '\t']).is_empty() {
                lines.push((j, line));
                j = le;
                continue;
            }
            if content_indent < 0 {
                if spaces <= m {
                    break;
                }
                content_indent = spaces;
            }
            if spaces < content_indent {
                break;
            }
            lines.push((j, line));
            last_content_end = Some(j + line.trim_end_matches([' ', '\t']).len());
            j = le;
        }
        let texts: Vec<&str> = lines
            .iter()
            .map(|(_, line)| {
                let spaces = (line.len() - line.trim_start_matches(' ').len()) as isize;
                if line.trim_matches([' ', '\t']).is_empty() && spaces <= content_indent.max(0) {
                    ""
                } else if content_indent > 0 {
                    line.get(content_indent as usize..).unwrap_or("")
                } else {
                    line
                }
            })
            .collect();
        // Drop trailing lines after the last content line that are not part of the text.
        let mut k = texts.len();
        while k > 0 && texts[k - 1].is_empty() && last_content_end.is_none_or(|l| lines[k - 1].0 + lines[k - 1].1.len() > l) {
            k -= 1;
        }
        let body_lines = &texts[..k];
        let trailing = texts.len() - k;
        let body = if literal {
            body_lines.join("\n")
        } else {
            fold(body_lines)
        };
        let has_content = body_lines.iter().any(|t| !t.is_empty());
        let value = match chomp {
            b'-' => body,
            b'+' => {
                if has_content {
                    body + &"\n".repeat(1 + trailing)
                } else {
                    "\n".repeat(trailing)
                }
            }
            _ => {
                if has_content {
                    body + "\n"
                } else {
                    String::new()
                }
            }
        };
        let mut node = Node::new(NodeKind::Scalar, p, last_content_end.unwrap_or(head_end));
        node.style = Style::Block;
        node.source = value.clone();
        node.value = Value::String(value);
        let end_at = match lines.last() {
            Some((start, line)) => start + line.len(),
            None => r,
        };
        Ok((node, end_at))
    }

    fn flow_collection(&mut self, p: usize, m: isize) -> Result<(Node, usize)> {
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
    fn flow_space(&self, mut i: usize, m: isize, opened: usize) -> Result<usize> {
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

fn attach(node: Option<&mut Node>, props: Option<Props>) {
    let (Some(node), Some(props)) = (node, props) else { return };
    if props.anchor.is_some() {
        node.anchor = props.anchor;
    }
    if props.tag.is_some() {
        node.tag = props.tag;
    }
    node.props_at = props.at;
}

/// Folds the lines of a `>` block scalar: lines join with a space, an empty line is a line
/// break, and more-indented lines keep their breaks.
fn fold(lines: &[&str]) -> String {
    let mut out = String::new();
    // None before the first content line; Some(true) after a more-indented one.
    let mut prev: Option<bool> = None;
    let mut empty = 0;
    for line in lines {
        if line.is_empty() {
            empty += 1;
            continue;
        }
        let more = line.starts_with([' ', '\t']);
        match prev {
            None => out.push_str(&"\n".repeat(empty)),
            Some(false) if !more => {
                if empty == 0 {
                    out.push(' ');
                } else {
                    out.push_str(&"\n".repeat(empty));
                }
            }
            _ => out.push_str(&"\n".repeat(empty + 1)),
        }
        out.push_str(line);
        prev = Some(more);
        empty = 0;
    }
    if prev.is_none() {
        return String::new();
    }
    out
}

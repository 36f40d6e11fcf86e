//! The YAML reader: a hand-written parser of the subset §mirror.parse requires (the Python port
//! `psmc/mirror/yaml.py` is the model, rule for rule): block mappings and sequences (with the
//! compact `- key: value` and `- - item` forms and a sequence at its key's indent), flow
//! sequences and mappings over several lines, plain / single-quoted / double-quoted scalars,
//! block scalars (`|`, `>`, chomping and indentation indicators), comments, blank lines and one
//! `---` line. It builds a node tree with positions; anchors, aliases and tags are kept on the
//! nodes and refused in file order when values are converted (`yaml.rs`); directives and more
//! than one document are refused here. Explicit `? ` keys are refused (§mirror.parse allows it).
//! A document with no node (`---` alone, comments) is the empty store.
//!
//! Offsets are bytes; every character the grammar looks at is ASCII. Nesting is capped (200
//! collections) before recursion could exhaust the stack.

use super::common::{depth_error, line_start, parse_error, with_stack};
use crate::errors::Result;
use crate::json::Value;

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
    /// A string's first lone surrogate escape (read as U+FFFD; refused by the value rules), as
    /// (code unit, UTF-16 index).
    pub lone: Option<(u32, usize)>,
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
    pub(super) fn new(kind: NodeKind, start: usize, end: usize) -> Node {
        Node {
            kind,
            style: Style::Plain,
            value: Value::Null,
            source: String::new(),
            lone: None,
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
pub(super) struct Props {
    pub(super) anchor: Option<String>,
    pub(super) tag: Option<String>,
    pub(super) at: usize,
}

pub(super) const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@`";
pub(super) const FLOW_IND: &[u8] = b",[]{}";

/// Space, tab, line break or the end (0).
pub(super) fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0)
}

/// True when a plain scalar may start with `c` followed by `next`: no indicator, or `-`, `?`,
/// `:` followed by a character that is not a separator (nor, in flow context, a flow indicator).
pub(super) fn can_start_plain(c: u8, next: u8, flow: bool) -> bool {
    !INDICATORS.contains(&c) || (b"-?:".contains(&c) && !is_sep(next) && !(flow && FLOW_IND.contains(&next)))
}


pub struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) b: &'a [u8],
    pub(super) n: usize,
    pub(super) nesting: usize,
    pub(super) flow_outer: Option<u8>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser { text, b: text.as_bytes(), n: text.len(), nesting: 0, flow_outer: None }
    }

    // ── errors and positions ──

    pub(super) fn err<T>(&self, what: &str, at: usize) -> Result<T> {
        Err(parse_error(self.text, at, what, YAML_HINT))
    }

    pub(super) fn col(&self, p: usize) -> isize {
        (p - line_start(self.text, p)) as isize
    }

    pub(super) fn ch(&self, p: usize) -> u8 {
        self.b.get(p).copied().unwrap_or(0)
    }

    /// `ch(p - 1)`, or 0 at the start.
    pub(super) fn before(&self, p: usize) -> u8 {
        if p == 0 {
            0
        } else {
            self.b[p - 1]
        }
    }

    pub(super) fn is_break(&self, p: usize) -> bool {
        let c = self.ch(p);
        c == b'\n' || p >= self.n || (c == b'\r' && (self.ch(p + 1) == b'\n' || p + 1 >= self.n))
    }

    pub(super) fn skip_blanks(&self, mut p: usize) -> usize {
        while p < self.n && matches!(self.b[p], b' ' | b'\t') {
            p += 1;
        }
        p
    }

    /// The offset after the line break at `p`.
    pub(super) fn after_break(&self, p: usize) -> usize {
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
    pub(super) fn end_of_line_void(&self, p: usize) -> Option<usize> {
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
    pub(super) fn next_content(&self, mut p: usize) -> Result<(usize, isize)> {
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

    pub(super) fn is_doc_marker(&self, p: usize) -> bool {
        if self.col(p) != 0 {
            return false;
        }
        let t = self.b.get(p..p + 3);
        (t == Some(b"---") || t == Some(b"...")) && is_sep(self.ch(p + 3))
    }

    pub(super) fn starts(&self, p: usize, s: &str) -> bool {
        self.b.get(p..p + s.len()) == Some(s.as_bytes())
    }

    // ── the document ──

    /// The root node of the one document, or None for a document with no node (nothing but
    /// comments, blank lines and the `---` / `...` markers: the empty store).
    pub fn document(&mut self) -> Result<Option<Node>> {
        let (mut p, ind) = self.next_content(0)?;
        if p < self.n && ind == 0 && self.b[p] == b'%' {
            return Err(parse_error(
                self.text,
                p,
                "Directives (%YAML, %TAG …) are not used in the mirror file",
                "Delete the line starting with \"%\": the mirror file is plain YAML 1.2 and uses no directives.",
            ));
        }
        if p < self.n && ind == 0 && self.starts(p, "---") && self.is_doc_marker(p) {
            let Some(q) = self.end_of_line_void(p + 3) else {
                return self.err("A top-level entry does not start its own line", self.skip_blanks(p + 3));
            };
            (p, _) = self.next_content(q)?;
            if p < self.n && self.starts(p, "---") && self.is_doc_marker(p) {
                return self.err("The file holds more than one YAML document", p);
            }
        }
        let mut root = None;
        if p < self.n && !self.is_doc_marker(p) {
            let (node, next, _) = self.block_node(p, -1)?;
            root = node;
            p = next;
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

    pub(super) fn enter(&mut self, at: usize) -> Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(depth_error(self.text, at, None));
        }
        Ok(())
    }

    pub(super) fn is_seq_dash(&self, p: usize) -> bool {
        self.ch(p) == b'-' && is_sep(self.ch(p + 1))
    }

    pub(super) fn is_explicit_key(&self, p: usize) -> bool {
        self.ch(p) == b'?' && is_sep(self.ch(p + 1))
    }

    /// A node starting at `p` whose lines are indented more than `parent`: the node, the offset
    /// of the next content and its indent.
    pub(super) fn block_node(&mut self, p: usize, parent: isize) -> Result<(Option<Node>, usize, isize)> {
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

    pub(super) fn trailing_error<T>(&self, q: usize, value_at: Option<usize>) -> Result<T> {
        let r = self.skip_blanks(q);
        if self.ch(r) == b':' {
            return self.err("Nested mappings are not allowed in compact mappings", value_at.unwrap_or(r));
        }
        self.err("Unexpected text after a value", r)
    }

    /// The key node and the offset of its `:` when an implicit key starts at `p`.
    pub(super) fn key_here(&mut self, p: usize) -> Result<Option<(Node, usize)>> {
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

    pub(super) fn block_map(&mut self, p: usize) -> Result<(Node, usize, isize)> {
        with_stack(|| self.block_map_here(p))
    }

    fn block_map_here(&mut self, mut p: usize) -> Result<(Node, usize, isize)> {
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

    pub(super) fn block_seq(&mut self, p: usize) -> Result<(Node, usize, isize)> {
        with_stack(|| self.block_seq_here(p))
    }

    fn block_seq_here(&mut self, mut p: usize) -> Result<(Node, usize, isize)> {
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
    pub(super) fn value_after(&mut self, p: usize, m: isize, in_map: bool) -> Result<(Option<Node>, usize, usize, isize)> {
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
    pub(super) fn properties(&self, mut p: usize) -> (Props, usize) {
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
    pub(super) fn inline_value(&mut self, mut p: usize, m: isize, flow: bool) -> Result<(Node, usize)> {
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
}

pub(super) fn attach(node: Option<&mut Node>, props: Option<Props>) {
    let (Some(node), Some(props)) = (node, props) else { return };
    if props.anchor.is_some() {
        node.anchor = props.anchor;
    }
    if props.tag.is_some() {
        node.tag = props.tag;
    }
    node.props_at = props.at;
}

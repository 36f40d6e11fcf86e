//! The YAML reader, continued: scalars — plain (resolved by the YAML 1.2 core schema),
//! single- and double-quoted, and block scalars (`|`, `>`, chomping and indentation indicators).
//! `yaml_parse.rs` has the block structure, `yaml_flow.rs` the flow collections.

use super::yaml_parse::{can_start_plain, is_sep, Node, NodeKind, Parser, Style, FLOW_IND};
use crate::errors::Result;
use crate::json::{quote_str, Value};

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

impl Parser<'_> {
    pub(super) fn plain(&mut self, p: usize, m: isize, flow: bool) -> Result<(Node, usize)> {
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
    pub(super) fn quoted(&mut self, p: usize, m: isize, single_line: bool) -> Result<Option<(Node, usize)>> {
        let q = self.b[p];
        let qs = (q as char).to_string();
        let mut i = p + 1;
        let mut out = String::new();
        let mut blanks = String::new();
        let mut lone: Option<(u32, usize)> = None;
        let mut high: Option<u32> = None;
        loop {
            if i >= self.n {
                if single_line {
                    return Ok(None);
                }
                return self.err(&format!("Missing closing {}quote", qs), self.n);
            }
            let c = self.b[i];
            // A high surrogate escape pairs with a low one written right after it (`\ud83d\ude00`,
            // or `\U0000de00`), as the UTF-16 strings of the other languages join them.
            if c != b'\\' || q != b'"' || !matches!(self.ch(i + 1), b'u' | b'U') {
                if let Some(h) = high.take() {
                    lone_surrogate(&mut lone, &mut out, h);
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
                        if let Some(h) = high.take() {
                            lone_surrogate(&mut lone, &mut out, h);
                        }
                        high = Some(cp);
                    } else if (0xDC00..0xE000).contains(&cp) {
                        match high.take() {
                            Some(h) => out.push(char::from_u32(0x10000 + ((h - 0xD800) << 10) + (cp - 0xDC00)).unwrap_or('\u{FFFD}')),
                            None => lone_surrogate(&mut lone, &mut out, cp),
                        }
                    } else {
                        if let Some(h) = high.take() {
                            lone_surrogate(&mut lone, &mut out, h);
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

    pub(super) fn block_scalar(&mut self, p: usize, m: isize) -> Result<(Node, usize)> {
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

/// Writes U+FFFD for a lone surrogate escape `unit`, remembering the first one's code unit and
/// UTF-16 index for the error message.
fn lone_surrogate(lone: &mut Option<(u32, usize)>, out: &mut String, unit: u32) {
    if lone.is_none() {
        *lone = Some((unit, out.encode_utf16().count()));
    }
    out.push('\u{FFFD}');
}

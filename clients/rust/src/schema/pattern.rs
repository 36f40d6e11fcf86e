//! The portable regex subset of `pattern` (§schema.pattern): checking a pattern against the
//! subset, and translating it to the `regex` crate's syntax with JavaScript `u`-flag semantics.

use regex::Regex;

pub const MAX_REPEAT: u64 = 1000;
pub const MAX_GROUP_DEPTH: usize = 32;


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

pub(super) fn compile_pattern(p: &str) -> std::result::Result<Regex, String> {
    regex::RegexBuilder::new(&translate_pattern(p))
        .size_limit(64 << 20)
        .dfa_size_limit(8 << 20)
        .build()
        .map_err(|e| e.to_string())
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
}

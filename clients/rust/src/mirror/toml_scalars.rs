//! Pass 1 of the TOML reader, continued: numbers and date-times as smol-toml reads them
//! (`toml_check.rs` has the rest). A date-time is valid when JavaScript's `Date` would take the
//! text smol-toml hands it; the mirror then reads it as that text (§mirror.parse).

use super::toml_check::{end_of_value, fail, is_digit, Ctx, R, V};

impl Ctx<'_> {
    pub(super) fn number(&mut self, start_ptr: usize, mut c: u8, signed: bool, end: Option<u8>) -> R<V> {
        let s = self.s;
        if c == b'i' || c == b'n' {
            let rest: &[u8] = if c == b'i' { b"nf" } else { b"an" };
            if s.get(self.p + 1..self.p + 3) != Some(rest) {
                return fail("invalid value", start_ptr);
            }
            self.p += 3;
            return Ok(V::Scalar);
        }
        // smol-toml's states: 0 nothing, 1 integer digits, 2 after '.', 3 fraction digits,
        // 4 after 'e', 5 exponent digits, 6 after the exponent's sign; +11 after '_'.
        let mut state: u32 = 0;
        if c == b'0' {
            self.p += 1;
            if !self.has(self.p) || end_of_value(s[self.p], end) {
                return Ok(V::Scalar);
            }
            c = s[self.p];
            if !signed {
                match c {
                    b'x' => return self.int_base(16, end),
                    b'b' => return self.int_base(2, end),
                    b'o' => return self.int_base(8, end),
                    _ => {}
                }
            }
            if c == b'.' {
                state = 2;
            } else if c == b'e' || c == b'E' {
                state = 4;
            } else {
                return fail("illegal leading zero", start_ptr);
            }
        } else if !c.is_ascii_digit() {
            return fail("invalid value", start_ptr);
        }
        loop {
            self.p += 1;
            if !self.has(self.p) {
                break;
            }
            let c = s[self.p];
            if end_of_value(c, end) {
                break;
            }
            if state == 0 {
                state = 1;
            }
            if c == b'_' {
                if state & 1 == 0 {
                    return self.x("illegal underscore");
                }
                state += 11;
            } else if state == 1 && c == b'.' {
                state = 2;
            } else if (state == 1 || state == 3) && (c == b'e' || c == b'E') {
                state = 4;
            } else if state == 4 && (c == b'+' || c == b'-') {
                state = 6;
            } else if !c.is_ascii_digit() {
                return self.x("illegal character in numeric literal");
            } else if state > 9 {
                state -= 11;
            } else if state & 1 == 0 {
                state += 1;
            }
        }
        if state != 0 && state & 1 == 0 {
            return fail("unfinished numeric value", start_ptr);
        }
        Ok(V::Scalar)
    }

    fn int_base(&mut self, base: u32, end: Option<u8>) -> R<V> {
        let mut underscore = 1u8;
        loop {
            self.p += 1;
            if !self.has(self.p) {
                break;
            }
            let c = self.s[self.p];
            if end_of_value(c, end) {
                break;
            }
            if c == b'_' {
                if underscore & 1 == 1 {
                    return self.x("illegal underscore");
                }
                underscore = 3;
            } else if !is_digit(c, base) {
                return self.x("illegal character in numeric literal");
            } else if underscore & 1 == 1 {
                underscore -= 1;
            }
        }
        if underscore & 1 == 1 {
            return self.x("unfinished numeric value");
        }
        Ok(V::Scalar)
    }

    pub(super) fn date(&mut self, c: u8, end: Option<u8>) -> R<V> {
        let start_ptr = self.p;
        if !(c.is_ascii_digit() && self.at(start_ptr + 1).is_ascii_digit() && self.at(start_ptr + 2).is_ascii_digit() && self.at(start_ptr + 3).is_ascii_digit()) {
            return self.number(start_ptr, c, false, end);
        }
        self.p = start_ptr + 9;
        if !self.at(self.p).is_ascii_digit() {
            self.p += 1;
            return fail("invalid date-time: date part is malformed", start_ptr);
        }
        self.p += 1;
        let c = self.at(self.p);
        if !self.has(self.p) || ((c != b' ' || !self.at(self.p + 1).is_ascii_digit()) && c != b'T' && c != b't') {
            return self.read_date(start_ptr, DateKind::LocalDate);
        }
        self.p += 3;
        if self.at(self.p) != b':' {
            return fail("invalid date-time: time part is malformed", start_ptr);
        }
        self.p += 3;
        if self.at(self.p) == b':' {
            self.p += 3;
        }
        if self.at(self.p) == b'.' {
            self.p += 1;
            while self.at(self.p).is_ascii_digit() {
                self.p += 1;
            }
        }
        match self.at(self.p) {
            b'Z' | b'z' => {
                self.p += 1;
                self.read_date(start_ptr, DateKind::Offset)
            }
            b'+' | b'-' => {
                self.p += 6;
                self.read_date(start_ptr, DateKind::Offset)
            }
            _ => self.read_date(start_ptr, DateKind::LocalDateTime),
        }
    }

    pub(super) fn time(&mut self, c: u8, end: Option<u8>) -> R<V> {
        let start = self.p;
        if !(c.is_ascii_digit() && self.at(self.p + 1).is_ascii_digit()) {
            return self.number(start, c, false, end);
        }
        self.p += 5;
        if self.at(self.p) == b':' {
            self.p += 3;
        }
        if self.at(self.p) == b'.' {
            self.p += 1;
            while self.at(self.p).is_ascii_digit() {
                self.p += 1;
            }
        }
        self.read_date(start, DateKind::LocalTime)
    }

    /// What JavaScript's Date accepts of the texts smol-toml hands it.
    fn read_date(&mut self, start: usize, kind: DateKind) -> R<V> {
        let end = self.p.min(self.s.len());
        let text = self.text.get(start..end).unwrap_or("");
        let ok = match kind {
            DateKind::LocalDate => valid_date(text),
            DateKind::LocalTime => valid_time(text),
            _ => {
                let mut body = text;
                if kind == DateKind::Offset {
                    if body.ends_with('Z') || body.ends_with('z') {
                        body = &body[..body.len() - 1];
                    } else {
                        let ok_offset = body.len() >= 6 && valid_offset(&body[body.len() - 6..]);
                        body = if ok_offset { &body[..body.len() - 6] } else { "" };
                    }
                }
                body.len() > 11 && body.is_char_boundary(10) && body.is_char_boundary(11) && matches!(body.as_bytes()[10], b'T' | b't' | b' ') && valid_date(&body[..10]) && valid_time(&body[11..])
            }
        };
        if ok {
            Ok(V::Scalar)
        } else {
            fail("invalid date", start)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DateKind {
    Offset,
    LocalDateTime,
    LocalDate,
    LocalTime,
}

fn num(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `\d{4}-\d{2}-\d{2}` with a month of 1–12 and a day of 1–31.
fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || num(&d[..4]).is_none() {
        return false;
    }
    matches!((num(&d[5..7]), num(&d[8..10])), (Some(m), Some(day)) if (1..=12).contains(&m) && (1..=31).contains(&day))
}

/// `HH:MM(:SS(.fraction)?)?` within 23:59:59.
fn valid_time(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 5 || b[2] != b':' || !t.is_char_boundary(5) {
        return false;
    }
    let (Some(h), Some(m)) = (num(&t[..2]), num(&t[3..5])) else { return false };
    let mut sec = 0;
    if b.len() > 5 {
        if b[5] != b':' || b.len() < 8 || !t.is_char_boundary(8) {
            return false;
        }
        let Some(s) = num(&t[6..8]) else { return false };
        sec = s;
        if b.len() > 8 && (b[8] != b'.' || num(&t[9..]).is_none()) {
            return false;
        }
    }
    h <= 23 && m <= 59 && sec <= 59
}

/// `[+-]HH:MM` within 23:59.
fn valid_offset(o: &str) -> bool {
    let b = o.as_bytes();
    if b.len() != 6 || !(b[0] == b'+' || b[0] == b'-') || b[3] != b':' || !o.is_char_boundary(1) {
        return false;
    }
    matches!((num(&o[1..3]), num(&o[4..6])), (Some(h), Some(m)) if h <= 23 && m <= 59)
}

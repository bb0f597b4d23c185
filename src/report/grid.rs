//! Text laid out in columns measured in display width (`unicode-width`), for the text
//! report: lines never end in spaces, colour codes are added after a cell is placed (so
//! they never move a column), and a cell wider than its column pushes only what follows
//! it on that line, which falls back into its column as soon as there is room.

use unicode_width::UnicodeWidthStr;

/// Display width of `s` (terminal columns).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// A colour for a cell (SGR foreground).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    Green,
    Red,
    Yellow,
}

impl Paint {
    fn sgr(self) -> &'static str {
        match self {
            Paint::Green => "\x1b[32m",
            Paint::Red => "\x1b[31m",
            Paint::Yellow => "\x1b[33m",
        }
    }
}

/// `s` in `paint` when `on`.
pub fn painted(s: &str, paint: Option<Paint>, on: bool) -> String {
    match paint {
        Some(p) if on && !s.is_empty() => format!("{}{s}\x1b[0m", p.sgr()),
        _ => s.to_string(),
    }
}

/// `explain`'s text coloured line by line: its analysis warnings (`⚠ ...`) yellow, the
/// heading of a packet that carries RST red. Only whole lines get codes, so nothing
/// inside them moves.
pub fn paint_explain(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let paint = if body.trim_start().starts_with('⚠') {
            Some(Paint::Yellow)
        } else if body.starts_with("Frame ")
            && body
                .split(" seq=")
                .next()
                .is_some_and(|head| head.contains("RST"))
        {
            Some(Paint::Red)
        } else {
            None
        };
        let indent = body.len() - body.trim_start().len();
        out.push_str(&body[..indent]);
        out.push_str(&painted(&body[indent..], paint, true));
        out.push_str(nl);
    }
    out
}

/// One line being written cell by cell. Padding is written only in front of a cell with
/// text, so a line never ends in spaces.
pub struct Line {
    buf: String,
    pos: usize,
    color: bool,
}

impl Line {
    pub fn new(color: bool) -> Line {
        Line {
            buf: String::new(),
            pos: 0,
            color,
        }
    }

    /// Place `text` in the column starting at `start`, `w` wide (right-aligned when
    /// `right`). At least one space separates it from the cell before.
    pub fn cell(&mut self, text: &str, start: usize, w: usize, right: bool, paint: Option<Paint>) {
        if text.is_empty() {
            return;
        }
        let tw = width(text);
        let wanted = if right && tw < w {
            start + (w - tw)
        } else {
            start
        };
        let earliest = if self.pos == 0 && self.buf.is_empty() {
            0
        } else {
            self.pos + 1
        };
        let at = wanted.max(earliest);
        self.buf.extend(std::iter::repeat_n(' ', at - self.pos));
        self.buf.push_str(&painted(text, paint, self.color));
        self.pos = at + tw;
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

/// `s` shortened to `w` columns with `…` in the middle, keeping its end (a port, a
/// marker) whole: `[2001:db8:…:7334]:443`. An IPv6 endpoint `[addr]:port` is cut inside
/// the address only, so the port is never cut. Unchanged when it fits, or when even the
/// port would not fit.
pub fn shorten_endpoint(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    // The part kept whole: `]:port` plus any marker after it. An IPv4 endpoint is all
    // digits: never shortened.
    let Some(tail_at) = s.rfind("]:").filter(|_| s.starts_with('[')) else {
        return s.to_string();
    };
    let (addr, tail) = s.split_at(tail_at);
    let addr_chars: Vec<char> = addr.chars().collect();
    let tail_w = width(tail);
    // `[` + at least one char each side + `…` + tail.
    if w < tail_w + 4 || addr_chars.len() < 4 {
        return s.to_string();
    }
    let room = w - tail_w - 1;
    let back = room / 2;
    let front = room - back;
    let head: String = addr_chars[..front].iter().collect();
    let end: String = addr_chars[addr_chars.len() - back..].iter().collect();
    format!("{head}…{end}{tail}")
}

/// A name shortened to `w` columns, ending in `…` (names only: never a number).
pub fn shorten_name(s: &str, w: usize) -> String {
    if width(s) <= w || w < 2 {
        return s.to_string();
    }
    let mut out = String::new();
    for ch in s.chars() {
        if width(&out) + unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0) + 1 > w {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// `items` joined by `, ` into lines of at most `w` columns (an item wider than that gets
/// a line of its own, whole).
pub fn wrap_items(items: &[String], w: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for it in items {
        if cur.is_empty() {
            cur = it.clone();
        } else if width(&cur) + 2 + width(it) < w {
            // `<`, not `<=`: room for the trailing comma the line keeps when it wraps.
            cur.push_str(", ");
            cur.push_str(it);
        } else {
            cur.push(',');
            lines.push(std::mem::take(&mut cur));
            cur = it.clone();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_pad_before_never_after() {
        let mut l = Line::new(false);
        l.cell("1", 0, 3, true, None);
        l.cell("ab", 5, 4, false, None);
        l.cell("", 11, 4, false, None);
        assert_eq!(l.finish(), "  1  ab");
    }

    #[test]
    fn an_overflowing_cell_pushes_only_until_there_is_room() {
        let mut l = Line::new(false);
        l.cell("abcdefgh", 0, 4, false, None);
        l.cell("x", 6, 2, false, None);
        l.cell("7", 10, 3, true, None);
        assert_eq!(l.finish(), "abcdefgh x  7");
    }

    #[test]
    fn colour_does_not_move_columns() {
        let mut l = Line::new(true);
        l.cell("SF", 0, 4, false, Some(Paint::Green));
        l.cell("9", 6, 2, true, None);
        assert_eq!(l.finish(), "\x1b[32mSF\x1b[0m     9");
    }

    #[test]
    fn ipv6_endpoints_keep_their_port() {
        let s = "[2001:db8:85a3::8a2e:370:7334]:443";
        let short = shorten_endpoint(s, 20);
        assert_eq!(width(&short), 20);
        assert!(short.ends_with("]:443"), "{short}");
        assert!(short.starts_with("[2001"), "{short}");
        assert!(short.contains('…'));
        assert_eq!(shorten_endpoint("10.0.0.1:80", 5), "10.0.0.1:80");
    }

    #[test]
    fn explain_warnings_and_resets_are_coloured_whole_lines() {
        let t = "Frame 2  +0.1 s  server → client  RST, ACK seq=1 ack=1\n    ⚠ Dup ACK\nplain\n";
        assert_eq!(
            paint_explain(t),
            "\x1b[31mFrame 2  +0.1 s  server → client  RST, ACK seq=1 ack=1\x1b[0m\n    \x1b[33m⚠ Dup ACK\x1b[0m\nplain\n"
        );
    }

    #[test]
    fn names_shorten_with_an_ellipsis() {
        assert_eq!(shorten_name("reset_during_handshake", 10), "reset_dur…");
        assert_eq!(shorten_name("complete", 10), "complete");
    }

    #[test]
    fn items_wrap_at_commas() {
        let items: Vec<String> = ["retrans 3", "dup-ack 12", "lost 1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            wrap_items(&items, 22),
            vec!["retrans 3, dup-ack 12,", "lost 1"]
        );
        assert_eq!(
            wrap_items(&items, 200),
            vec!["retrans 3, dup-ack 12, lost 1"]
        );
    }
}

//! Fitting text into a width without ever cutting a value: a field is shown whole or not
//! at all. Labels shrink by dropping fields in a fixed order and end with `…` when
//! something was dropped; free text is cut only between words; times keep enough digits
//! to differ from their neighbours. Pure functions, no terminal.

use ratatui::text::Span;

/// Display width of `s` in terminal cells (as ratatui measures it).
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` padded to `w` cells (on the left when `right`), or blank when it does not fit:
/// never a prefix of it.
pub fn pad_whole(s: &str, w: usize, right: bool) -> String {
    let n = width(s);
    if n > w {
        " ".repeat(w)
    } else if right {
        format!("{}{s}", " ".repeat(w - n))
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// `s` whole when it fits in `w` cells, else `…` (empty when `w` is 0).
pub fn whole(s: &str, w: usize) -> String {
    if width(s) <= w {
        s.to_string()
    } else if w == 0 {
        String::new()
    } else {
        "…".to_string()
    }
}

/// `s` when it fits in `w` cells; else its longest run of whole words (split at spaces)
/// that fits with a trailing `…`; a word is never cut, so no number is either.
pub fn cut_words(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for (k, word) in s.split(' ').enumerate() {
        let sep = usize::from(k > 0);
        let ww = width(word);
        // Room for this word and the ellipsis after it.
        if used + sep + ww + 1 > w {
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        used += sep + ww;
    }
    out.push('…');
    out
}

/// A header-tree line `Name: value` in `w` cells: whole when it fits; else the name cut
/// (it is words) and the value kept whole (`Acknowl…: 2402399860`); else whole words.
pub fn fit_name_value(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if let Some(i) = s.find(": ") {
        let (name, value) = (&s[..i], &s[i..]);
        let vw = width(value);
        if vw + 2 <= w {
            let mut cut = String::new();
            for ch in name.chars() {
                if width(&cut) + width(ch.encode_utf8(&mut [0; 4])) + 1 + vw > w {
                    break;
                }
                cut.push(ch);
            }
            // A name cut after a digit would read as another number: back to a letter.
            while cut.ends_with(|c: char| c.is_ascii_digit()) {
                cut.pop();
            }
            if !cut.is_empty() {
                return format!("{cut}…{value}");
            }
        }
    }
    cut_words(s, w)
}

/// An endpoint (`127.0.0.1:37970`) in `w` cells: whole, else its port alone (`:37970`),
/// else nothing; never cut mid-number.
pub fn fit_endpoint(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    match s.rfind(':') {
        Some(i) if width(&s[i..]) < w => format!("…{}", &s[i..]),
        _ => String::new(),
    }
}

/// One piece of a label, and when it is given up.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    /// The full text.
    pub text: String,
    /// A shorter form used from step `short_at` on (flag words become letters).
    pub short: Option<(usize, String)>,
    /// Dropped from step `drop_at` on (usize::MAX: never).
    pub drop_at: usize,
}

impl Piece {
    pub fn new(text: impl Into<String>, drop_at: usize) -> Piece {
        Piece {
            text: text.into(),
            short: None,
            drop_at,
        }
    }

    pub fn with_short(mut self, at: usize, s: impl Into<String>) -> Piece {
        self.short = Some((at, s.into()));
        self
    }

    fn at(&self, step: usize) -> Option<&str> {
        if step >= self.drop_at {
            return None;
        }
        match &self.short {
            Some((k, s)) if step >= *k => Some(s),
            _ => Some(&self.text),
        }
    }
}

/// The pieces joined by spaces in `w` cells: at step 0 every piece whole; each further
/// step drops or shortens the pieces whose step it is; the first step that fits wins, and
/// ends with `…` when anything was dropped or shortened. `…` alone when nothing fits.
pub fn fit_pieces(pieces: &[Piece], w: usize) -> String {
    let last = pieces
        .iter()
        .flat_map(|p| [p.drop_at, p.short.as_ref().map_or(0, |s| s.0)])
        .filter(|&s| s != usize::MAX)
        .max()
        .unwrap_or(0);
    for step in 0..=last {
        let parts: Vec<&str> = pieces.iter().filter_map(|p| p.at(step)).collect();
        let mut s = parts.join(" ");
        let lost = pieces.iter().any(|p| p.at(step) != Some(p.text.as_str()));
        if lost {
            s.push('…');
        }
        if width(&s) <= w {
            return s;
        }
    }
    whole("…", w)
}

/// Digits after the decimal point that tell `t` (ns) from its neighbours: at least 3
/// (milliseconds), at most 9; a neighbour equal to `t` does not count.
pub fn time_digits(t: i64, neighbours: &[i64]) -> usize {
    for d in 3..9 {
        let unit = 10i64.pow(9 - d as u32);
        let r = |x: i64| (x + unit / 2).div_euclid(unit);
        if neighbours.iter().all(|&n| n == t || r(n) != r(t)) {
            return d;
        }
    }
    9
}

/// `t` ns as seconds with `d` decimals, rounded (`0.000123`, `12.5`).
pub fn fmt_secs(t: i64, d: usize) -> String {
    let d = d.min(9);
    let unit = 10i64.pow(9 - d as u32);
    let q = (t + unit / 2).div_euclid(unit);
    let scale = 10i64.pow(d as u32);
    let (s, frac) = (q.div_euclid(scale), q.rem_euclid(scale));
    if d == 0 {
        format!("{s}")
    } else {
        format!("{s}.{frac:0d$}")
    }
}

/// The relative time of element `i` of `ts` (ns since the first), with the digits that
/// tell it from elements `i-1` and `i+1`.
pub fn rel_time(ts: &[i64], i: usize) -> String {
    let t0 = ts.first().copied().unwrap_or(0);
    let t = ts[i] - t0;
    let mut nb = Vec::with_capacity(2);
    if i > 0 {
        nb.push(ts[i - 1] - t0);
    }
    if let Some(n) = ts.get(i + 1) {
        nb.push(n - t0);
    }
    fmt_secs(t, time_digits(t, &nb))
}

/// Relative times (ns since `ts[0]`) of `ts[range]`, all with the same number of
/// decimals: as many as the row that needs the most to differ from its neighbours (so
/// the column stays aligned and no two different times read alike).
pub fn rel_times(ts: &[i64], range: std::ops::Range<usize>) -> Vec<String> {
    let t0 = ts.first().copied().unwrap_or(0);
    let digits = |i: usize| {
        let mut nb = Vec::with_capacity(2);
        if i > 0 {
            nb.push(ts[i - 1] - t0);
        }
        if let Some(n) = ts.get(i + 1) {
            nb.push(n - t0);
        }
        time_digits(ts[i] - t0, &nb)
    };
    let d = range.clone().map(digits).max().unwrap_or(3);
    range.map(|i| fmt_secs(ts[i] - t0, d)).collect()
}

/// Flags as letters: `SYN, ACK` → `SA`.
pub fn flag_letters(words: &str) -> String {
    words.split(", ").filter_map(|w| w.chars().next()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_never_cut() {
        assert_eq!(cut_words("seq=62518 ack=1", 12), "seq=62518…");
        assert_eq!(cut_words("seq=62518 ack=1", 8), "…");
        assert_eq!(cut_words("abc", 3), "abc");
    }

    #[test]
    fn name_value_keeps_the_value() {
        let s = "Acknowledgment number (raw): 2402399860";
        let f = fit_name_value(s, 30);
        assert!(f.ends_with(": 2402399860") && width(&f) <= 30, "{f}");
    }

    #[test]
    fn endpoints_whole_or_port_or_nothing() {
        assert_eq!(fit_endpoint("127.0.0.1:37970", 15), "127.0.0.1:37970");
        assert_eq!(fit_endpoint("127.0.0.1:37970", 14), "…:37970");
        assert_eq!(fit_endpoint("127.0.0.1:37970", 5), "");
    }

    #[test]
    fn pieces_drop_in_order() {
        let p = [
            Piece::new("PSH, ACK", usize::MAX).with_short(4, "PA"),
            Piece::new("seq=62518", usize::MAX),
            Piece::new("ack=1", 3),
            Piece::new("len=305", 2),
            Piece::new("win=64512", 1),
        ];
        assert_eq!(
            fit_pieces(&p, 60),
            "PSH, ACK seq=62518 ack=1 len=305 win=64512"
        );
        assert_eq!(fit_pieces(&p, 33), "PSH, ACK seq=62518 ack=1 len=305…");
        assert_eq!(fit_pieces(&p, 25), "PSH, ACK seq=62518 ack=1…");
        assert_eq!(fit_pieces(&p, 19), "PSH, ACK seq=62518…");
        assert_eq!(fit_pieces(&p, 13), "PA seq=62518…");
        assert_eq!(fit_pieces(&p, 5), "…");
    }

    #[test]
    fn times_differ_from_neighbours() {
        assert_eq!(time_digits(700_000, &[700_100]), 7);
        assert_eq!(time_digits(700_000, &[800_000]), 4);
        assert_eq!(time_digits(700_000, &[2_000_000]), 3);
        assert_eq!(time_digits(700_000, &[700_001]), 9);
        assert_eq!(
            time_digits(700_000, &[700_000]),
            3,
            "an equal time does not count"
        );
        assert_eq!(fmt_secs(700_000, 4), "0.0007");
        assert_eq!(fmt_secs(12_345_678_900, 3), "12.346");
        assert_eq!(rel_time(&[5, 5, 1_000_005], 1), "0.000");
    }
}

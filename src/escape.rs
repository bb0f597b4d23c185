//! Making capture-derived text safe to put on a terminal.
//!
//! A capture is attacker-controlled: a raw ESC, C1 control or DEL in an HTTP header or
//! body could rewrite the user's terminal (title, clipboard, cursor). Every string that
//! comes from captured bytes goes through [`escape`] (or [`escape_bytes`]) before it is
//! handed to a widget. Printable Unicode is kept; everything else becomes visible text.

/// Escape a string for display: ESC as `^[`, other C0 controls as `^X` (caret notation),
/// tab as `\t`, CR as `\r`, LF as `\n` (or kept when `keep_newlines`), DEL as `^?`, C1
/// controls (U+0080..U+009F) and other non-printables (bidi overrides, zero-width
/// characters, private-use) as `\u{XXXX}`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_char(&mut out, c, false);
    }
    out
}

/// Like [`escape`] but keeps `\n` as a real line break (the caller splits lines).
pub fn escape_multiline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_char(&mut out, c, true);
    }
    out
}

/// Escape raw bytes: valid UTF-8 runs as in [`escape`], invalid bytes as `\xNN`.
pub fn escape_bytes(b: &[u8], keep_newlines: bool) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c, keep_newlines);
        }
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02X}"));
        }
    }
    out
}

fn push_char(out: &mut String, c: char, keep_newlines: bool) {
    match c {
        '\n' if keep_newlines => out.push('\n'),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{1b}' => out.push_str("^["),
        '\u{7f}' => out.push_str("^?"),
        c if (c as u32) < 0x20 => {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        }
        c if is_unsafe(c) => out.push_str(&format!("\\u{{{:04X}}}", c as u32)),
        c => out.push(c),
    }
}

/// Characters that are not C0/DEL but still must not reach the terminal raw.
pub(crate) fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    (0x80..=0x9F).contains(&u)                 // C1 controls (CSI = U+009B, OSC = U+009D)
        || (0x200B..=0x200F).contains(&u)      // zero-width, LRM/RLM
        || (0x202A..=0x202E).contains(&u)      // bidi embeddings/overrides
        || (0x2066..=0x2069).contains(&u)      // bidi isolates
        || u == 0xFEFF                          // BOM / zero-width no-break space
        || u == 0x00AD                          // soft hyphen (invisible)
        || (0xE000..=0xF8FF).contains(&u)      // private use
        || (0xFFF0..=0xFFFF).contains(&u)      // specials
        || u >= 0xF0000 // supplementary private use
}

/// True when every char of `s` would pass through [`escape`] unchanged except newlines.
pub fn is_clean(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\n' || !((c as u32) < 0x20 || c == '\u{7f}' || is_unsafe(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_esc_sequences() {
        assert_eq!(escape("\u{1b}[31mred\u{1b}[0m"), "^[[31mred^[[0m");
        assert_eq!(escape("\u{1b}]0;pwned\u{7}"), "^[]0;pwned^G");
    }

    #[test]
    fn escapes_c0_del_and_whitespace_controls() {
        assert_eq!(escape("a\u{0}b"), "a^@b");
        assert_eq!(escape("\u{7f}"), "^?");
        assert_eq!(escape("a\tb\r\n"), "a\\tb\\r\\n");
        assert_eq!(escape_multiline("a\r\nb"), "a\\r\nb");
    }

    #[test]
    fn escapes_c1_controls_and_invisible_unicode() {
        assert_eq!(escape("\u{9b}31m"), "\\u{009B}31m");
        assert_eq!(escape("\u{202e}abc"), "\\u{202E}abc");
        assert_eq!(escape("x\u{200b}y"), "x\\u{200B}y");
    }

    #[test]
    fn keeps_printable_unicode() {
        assert_eq!(escape("héllo wörld → ✓ 日本"), "héllo wörld → ✓ 日本");
    }

    #[test]
    fn invalid_utf8_as_hex() {
        assert_eq!(
            escape_bytes(b"ok\xff\xfe\x1b[2J", false),
            "ok\\xFF\\xFE^[[2J"
        );
        // A raw C1 byte is invalid UTF-8 on its own.
        assert_eq!(escape_bytes(b"\x9b", false), "\\x9B");
    }

    #[test]
    fn output_never_contains_controls() {
        let all: Vec<u8> = (0u8..=255).collect();
        let s = escape_bytes(&all, false);
        assert!(s.chars().all(|c| !c.is_control()), "{s:?}");
        assert!(is_clean(&s));
    }
}

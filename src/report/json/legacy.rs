//! The JSON writer the reports used until 2026-12-01 (serde_json with a `Safe` and a
//! `Pretty` formatter), kept for the tests only: `fast` must write the same bytes.

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use std::io::{self, Write};

/// A serde_json formatter that also escapes the characters `escape::is_unsafe` names.
struct Safe<F>(F);

impl<F: Formatter> Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        // No ASCII character is in the set (C0 controls never reach here: serde_json
        // escapes them itself), and most strings are ASCII: checked a word at a time.
        if s.is_ascii() {
            return w.write_all(s.as_bytes());
        }
        let mut from = 0;
        for (i, c) in s.char_indices() {
            if crate::escape::is_unsafe(c) {
                w.write_all(&s.as_bytes()[from..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                from = i + c.len_utf8();
            }
        }
        w.write_all(&s.as_bytes()[from..])
    }

    // Everything else as the wrapped formatter does it.
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// serde_json's `PrettyFormatter` (two spaces a level), byte for byte, but writing each
/// line's indentation in one piece: serde_json writes it two bytes at a time, which was
/// ~3% of a whole JSON report's CPU time.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn newline<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> io::Result<()> {
        // A comma, the line break and up to 64 levels of indentation, in one write (the
        // reports nest a dozen levels at most); deeper, the rest 128 spaces at a time.
        const LINE: &[u8; 130] = b",\n                                                                                                                                ";
        let mut n = self.level * 2;
        let first = n.min(128);
        let from = usize::from(!comma);
        w.write_all(&LINE[from..2 + first])?;
        n -= first;
        while n > 0 {
            let k = n.min(128);
            w.write_all(&LINE[2..2 + k])?;
            n -= k;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(c)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(c)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, !first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, !first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn write<W: Write, F: Formatter, T: ?Sized + Serialize>(w: W, f: F, v: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Safe(f));
    v.serialize(&mut ser).map_err(io::Error::from)
}

/// `serde_json::to_writer`, with the invisible characters escaped.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(w: W, v: &T) -> io::Result<()> {
    write(w, CompactFormatter, v)
}

/// `serde_json::to_writer_pretty`, with the invisible characters escaped.
pub fn to_writer_pretty<W: Write, T: ?Sized + Serialize>(w: W, v: &T) -> io::Result<()> {
    write(w, Pretty::default(), v)
}

#[cfg(test)]
mod tests {
    /// The ASCII fast path: every ASCII character passes (none is in the set), control
    /// characters are escaped by serde_json as before.
    #[test]
    fn legacy_ascii_passes_and_controls_stay_escaped() {
        assert!((0u8..0x80).all(|b| !crate::escape::is_unsafe(char::from(b))));
        let s = "GET /a?b=c \"q\" \\ \u{1b}[31m\t";
        let mut out = Vec::new();
        super::to_writer(&mut out, &s).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\"GET /a?b=c \\\"q\\\" \\\\ \\u001b[31m\\t\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn pretty_is_serde_jsons_byte_for_byte() {
        let mut deep = serde_json::json!({"leaf": [1, [], {}, "x"]});
        for i in 0..80 {
            deep = serde_json::json!({ format!("k{i}"): [deep, {"a": null, "b": []}], "z": {} });
        }
        for v in [
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([[{}]]),
            deep,
        ] {
            let mut ours = Vec::new();
            super::to_writer_pretty(&mut ours, &v).unwrap();
            assert_eq!(ours, serde_json::to_vec_pretty(&v).unwrap());
        }
    }

    #[test]
    fn bidi_zero_width_and_c1_are_escaped_and_read_back() {
        let s = "a\u{202e}b\u{200b}c\u{2066}\u{2069}\u{9b}\u{feff}\u{f0000}é";
        let mut out = Vec::new();
        super::to_writer(&mut out, &s).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            "\"a\\u202eb\\u200bc\\u2066\\u2069\\u009b\\ufeff\\udb80\\udc00é\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, s);
    }
}

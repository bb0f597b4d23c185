//! JSON strings in one pass: serde_json's escapes (`\"`, `\\`, `\n`, `\t`, ... and
//! `\u001b` for the other C0 controls) and the characters `escape::is_unsafe` names
//! (bidi, zero-width, C1, private use: `\u202e`, surrogate pairs above the BMP), the
//! same bytes serde_json with our former `Safe` formatter wrote.

/// Per byte: 0 passes, `NON_ASCII` starts a multi-byte character (checked against
/// `is_unsafe`), anything else is the letter after the backslash (`u` for `\u00XX`).
const NON_ASCII: u8 = 1;
static CLASS: [u8; 256] = class_table();

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    let mut b = 0x80;
    while b < 0x100 {
        t[b] = NON_ASCII;
        b += 1;
    }
    t
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True when `s` is written between quotes as it is (no byte escaped).
pub(super) fn is_plain(s: &str) -> bool {
    s.bytes().all(|b| CLASS[usize::from(b)] == 0)
}

/// `s` in quotes, escaped.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_contents(out, s);
    out.push(b'"');
}

/// `s` escaped, without quotes.
pub(super) fn write_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        let class = CLASS[usize::from(b)];
        if class == 0 {
            i += 1;
            continue;
        }
        if class == NON_ASCII {
            // `i` is always on a character boundary: only whole characters are skipped.
            let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            let n = c.len_utf8();
            if crate::escape::is_unsafe(c) {
                out.extend_from_slice(&bytes[start..i]);
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    push_u(out, u);
                }
                start = i + n;
            }
            i += n;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if class == b'u' {
            push_u(out, u16::from(b));
        } else {
            out.extend_from_slice(&[b'\\', class]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// `\uXXXX`, lowercase hex, as serde_json and `{:04x}` write it.
fn push_u(out: &mut Vec<u8>, u: u16) {
    let d = |shift: u16| HEX[usize::from((u >> shift) & 0xF)];
    out.extend_from_slice(&[b'\\', b'u', d(12), d(8), d(4), d(0)]);
}

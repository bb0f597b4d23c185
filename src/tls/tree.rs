//! The Packets view's TLS lines for one frame (pure): the TLS record headers that begin
//! in the frame's TCP payload (content type, version, length) and, for clear handshake
//! records, each handshake message's type and length, with the bytes each covers.
//!
//! One frame alone: only records whose header is at the payload's start, or follows a
//! record that ends inside it, are read (a segment that starts inside a record is not
//! guessed at); a record that goes on in later segments says so.

use super::names;
use crate::decode::tree::Field;

/// Records read per frame (a jumbo segment of tiny records stops here).
const MAX_RECORDS: usize = 64;

fn push(v: &mut Vec<Field>, depth: u8, text: String, at: usize, len: usize) {
    v.push(Field {
        depth,
        text,
        range: Some((at, len)),
    });
}

fn content_type(t: u8) -> &'static str {
    match t {
        20 => "ChangeCipherSpec",
        21 => "Alert",
        22 => "Handshake",
        23 => "Application Data",
        24 => "Heartbeat",
        _ => "unknown",
    }
}

/// The TLS lines of a frame whose TCP payload is `d[pay..]`; nothing when it does not
/// start with a plausible record header.
pub fn records(d: &[u8], pay: usize) -> Vec<Field> {
    let mut v = Vec::new();
    let mut at = pay;
    let mut n = 0;
    while let Some(h) = d.get(at..at + 5) {
        let (ct, major, minor) = (h[0], h[1], h[2]);
        if !(20..=24).contains(&ct) || major != 3 || minor > 4 || n == MAX_RECORDS {
            break;
        }
        if n == 0 {
            push(
                &mut v,
                0,
                "Transport Layer Security".into(),
                pay,
                d.len() - pay,
            );
        }
        n += 1;
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let have = (d.len() - at - 5).min(len);
        let more = if have < len {
            format!(" ({have} here, the rest in later segments)")
        } else {
            String::new()
        };
        let version = names::version(u16::from_be_bytes([major, minor]));
        push(
            &mut v,
            1,
            format!(
                "TLS record: {}, {version}, {len} bytes{more}",
                content_type(ct)
            ),
            at,
            5 + have,
        );
        push(
            &mut v,
            2,
            format!("Content type: {} ({ct})", content_type(ct)),
            at,
            1,
        );
        push(
            &mut v,
            2,
            format!("Version: {version} (0x03{minor:02x})"),
            at + 1,
            2,
        );
        push(&mut v, 2, format!("Length: {len}"), at + 3, 2);
        let body = &d[at + 5..at + 5 + have];
        match ct {
            22 => handshake(body, at + 5, &mut v),
            21 if body.len() >= 2 && len == 2 => push(
                &mut v,
                2,
                format!(
                    "Alert: {} {}",
                    names::alert_level(body[0]),
                    names::alert(body[1])
                ),
                at + 5,
                2,
            ),
            21 | 23 => push(
                &mut v,
                2,
                format!("Encrypted data: {have} bytes"),
                at + 5,
                have,
            ),
            _ => {}
        }
        at += 5 + have;
    }
    v
}

/// The handshake messages of a clear handshake record's body (at `at` in the frame).
fn handshake(body: &[u8], at: usize, v: &mut Vec<Field>) {
    let mut o = 0;
    while let Some(h) = body.get(o..o + 4) {
        let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
        let have = (body.len() - o - 4).min(len);
        let more = if have < len { ", continues" } else { "" };
        push(
            v,
            2,
            format!(
                "Handshake: {} ({}), {len} bytes{more}",
                names::handshake(h[0]),
                h[0]
            ),
            at + o,
            4 + have,
        );
        o += 4 + have;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[Field]) -> Vec<String> {
        v.iter()
            .map(|f| format!("{}{}", " ".repeat(f.depth.into()), f.text))
            .collect()
    }

    #[test]
    fn a_client_hello_and_two_records_in_one_segment() {
        let mut d = vec![0xaa; 3]; // headers before the payload
        d.extend([22, 3, 1, 0, 8, 1, 0, 0, 4, 9, 9, 9, 9]);
        d.extend([23, 3, 3, 0, 3, 1, 2, 3]);
        d.extend([21, 3, 3, 0, 2, 1, 0]);
        let v = records(&d, 3);
        assert_eq!(
            texts(&v),
            [
                "Transport Layer Security",
                " TLS record: Handshake, TLS 1.0, 8 bytes",
                "  Content type: Handshake (22)",
                "  Version: TLS 1.0 (0x0301)",
                "  Length: 8",
                "  Handshake: ClientHello (1), 4 bytes",
                " TLS record: Application Data, TLS 1.2, 3 bytes",
                "  Content type: Application Data (23)",
                "  Version: TLS 1.2 (0x0303)",
                "  Length: 3",
                "  Encrypted data: 3 bytes",
                " TLS record: Alert, TLS 1.2, 2 bytes",
                "  Content type: Alert (21)",
                "  Version: TLS 1.2 (0x0303)",
                "  Length: 2",
                "  Alert: warning close_notify",
            ]
        );
        assert_eq!(v[1].range, Some((3, 13)));
        assert_eq!(v[5].range, Some((8, 8)));
    }

    #[test]
    fn records_cut_by_the_segment_and_non_tls_bytes() {
        let d = [22, 3, 3, 0x40, 0, 2, 0, 0, 0x10, 1, 2];
        let v = records(&d, 0);
        assert_eq!(
            v[1].text,
            "TLS record: Handshake, TLS 1.2, 16384 bytes (6 here, the rest in later segments)"
        );
        assert_eq!(v[5].text, "Handshake: ServerHello (2), 16 bytes, continues");
        assert!(records(b"GET / HTTP/1.1\r\n", 0).is_empty());
        assert!(records(&[22, 3], 0).is_empty());
        // Any bytes: never a panic, never a range outside the frame.
        for n in 0..64u8 {
            let d: Vec<u8> = (0..n)
                .map(|i| [22, 3, 3, 0, 255][usize::from(i) % 5])
                .collect();
            for f in records(&d, 0) {
                let (a, l) = f.range.unwrap();
                assert!(a + l <= d.len());
            }
        }
    }
}

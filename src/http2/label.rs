//! Ladder labels for HTTP/2 frames: `HEADERS s1 GET /big.bin`, `DATA s3 16 kB`,
//! `WINDOW_UPDATE s0 +65535`. Pure: a frame record in, a short line out.
//!
//! Owns: the wording of a frame on one line. Must not touch parsing.

use super::frame::FrameType;
use super::summary::FrameRecord;

/// The ladder's label for one frame (captured text escaped by the caller's renderer).
pub fn frame_label(f: &FrameRecord) -> String {
    let mut s = match f.type_byte {
        Some(t) => format!("UNKNOWN(0x{t:02x}) s{}", f.stream),
        None => format!("{} s{}", f.ty.name(), f.stream),
    };
    match f.ty {
        FrameType::Data => {
            s.push(' ');
            s.push_str(&size(f.len));
        }
        FrameType::Settings | FrameType::Ping if f.flags.iter().any(|x| x == "ACK") => {
            s.push_str(" ACK");
        }
        _ => {}
    }
    if let Some(w) = &f.what {
        s.push(' ');
        s.push_str(w);
    }
    if f.flags.iter().any(|x| x == "END_STREAM") {
        s.push_str(" END_STREAM");
    }
    s
}

/// A payload size, whole: bytes below 1 kB, else kB (1024) rounded.
fn size(n: u32) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{} kB", (u64::from(n) + 512) / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Dir;
    use crate::ts::Ts;

    fn rec(
        ty: FrameType,
        stream: u32,
        len: u32,
        flags: &[&str],
        what: Option<&str>,
    ) -> FrameRecord {
        FrameRecord {
            dir: Dir::Client,
            ty,
            type_byte: None,
            flags: flags.iter().map(|s| s.to_string()).collect(),
            stream,
            len,
            frame: 1,
            ts: Ts::default(),
            what: what.map(str::to_string),
            detail: None,
        }
    }

    #[test]
    fn labels_as_the_issue_writes_them() {
        let h = rec(
            FrameType::Headers,
            1,
            30,
            &["END_HEADERS"],
            Some("GET /big.bin"),
        );
        assert_eq!(frame_label(&h), "HEADERS s1 GET /big.bin");
        assert_eq!(
            frame_label(&rec(FrameType::Data, 3, 16_384, &[], None)),
            "DATA s3 16 kB"
        );
        let w = rec(FrameType::WindowUpdate, 0, 4, &[], Some("+65535"));
        assert_eq!(frame_label(&w), "WINDOW_UPDATE s0 +65535");
        let d = rec(FrameType::Data, 1, 18, &["END_STREAM"], None);
        assert_eq!(frame_label(&d), "DATA s1 18 B END_STREAM");
        assert_eq!(
            frame_label(&rec(FrameType::Settings, 0, 0, &["ACK"], None)),
            "SETTINGS s0 ACK"
        );
    }
}

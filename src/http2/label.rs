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

/// The HTTP/2 frames each TCP frame completed: their labels in order, and the first
/// stream other than 0 among them (the one the ladder marks), by TCP frame.
pub fn by_frame(
    frames: &[FrameRecord],
) -> std::collections::BTreeMap<u64, (Vec<String>, Option<u32>)> {
    let mut out: std::collections::BTreeMap<u64, (Vec<String>, Option<u32>)> =
        std::collections::BTreeMap::new();
    for f in frames {
        let e = out.entry(f.frame).or_default();
        e.0.push(frame_label(f));
        if f.stream != 0 && e.1.is_none() {
            e.1 = Some(f.stream);
        }
    }
    out
}

/// Several frames' labels on one line: all of them joined with ` + `, and the short form
/// the first alone, without its END_STREAM, with how many more
/// (`HEADERS s1 GET /a +2 more`).
pub fn joined(labels: &[String]) -> (String, String) {
    let full = labels.join(" + ");
    let bare = |l: &str| l.strip_suffix(" END_STREAM").unwrap_or(l).to_string();
    let short = match labels {
        [] => String::new(),
        [one] => bare(one),
        [first, rest @ ..] => format!("{} +{} more", bare(first), rest.len()),
    };
    (full, short)
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

    #[test]
    fn frames_of_one_segment_join_or_shorten() {
        let mut a = rec(FrameType::Settings, 0, 0, &[], None);
        a.frame = 12;
        let mut b = rec(FrameType::Headers, 1, 30, &[], Some("GET /a"));
        b.frame = 12;
        let mut c = rec(FrameType::Headers, 3, 30, &[], Some("GET /b"));
        c.frame = 12;
        let mut d = rec(FrameType::Data, 3, 2048, &[], None);
        d.frame = 14;
        let by = by_frame(&[a, b, c, d]);
        assert_eq!(by[&12].1, Some(1));
        assert_eq!(by[&14].1, Some(3));
        let (full, short) = joined(&by[&12].0);
        assert_eq!(full, "SETTINGS s0 + HEADERS s1 GET /a + HEADERS s3 GET /b");
        assert_eq!(short, "SETTINGS s0 +2 more");
        assert_eq!(joined(&by[&14].0).1, "DATA s3 2 kB");
        let end = ["HEADERS s1 GET /a END_STREAM".to_string()];
        assert_eq!(joined(&end).1, "HEADERS s1 GET /a");
    }
}

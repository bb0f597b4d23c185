//! The HTTP/2 frame layer's vocabulary (RFC 9113 §4, §6, §7, §11): the 9-byte frame
//! header, frame types and their flags by name, SETTINGS parameters and error codes.
//!
//! Owns: byte layouts and names only. Must not touch per-direction state or streams.

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Bytes of a frame header.
pub const HEADER_LEN: usize = 9;

/// SETTINGS_MAX_FRAME_SIZE before any SETTINGS (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME: u32 = 16_384;

/// The initial flow-control window of the connection and of each stream (§6.9.2).
pub const DEFAULT_WINDOW: i64 = 65_535;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameType {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    Goaway,
    WindowUpdate,
    Continuation,
    /// A type this implementation does not know (kept: RFC 9113 §4.1 says ignore it).
    Unknown(u8),
}

impl FrameType {
    pub fn from_u8(t: u8) -> Self {
        match t {
            0 => FrameType::Data,
            1 => FrameType::Headers,
            2 => FrameType::Priority,
            3 => FrameType::RstStream,
            4 => FrameType::Settings,
            5 => FrameType::PushPromise,
            6 => FrameType::Ping,
            7 => FrameType::Goaway,
            8 => FrameType::WindowUpdate,
            9 => FrameType::Continuation,
            other => FrameType::Unknown(other),
        }
    }

    /// The RFC's name (`UNKNOWN` for the others: the type byte is kept beside it).
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Data => "DATA",
            FrameType::Headers => "HEADERS",
            FrameType::Priority => "PRIORITY",
            FrameType::RstStream => "RST_STREAM",
            FrameType::Settings => "SETTINGS",
            FrameType::PushPromise => "PUSH_PROMISE",
            FrameType::Ping => "PING",
            FrameType::Goaway => "GOAWAY",
            FrameType::WindowUpdate => "WINDOW_UPDATE",
            FrameType::Continuation => "CONTINUATION",
            FrameType::Unknown(_) => "UNKNOWN",
        }
    }

    /// The defined flags of this type: (bit, name).
    fn flag_table(self) -> &'static [(u8, &'static str)] {
        match self {
            FrameType::Data => &[(0x1, "END_STREAM"), (0x8, "PADDED")],
            FrameType::Headers => &[
                (0x1, "END_STREAM"),
                (0x4, "END_HEADERS"),
                (0x8, "PADDED"),
                (0x20, "PRIORITY"),
            ],
            FrameType::Settings | FrameType::Ping => &[(0x1, "ACK")],
            FrameType::PushPromise => &[(0x4, "END_HEADERS"), (0x8, "PADDED")],
            FrameType::Continuation => &[(0x4, "END_HEADERS")],
            _ => &[],
        }
    }

    /// The set flags by name; undefined bits as `0xNN`.
    pub fn flag_names(self, flags: u8) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = flags;
        for &(bit, name) in self.flag_table() {
            if flags & bit != 0 {
                out.push(name.to_string());
                rest &= !bit;
            }
        }
        if rest != 0 {
            out.push(format!("0x{rest:02x}"));
        }
        out
    }
}

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY: u8 = 0x20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub len: u32,
    pub ty: FrameType,
    pub flags: u8,
    /// Stream identifier (31 bits; the reserved bit is dropped).
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; HEADER_LEN]) -> Self {
        let [l0, l1, l2, t, flags, s0, s1, s2, s3] = *b;
        FrameHeader {
            len: u32::from_be_bytes([0, l0, l1, l2]),
            ty: FrameType::from_u8(t),
            flags,
            stream: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
        }
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A SETTINGS parameter's name (RFC 9113 §6.5.2, RFC 8441, RFC 9218); unknown ones as hex.
pub fn setting_name(id: u16) -> String {
    match id {
        1 => "SETTINGS_HEADER_TABLE_SIZE".into(),
        2 => "SETTINGS_ENABLE_PUSH".into(),
        3 => "SETTINGS_MAX_CONCURRENT_STREAMS".into(),
        4 => "SETTINGS_INITIAL_WINDOW_SIZE".into(),
        5 => "SETTINGS_MAX_FRAME_SIZE".into(),
        6 => "SETTINGS_MAX_HEADER_LIST_SIZE".into(),
        8 => "SETTINGS_ENABLE_CONNECT_PROTOCOL".into(),
        9 => "SETTINGS_NO_RFC7540_PRIORITIES".into(),
        other => format!("0x{other:04x}"),
    }
}

pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 1;
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 4;
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 5;

/// An error code's name (RFC 9113 §7); unknown ones as hex.
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("0x{code:x}"), |s| (*s).to_string())
}

/// A big-endian u32 at `at` (None when short).
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The fragment of a HEADERS or PUSH_PROMISE payload after padding and the priority or
/// promised-stream fields: (fragment, promised stream). None when the lengths do not fit
/// (a PROTOCOL_ERROR).
pub fn header_fragment<'a>(h: &FrameHeader, p: &'a [u8]) -> Option<(&'a [u8], Option<u32>)> {
    let mut start = 0usize;
    let mut pad = 0usize;
    if h.has(PADDED) {
        pad = usize::from(*p.first()?);
        start = 1;
    }
    let mut promised = None;
    match h.ty {
        FrameType::Headers if h.has(PRIORITY) => start += 5,
        FrameType::PushPromise => {
            promised = Some(be32(p, start)? & 0x7fff_ffff);
            start += 4;
        }
        _ => {}
    }
    let end = p.len().checked_sub(pad)?;
    Some((p.get(start..end)?, promised))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = FrameHeader::parse(&[0xff, 0xff, 0xff, 1, 0x25, 0x80, 0, 0, 3]);
        assert_eq!(h.len, (1 << 24) - 1);
        assert_eq!(h.ty, FrameType::Headers);
        assert_eq!(h.stream, 3, "the reserved bit is not part of the id");
        assert_eq!(
            h.ty.flag_names(h.flags),
            vec!["END_STREAM", "END_HEADERS", "PRIORITY"]
        );
        assert_eq!(FrameType::from_u8(0x42).name(), "UNKNOWN");
        assert_eq!(FrameType::Data.flag_names(0x41), vec!["END_STREAM", "0x40"]);
        assert_eq!(error_name(8), "CANCEL");
        assert_eq!(error_name(0x99), "0x99");
        assert_eq!(setting_name(4), "SETTINGS_INITIAL_WINDOW_SIZE");
    }

    #[test]
    fn fragments() {
        let h = FrameHeader {
            len: 0,
            ty: FrameType::Headers,
            flags: PADDED | PRIORITY,
            stream: 1,
        };
        let p = [2, 0, 0, 0, 0, 16, b'a', b'b', 0, 0];
        assert_eq!(header_fragment(&h, &p), Some((&b"ab"[..], None)));
        assert_eq!(
            header_fragment(&h, &[200, 1, 2]),
            None,
            "padding longer than the frame"
        );
        let pp = FrameHeader {
            ty: FrameType::PushPromise,
            flags: 0,
            ..h
        };
        assert_eq!(
            header_fragment(&pp, &[0, 0, 0, 2, b'x']),
            Some((&b"x"[..], Some(2)))
        );
    }
}

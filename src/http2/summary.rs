//! The connection's HTTP/2 facts as the JSON has them (`"http2": {...}`, docs/json.md):
//! SETTINGS per side, frame counts, GOAWAY, RST_STREAMs, flow-control windows over time,
//! PING round trips, HPACK failures; and the frame list the ladder labels.
//!
//! Owns: the serialized shape. Must not touch parsing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::frame::FrameType;
use super::{Dir, FrameCounts, PerSide};
use crate::http::Anomaly;
use crate::ts::Ts;

/// Window samples kept per connection (each WINDOW_UPDATE, each window reaching zero).
pub const MAX_WINDOW_SAMPLES: usize = 2000;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Http2Summary {
    /// `prior-knowledge` (the client preface first) or `upgrade` (HTTP/1.1 Upgrade: h2c).
    pub origin: &'static str,
    /// Each side's SETTINGS, by parameter name, the last value sent.
    pub settings: PerSide<BTreeMap<String, u32>>,
    /// Frames each side sent, by type name (`UNKNOWN` for types outside RFC 9113).
    pub frames: PerSide<FrameCounts>,
    /// The last GOAWAY, if any.
    pub goaway: Option<Goaway>,
    pub rst_streams: Vec<RstRecord>,
    /// Times a sender's connection or stream window reached zero or below after DATA.
    pub window_blocked: u64,
    /// Header blocks not decoded (HPACK error, or the table unknown after a loss).
    pub hpack_failures: u64,
    /// Send windows over time: after each WINDOW_UPDATE and each DATA that exhausted one.
    pub windows: Vec<WindowSample>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub windows_truncated: bool,
    /// PING round trips (a PING to its ACK, as seen at the capture point).
    pub pings: Vec<PingRtt>,
    /// Streams opened, and those past the cap not listed in `http`.
    pub streams: u64,
    pub streams_not_listed: u64,
    /// Bytes not parsed as frames (after a gap broke the framing, or a bad preface).
    pub unparsed_bytes: PerSide<u64>,
    /// Where each direction's framing was lost in a gap, and what was not parsed after it
    /// (absent when no direction lost its framing).
    #[serde(skip_serializing_if = "UnparsedAfterGap::is_empty")]
    pub unparsed_after_gap: UnparsedAfterGap,
    pub anomalies: Vec<Anomaly>,
    /// Every frame in order (not serialized: the ladder and explain read it).
    #[serde(skip)]
    pub frame_list: Vec<FrameRecord>,
    #[serde(skip)]
    pub frame_list_truncated: bool,
    /// The packet that completed the client's connection preface (explain).
    #[serde(skip)]
    pub preface_frame: Option<u64>,
    /// Header fields kept for explain so far (bounded by `MAX_SHOWN_FIELDS`).
    #[serde(skip)]
    pub shown_fields: usize,
}

/// Header fields kept (name, value, representation) for explain, per connection.
pub const MAX_SHOWN_FIELDS: usize = 4096;

/// Characters of a field value kept for explain.
pub const SHOWN_VALUE_CHARS: usize = 96;

impl Http2Summary {
    /// The server's GOAWAY last stream id: client streams above it were never processed.
    pub fn goaway_last_stream(&self) -> Option<u32> {
        self.goaway
            .as_ref()
            .filter(|g| g.from == Dir::Server)
            .map(|g| g.last_stream_id)
    }

    pub(super) fn sample(&mut self, at: (u64, Ts), sender: Dir, stream: u32, window: i64) {
        if self.windows.len() < MAX_WINDOW_SAMPLES {
            self.windows.push(WindowSample {
                frame: at.0,
                ts: at.1,
                sender,
                stream_id: stream,
                window,
            });
        } else {
            self.windows_truncated = true;
        }
    }
}

/// Per direction, the gap that broke its framing (only the directions that lost it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct UnparsedAfterGap {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<LostFraming>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<LostFraming>,
}

impl UnparsedAfterGap {
    pub fn is_empty(&self) -> bool {
        self.client.is_none() && self.server.is_none()
    }

    pub fn get(&self, d: Dir) -> Option<&LostFraming> {
        match d {
            Dir::Client => self.client.as_ref(),
            Dir::Server => self.server.as_ref(),
        }
    }
}

/// A direction whose framing a gap broke: nothing of it was read as frames after it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LostFraming {
    /// The packet of the first captured byte after the gap (None: nothing came after it).
    pub frame: Option<u64>,
    /// Length of the gap that broke the framing.
    pub gap: u64,
    /// Captured bytes after it, not parsed.
    pub bytes: u64,
    /// Bytes lost in later gaps of the same direction.
    pub later_gaps: u64,
    /// Frames seen complete in this direction before the gap.
    pub frames_before: u64,
    /// Streams still open in this direction when the gap came (they end `incomplete`).
    pub streams_open: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Goaway {
    pub from: Dir,
    pub last_stream_id: u32,
    pub error: String,
    /// Additional debug data, lossily as text (first 256 bytes).
    pub debug: String,
    pub frame: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RstRecord {
    pub stream_id: u32,
    pub from: Dir,
    pub error: String,
    pub frame: u64,
}

/// What `sender` may still send (connection window for stream 0), at `frame`.
#[derive(Clone, Debug, Serialize)]
pub struct WindowSample {
    pub frame: u64,
    pub ts: Ts,
    pub sender: Dir,
    pub stream_id: u32,
    pub window: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PingRtt {
    pub from: Dir,
    pub frame: u64,
    pub ack_frame: u64,
    pub rtt_ms: Option<f64>,
}

/// One frame as the ladder shows it.
#[derive(Clone, Debug)]
pub struct FrameRecord {
    pub dir: Dir,
    pub ty: FrameType,
    /// The type byte of an UNKNOWN frame.
    pub type_byte: Option<u8>,
    pub flags: Vec<String>,
    pub stream: u32,
    pub len: u32,
    /// The packet holding the frame header's first byte.
    pub frame: u64,
    pub ts: Ts,
    /// HEADERS: `GET /path` or `200`; WINDOW_UPDATE: `+N`.
    pub what: Option<String>,
    /// What explain tells about the frame beyond its header.
    pub detail: Option<Box<FrameDetail>>,
}

/// A frame's content as explain needs it.
#[derive(Clone, Debug)]
pub enum FrameDetail {
    /// SETTINGS parameters in the order sent (name, value).
    Settings(Vec<(String, u32)>),
    Headers(HeaderDetail),
    /// WINDOW_UPDATE: the increment, and the window it leaves the other side (None: a
    /// stream not known).
    WindowUpdate {
        increment: i64,
        window: Option<i64>,
    },
    /// DATA that brought windows to zero or below: (stream, 0 for the connection; window).
    Blocked(Vec<(u32, i64)>),
}

/// A header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) on its opening frame.
#[derive(Clone, Debug, Default)]
pub struct HeaderDetail {
    /// Bytes of HPACK in the block.
    pub block_len: usize,
    /// Fields decoded (kept or not).
    pub fields: usize,
    /// The first fields with how each was sent (bounded: `MAX_SHOWN_FIELDS` per
    /// connection, `hpack::MAX_REPS` per block).
    pub shown: Vec<ShownField>,
    /// Dynamic table size updates at the block's start.
    pub size_updates: Vec<u64>,
    /// Why the block was not decoded.
    pub error: Option<String>,
    /// A PUSH_PROMISE: the promised stream.
    pub promised: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct ShownField {
    pub name: String,
    /// At most `SHOWN_VALUE_CHARS` characters (`value_cut` says so).
    pub value: String,
    pub value_cut: bool,
    pub rep: super::hpack::Rep,
}

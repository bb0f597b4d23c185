//! Sans-IO HTTP/2 (RFC 9113, HPACK RFC 7541): the two in-order byte streams of one
//! connection (TCP cleartext, or TLS plaintext once decrypted) into frames, header
//! blocks, streams as HTTP exchanges, and the connection's settings, flow control and
//! PING round trips.
//!
//! Entry point: `Http2Session::push(dir, Input::Bytes(..) | Input::Gap(n), frame, ts)`,
//! then `finish()` and `into_parts()`. Detection (`detect`) decides when a connection is
//! HTTP/2: the client preface, or an HTTP/1.1 Upgrade: h2c answered by 101.
//!
//! Files: `frame` (layouts and names), `reader` (framing across segments and gaps, caps),
//! `control` (each complete frame: SETTINGS, PING, GOAWAY, windows, header blocks),
//! `hpack` (one direction's decoder), `streams` (streams into exchanges), `summary` (the
//! connection's JSON), `detect` (preface probe), `label` (ladder labels).
//!
//! Must not touch TCP reassembly, capture I/O or presentation.

mod control;
pub mod detect;
pub mod frame;
pub mod hpack;
pub mod label;
mod reader;
mod streams;
pub mod summary;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::http::{Anomaly, Exchange, H2Note, HttpConfig, Request};
use crate::ts::Ts;

pub use crate::flow::Dir;
pub use detect::Probe;
pub use summary::{FrameDetail, FrameRecord, HeaderDetail, Http2Summary, ShownField};

/// What one direction delivered: bytes in order, or bytes never captured.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    Bytes(&'a [u8]),
    Gap(u64),
}

/// How the connection came to speak HTTP/2.
#[derive(Clone, Debug)]
pub enum Origin {
    /// The client opened with the preface (h2c prior knowledge, or ALPN h2 over TLS).
    PriorKnowledge,
    /// An HTTP/1.1 request with Upgrade: h2c answered by 101: that request is stream 1,
    /// answered in HTTP/2 (RFC 7540 §3.2).
    Upgrade(Box<Request>),
}

/// Exchanges (streams) kept per connection; later streams are counted only (10^5 streams
/// would otherwise cost their heads and hashers each).
pub const MAX_STREAMS: usize = 10_000;

/// Frames kept in the per-connection frame list (the ladder's); all are counted.
pub const MAX_FRAME_RECORDS: usize = 100_000;

/// Connection-level notes kept.
const MAX_CONN_NOTES: usize = 32;

pub struct Http2Session {
    cfg: HttpConfig,
    rd: [reader::DirReader; 2],
    hpack: [hpack::Hpack; 2],
    /// Header block in progress per sending direction (HEADERS/PUSH_PROMISE + CONTINUATION).
    block: [Option<control::Block>; 2],
    streams: streams::Streams,
    sum: Http2Summary,
    /// Flow control: each sender's connection send window, the initial stream window a
    /// sender starts with (the peer's SETTINGS_INITIAL_WINDOW_SIZE), and the largest frame
    /// a sender may send (the peer's SETTINGS_MAX_FRAME_SIZE).
    conn_window: [i64; 2],
    initial_window: [i64; 2],
    max_frame: [u32; 2],
    /// PINGs awaiting their ACK: (sender, opaque data, frame, ts).
    pings: Vec<(Dir, [u8; 8], u64, Ts)>,
    finished: bool,
}

impl Http2Session {
    pub fn new(cfg: HttpConfig, origin: Origin) -> Self {
        let mut s = Http2Session {
            rd: [reader::DirReader::new(true), reader::DirReader::new(false)],
            hpack: [
                hpack::Hpack::new(Dir::Client),
                hpack::Hpack::new(Dir::Server),
            ],
            block: [None, None],
            streams: streams::Streams::default(),
            sum: Http2Summary::default(),
            conn_window: [frame::DEFAULT_WINDOW; 2],
            initial_window: [frame::DEFAULT_WINDOW; 2],
            max_frame: [frame::DEFAULT_MAX_FRAME; 2],
            pings: Vec::new(),
            finished: false,
            cfg,
        };
        s.sum.origin = match &origin {
            Origin::PriorKnowledge => "prior-knowledge",
            Origin::Upgrade(_) => "upgrade",
        };
        if let Origin::Upgrade(req) = origin {
            s.streams.upgraded(*req, s.initial_window);
        }
        s
    }

    /// Bytes (or a gap) of `dir`, in stream order; `frame`/`ts` of the packet that
    /// delivered them.
    pub fn push(&mut self, dir: Dir, input: Input<'_>, frame: u64, ts: Ts) {
        if self.finished {
            return;
        }
        match input {
            Input::Bytes(b) => self.bytes(dir, b, frame, ts),
            Input::Gap(n) => self.gap(dir, n),
        }
    }

    /// The capture ended (or the connection closed): open streams end as they are.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let refused_above = self.sum.goaway_last_stream();
        self.streams.finish(refused_above);
        self.sum.hpack_failures = self.hpack[0].failures + self.hpack[1].failures;
        self.sum.streams = self.streams.seen;
        self.sum.streams_not_listed = self.streams.dropped;
        self.sum.unparsed_bytes.client = self.rd[0].unparsed;
        self.sum.unparsed_bytes.server = self.rd[1].unparsed;
        self.sum.unparsed_after_gap.client = self.rd[0].lost_at.clone();
        self.sum.unparsed_after_gap.server = self.rd[1].lost_at.clone();
    }

    /// The exchanges so far, one per stream, in stream id order once finished.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.streams.exchanges
    }

    pub fn summary(&self) -> &Http2Summary {
        &self.sum
    }

    /// Exchanges (stream id order) and the connection's summary.
    pub fn into_parts(mut self) -> (Vec<Exchange>, Http2Summary) {
        self.finish();
        (self.streams.exchanges, self.sum)
    }

    fn note(&mut self, n: H2Note) {
        let a = Anomaly::Http2(n);
        if self.sum.anomalies.len() < MAX_CONN_NOTES && !self.sum.anomalies.contains(&a) {
            self.sum.anomalies.push(a);
        }
    }
}

/// The other direction.
pub(crate) fn peer(d: Dir) -> Dir {
    match d {
        Dir::Client => Dir::Server,
        Dir::Server => Dir::Client,
    }
}

/// Per-side values, as the JSON has them.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PerSide<T> {
    pub client: T,
    pub server: T,
}

impl<T> PerSide<T> {
    pub fn get_mut(&mut self, d: Dir) -> &mut T {
        match d {
            Dir::Client => &mut self.client,
            Dir::Server => &mut self.server,
        }
    }
}

/// Frame counts by type name.
pub type FrameCounts = BTreeMap<&'static str, u64>;

//! Sans-IO HTTP/1.x assembler: turns the two in-order byte streams of one TCP
//! connection into request/response exchanges (RFC 9112), with detection of
//! the application protocol, resync after gaps, and per-exchange anomalies.
//!
//! Owns: per-connection parse state, pairing, timing and the public data model.
//! Pairing is in request order (RFC 9112 §9.3.2), never with a request sent after the
//! response began; heads lost in capture gaps (`gap_at`) leave their own exchange without
//! that side, named by an anomaly, and an estimated pairing is marked until the end of the
//! connection confirms or corrects it.
//!
//! Must not touch TCP reassembly, capture I/O or presentation: the caller feeds ordered
//! bytes and gaps and reads `exchanges()`.
//!
//! Files: `assembler` (state, public API, dispatch by phase), `head` (heads into the data
//! model), `bodies` (the body in progress, message ends), `pairing` (queue, lost heads,
//! estimates), `tunnel`, `state` (per-direction parse state), `messages` (the data model),
//! `anomaly` (typed anomalies and their wording), `framing` (heads, body delimiting),
//! `chunked`, `body` (content decoding and hashing), `detect` (sniffing, start lines).

mod anomaly;
mod assembler;
mod bodies;
mod body;
mod chunked;
mod detect;
mod framing;
mod h2note;
mod head;
mod messages;
mod pairing;
mod resync;
mod spill;
mod state;
mod tunnel;

pub use anomaly::{Anomaly, CaptureGap, ChunkError, LineFault};
pub use assembler::HttpAssembler;
pub(crate) use body::BodySink;
pub(crate) use framing::content_encoding;
pub use framing::header;
pub use h2note::H2Note;
pub use messages::{Exchange, Interim, MessageMeta, Request, Response, StreamInfo, Tunnel};
pub use spill::{BodyEnd, BodySpill, BodyWriter, Spill};
#[cfg(test)]
mod tests;

pub use crate::flow::Dir;

/// The answer of an incremental parser (httparse style): short input is never an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status<T> {
    /// More bytes are needed. The count says how far this call got, so the next call
    /// need not look at those bytes again (each parser says what it means for it).
    Partial(usize),
    /// Done: this many bytes were used, giving the value.
    Complete(usize, T),
}

/// Application protocol detected from content (never from ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppProto {
    Http,
    Tls,
    Ssh,
    Smtp,
    /// HTTP/2: the client preface, or an Upgrade to h2c (RFC 9113 §3).
    Http2,
    /// An FTP control connection (a 220 greeting answered by USER, AUTH, FEAT or SYST).
    Ftp,
    /// A connection to an endpoint an FTP control connection announced (PASV/EPSV/PORT/EPRT);
    /// set by the pipeline, never by sniffing.
    #[serde(rename = "ftp-data")]
    FtpData,
    Unknown,
}

impl AppProto {
    /// The name reports use: the same as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Ssh => "ssh",
            AppProto::Smtp => "smtp",
            AppProto::Http2 => "http2",
            AppProto::Ftp => "ftp",
            AppProto::FtpData => "ftp-data",
            AppProto::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Keep decoded bodies in memory (up to `body_cap`); off: only sizes and hashes.
    pub keep_bodies: bool,
    /// Decoded body bytes kept in memory per message; a longer body is marked truncated.
    pub body_cap: usize,
    /// Decompression output limit per message (bomb guard).
    pub decoded_cap: usize,
    /// Header section size limit (also the longest start line considered).
    pub header_cap: usize,
    /// Headers stored per message.
    pub max_headers: usize,
    /// Where response bodies go as they are decoded (export-http); None: kept in memory
    /// (`keep_bodies`, up to `body_cap`). With one, request bodies are not kept.
    pub spill: Option<Spill>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            keep_bodies: true,
            body_cap: 1 << 20,
            decoded_cap: 64 << 20,
            header_cap: 64 << 10,
            max_headers: 100,
            spill: None,
        }
    }
}

/// A message finished (normally or not) since the last `take_new_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpEvent {
    RequestComplete { idx: usize },
    ResponseComplete { idx: usize },
}

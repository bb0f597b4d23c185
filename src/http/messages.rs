//! The public data model of HTTP/1.x exchanges: requests, responses, interim answers,
//! tunnels, and the per-exchange anomaly list with its cap.
//!
//! Owns: the serialized shape (JSON field names and order). Must not touch parsing or
//! pairing state.

use super::AppProto;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Interim {
    pub status: u16,
    pub frame: u64,
    #[serde(rename = "ts", serialize_with = "crate::ts::ser_ns")]
    pub ts_ns: i64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Request {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// Chunked trailer fields, if any.
    pub trailers: Vec<(String, String)>,
    pub frame: u64,
    #[serde(rename = "ts", serialize_with = "crate::ts::ser_ns")]
    pub ts_ns: i64,
    /// Frame/ts of the last byte seen so far (final once `complete`).
    pub end_frame: u64,
    #[serde(rename = "end_ts", serialize_with = "crate::ts::ser_ns")]
    pub end_ts_ns: i64,
    /// Body length after transfer decoding (captured bytes only).
    pub body_bytes: u64,
    pub body_bytes_decoded: u64,
    /// Body bytes lost in capture gaps; None when a gap broke the framing, so the share
    /// of the gap that was body is unknown.
    pub body_bytes_missing: Option<u64>,
    /// The body length the head announced (Content-Length); None when not announced.
    pub body_bytes_announced: Option<u64>,
    pub content_encoding: Option<String>,
    pub chunked: bool,
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    pub body_truncated: bool,
    pub body_sha256: Option<String>,
    pub complete: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub trailers: Vec<(String, String)>,
    pub frame: u64,
    #[serde(rename = "ts", serialize_with = "crate::ts::ser_ns")]
    pub ts_ns: i64,
    pub end_frame: u64,
    #[serde(rename = "end_ts", serialize_with = "crate::ts::ser_ns")]
    pub end_ts_ns: i64,
    pub body_bytes_wire: u64,
    pub body_bytes_decoded: u64,
    /// As for requests: bytes lost in gaps, None when unknowable.
    pub body_bytes_missing: Option<u64>,
    pub body_bytes_announced: Option<u64>,
    pub content_encoding: Option<String>,
    pub chunked: bool,
    pub body_sha256: Option<String>,
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    pub body_truncated: bool,
    pub complete: bool,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Exchange {
    pub request: Option<Request>,
    pub response: Option<Response>,
    pub interim: Vec<Interim>,
    pub ttfb_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub complete: bool,
    pub anomalies: Vec<String>,
    /// Request and response were paired on an estimate after a capture gap (see
    /// the anomalies for the evidence).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pairing_uncertain: bool,
    /// After a 2xx answer to CONNECT or a 101: the bytes that followed are a tunnel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Tunnel>,
}

/// A CONNECT tunnel or an upgraded connection: bytes after the answer are not HTTP.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tunnel {
    /// `connect` or `upgrade`.
    pub kind: &'static str,
    /// The CONNECT target (`mail.example:25`) or the Upgrade protocol.
    pub target: String,
    /// What runs inside, detected from its first bytes (never from the port).
    pub app: AppProto,
    /// Frame of the answer's last head byte: the tunnel starts after it.
    pub frame: u64,
    pub client_bytes: u64,
    pub server_bytes: u64,
}

/// Most anomaly notes kept per exchange; a lossy download would otherwise add one note per
/// gap without end.
pub(super) const MAX_NOTES: usize = 16;
pub(super) const MORE_NOTES: &str = "more anomalies not listed";

impl Exchange {
    pub(super) fn note(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if self.anomalies.len() >= MAX_NOTES {
            if self.anomalies.last().is_none_or(|l| l != MORE_NOTES) {
                self.anomalies.push(MORE_NOTES.into());
            }
        } else if !self.anomalies.contains(&msg) {
            self.anomalies.push(msg);
        }
    }
}

//! The public data model of HTTP/1.x exchanges: requests, responses, interim answers,
//! tunnels, and the per-exchange anomaly list with its cap.
//!
//! Owns: the serialized shape (JSON field names and order). Must not touch parsing or
//! pairing state.

use std::ops::{Deref, DerefMut};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::anomaly::Anomaly;
use super::{AppProto, Dir};
use crate::ts::Ts;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Interim {
    pub status: u16,
    pub frame: u64,
    pub ts: Ts,
}

/// What requests and responses have in common: the head after the start line's own
/// fields, where and when the message was seen, and its body.
#[derive(Clone, Debug, Default)]
pub struct MessageMeta {
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// Chunked trailer fields, if any.
    pub trailers: Vec<(String, String)>,
    pub frame: u64,
    pub ts: Ts,
    /// Frame/ts of the last byte seen so far (final once `complete`).
    pub end_frame: u64,
    pub end_ts: Ts,
    /// Body length after transfer decoding (captured bytes only); `body_bytes_wire` in
    /// a response's JSON.
    pub body_bytes: u64,
    pub body_bytes_decoded: u64,
    /// Body bytes lost in capture gaps; None when a gap broke the framing, so the share
    /// of the gap that was body is unknown.
    pub body_bytes_missing: Option<u64>,
    /// The body length the head announced (Content-Length); None when not announced.
    pub body_bytes_announced: Option<u64>,
    pub content_encoding: Option<String>,
    pub chunked: bool,
    /// Not serialized.
    pub body: Option<Vec<u8>>,
    /// The caller's token for the decoded bytes its writer got, when bodies went to one
    /// (`HttpConfig::spill`) instead of `body`. Not serialized.
    pub body_spill: Option<u64>,
    pub body_truncated: bool,
    pub body_sha256: Option<String>,
    pub complete: bool,
}

impl MessageMeta {
    /// A message whose head spans `first` to `last` (frame, ts), no body seen yet.
    pub(super) fn new(
        version: String,
        headers: Vec<(String, String)>,
        first: (u64, Ts),
        last: (u64, Ts),
    ) -> Self {
        MessageMeta {
            version,
            headers,
            frame: first.0,
            ts: first.1,
            end_frame: last.0,
            end_ts: last.1,
            body_bytes_missing: Some(0),
            ..MessageMeta::default()
        }
    }

    /// Writes the fields after the start line's own, in the order the JSON has always had
    /// them: requests and responses differ in the body count's name and where the hash
    /// goes.
    fn serialize_fields<S: SerializeStruct>(
        &self,
        st: &mut S,
        body_bytes_key: &'static str,
        sha_first: bool,
    ) -> Result<(), S::Error> {
        st.serialize_field("version", &self.version)?;
        st.serialize_field("headers", &self.headers)?;
        st.serialize_field("trailers", &self.trailers)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("ts", &self.ts)?;
        st.serialize_field("end_frame", &self.end_frame)?;
        st.serialize_field("end_ts", &self.end_ts)?;
        st.serialize_field(body_bytes_key, &self.body_bytes)?;
        st.serialize_field("body_bytes_decoded", &self.body_bytes_decoded)?;
        st.serialize_field("body_bytes_missing", &self.body_bytes_missing)?;
        st.serialize_field("body_bytes_announced", &self.body_bytes_announced)?;
        st.serialize_field("content_encoding", &self.content_encoding)?;
        st.serialize_field("chunked", &self.chunked)?;
        if sha_first {
            st.serialize_field("body_sha256", &self.body_sha256)?;
        }
        st.serialize_field("body_truncated", &self.body_truncated)?;
        if !sha_first {
            st.serialize_field("body_sha256", &self.body_sha256)?;
        }
        st.serialize_field("complete", &self.complete)
    }
}

/// Fields of `MessageMeta` in the JSON.
const META_FIELDS: usize = 17;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub uri: String,
    pub meta: MessageMeta,
}

#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub meta: MessageMeta,
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Request", 2 + META_FIELDS)?;
        st.serialize_field("method", &self.method)?;
        st.serialize_field("uri", &self.uri)?;
        self.meta.serialize_fields(&mut st, "body_bytes", false)?;
        st.end()
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Response", 2 + META_FIELDS)?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("reason", &self.reason)?;
        self.meta
            .serialize_fields(&mut st, "body_bytes_wire", true)?;
        st.end()
    }
}

// Readers use `r.headers`, `r.body_bytes`... on either kind of message without naming
// the shared part.
macro_rules! deref_meta {
    ($($t:ty),*) => {$(
        impl Deref for $t {
            type Target = MessageMeta;
            fn deref(&self) -> &MessageMeta {
                &self.meta
            }
        }

        impl DerefMut for $t {
            fn deref_mut(&mut self) -> &mut MessageMeta {
                &mut self.meta
            }
        }
    )*};
}

deref_meta!(Request, Response);

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Exchange {
    pub request: Option<Request>,
    pub response: Option<Response>,
    pub interim: Vec<Interim>,
    pub ttfb_ms: Option<f64>,
    pub total_ms: Option<f64>,
    /// Timings (ttfb, total) left out because the response is stamped before the
    /// request: 0, 1 or 2.
    #[serde(skip_serializing_if = "is_zero")]
    pub timings_skipped: u32,
    pub complete: bool,
    pub anomalies: Vec<Anomaly>,
    /// Request and response were paired on an estimate after a capture gap (see
    /// the anomalies for the evidence).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pairing_uncertain: bool,
    /// After a 2xx answer to CONNECT or a 101: the bytes that followed are a tunnel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Tunnel>,
    /// An HTTP/2 stream: its id and how it ended (absent for HTTP/1.x).
    #[serde(flatten)]
    pub h2: Option<StreamInfo>,
    /// No response: the client closed its side (FIN) after the request while the server
    /// had sent nothing for it. Absent when a response came or the client did not close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_gave_up: Option<GaveUp>,
}

/// A request the client stopped waiting for: its FIN came before any answer.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct GaveUp {
    /// The frame of the client's FIN.
    pub fin_frame: u64,
    /// From the request's last byte to the client's FIN.
    pub waited_ms: f64,
}

/// What an HTTP/2 exchange adds: the stream it ran on and how that stream ended.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StreamInfo {
    pub stream_id: u32,
    /// `complete`, `reset` (RST_STREAM), `refused` (above GOAWAY's last stream id, never
    /// processed) or `incomplete`.
    pub end_state: &'static str,
    /// The RST_STREAM error code's name when `reset` (or refused by REFUSED_STREAM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_error: Option<String>,
    /// Which side sent the RST_STREAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_by: Option<Dir>,
    /// A server push: the stream whose PUSH_PROMISE announced it, and that frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promised_on: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promise_frame: Option<u64>,
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

impl Exchange {
    /// The message `dir` sent, if seen.
    pub(crate) fn side_mut(&mut self, dir: Dir) -> Option<&mut MessageMeta> {
        match dir {
            Dir::Client => self.request.as_mut().map(|r| &mut r.meta),
            Dir::Server => self.response.as_mut().map(|r| &mut r.meta),
        }
    }

    /// ttfb, total and `complete` from the two sides as they now are.
    pub(crate) fn update_timings(&mut self) {
        let ex = self;
        if let (Some(req), Some(resp)) = (&ex.request, &ex.response) {
            // A response stamped before the request ended (an early answer, or a clock
            // that went back) gives no timing: left out and counted, never negative.
            let ttfb = req.complete.then(|| resp.ts.ms_since(req.end_ts));
            let total = resp.complete.then(|| resp.end_ts.ms_since(req.ts));
            let ok = |v: Option<f64>| v.filter(|ms| *ms >= 0.0 && ms.is_finite());
            ex.timings_skipped = u32::from(ok(ttfb).is_none() && ttfb.is_some())
                + u32::from(ok(total).is_none() && total.is_some());
            ex.ttfb_ms = ok(ttfb);
            ex.total_ms = ok(total);
            ex.complete = req.complete && resp.complete;
        } else {
            ex.complete = false;
        }
    }

    pub(crate) fn note(&mut self, msg: Anomaly) {
        if self.anomalies.len() >= MAX_NOTES {
            if self.anomalies.last() != Some(&Anomaly::MoreNotListed) {
                self.anomalies.push(Anomaly::MoreNotListed);
            }
        } else if !self.anomalies.contains(&msg) {
            self.anomalies.push(msg);
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

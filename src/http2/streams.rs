//! Streams into HTTP exchanges: the request from the client's (or a PUSH_PROMISE's)
//! header block, the response from the server's, bodies from DATA through the HTTP/1
//! body sink (content decoding, SHA-256), trailers, each stream's flow-control window,
//! and how each stream ended.
//!
//! Owns: `Streams`. Must not touch framing or connection-level frames.

use std::collections::BTreeMap;

use super::hpack::Decoded;
use super::{Dir, MAX_STREAMS};
use crate::http::{
    Anomaly, BodySink, Exchange, H2Note, HttpConfig, Interim, MessageMeta, Request, Response,
    StreamInfo, content_encoding, header,
};
use crate::ts::Ts;

/// A decoded (or undecodable) header block addressed to a stream.
pub(super) struct HeaderBlock {
    pub(super) dir: Dir,
    pub(super) stream: u32,
    /// A PUSH_PROMISE: the stream it was sent on (`stream` is the promised one).
    pub(super) promised_on: Option<u32>,
    pub(super) end_stream: bool,
    pub(super) at: (u64, Ts),
    pub(super) decoded: Result<Decoded, H2Note>,
}

struct St {
    idx: usize,
    sinks: [Option<BodySink>; 2],
    /// DATA seen on a side (an empty body is hashed only when DATA carried it).
    data_seen: [bool; 2],
    missing: [u64; 2],
    /// Each sender's stream send window.
    window: [i64; 2],
    ended: [bool; 2],
    reset: Option<(String, Dir)>,
}

#[derive(Default)]
pub(super) struct Streams {
    pub(super) exchanges: Vec<Exchange>,
    map: BTreeMap<u32, St>,
    /// Streams opened (listed or not).
    pub(super) seen: u64,
    /// Streams past `MAX_STREAMS`, not listed.
    pub(super) dropped: u64,
}

impl Streams {
    /// Stream 1 of an upgraded connection: the HTTP/1.1 request, already sent whole.
    pub(super) fn upgraded(&mut self, req: Request, windows: [i64; 2]) {
        if let Some(st) = self.open(1, windows) {
            st.ended[0] = true;
            let idx = st.idx;
            self.exchanges[idx].request = Some(req);
        }
    }

    fn open(&mut self, id: u32, windows: [i64; 2]) -> Option<&mut St> {
        if !self.map.contains_key(&id) {
            self.seen += 1;
            if self.exchanges.len() >= MAX_STREAMS {
                self.dropped += 1;
                return None;
            }
            self.exchanges.push(Exchange {
                h2: Some(StreamInfo {
                    stream_id: id,
                    end_state: "incomplete",
                    ..StreamInfo::default()
                }),
                ..Exchange::default()
            });
            self.map.insert(
                id,
                St {
                    idx: self.exchanges.len() - 1,
                    sinks: [None, None],
                    data_seen: [false; 2],
                    missing: [0; 2],
                    window: windows,
                    ended: [false; 2],
                    reset: None,
                },
            );
        }
        self.map.get_mut(&id)
    }

    /// A header block for a stream; returns the ladder's words for it (`GET /a`, `200`).
    pub(super) fn headers(
        &mut self,
        b: HeaderBlock,
        windows: [i64; 2],
        cfg: &HttpConfig,
    ) -> Option<String> {
        let idx = self.open(b.stream, windows)?.idx;
        let (fields, note, ok) = match b.decoded {
            Ok(d) => (d.fields, d.note, true),
            Err(n) => (Vec::new(), Some(n), false),
        };
        let ex = &mut self.exchanges[idx];
        if let Some(n) = note {
            ex.note(Anomaly::Http2(n));
        }
        // The request side: the client's first block, or a push's promised request.
        let dir = if b.promised_on.is_some() {
            Dir::Client
        } else {
            b.dir
        };
        let f = Fields {
            list: fields,
            ok,
            at: b.at,
        };
        let (mut label, new_sink) = match dir {
            Dir::Client if ex.request.is_none() => request_head(ex, f, cfg),
            Dir::Server if ex.response.is_none() => response_head(ex, f, cfg),
            _ => {
                if let Some(m) = ex.side_mut(dir) {
                    m.trailers = f.list;
                    (m.end_frame, m.end_ts) = b.at;
                }
                (Some("trailers".to_string()), None)
            }
        };
        if let (Some(on), Some(info)) = (b.promised_on, ex.h2.as_mut()) {
            info.promised_on = Some(on);
            info.promise_frame = Some(b.at.0);
            label = label.map(|l| format!("promise s{} {l}", b.stream));
        }
        if let Some(st) = self.map.get_mut(&b.stream) {
            if let Some((d, s)) = new_sink {
                st.sinks[d] = Some(s);
            }
            // An undecodable head: that side's message is not known whole.
            if !ok {
                st.missing[dir.idx()] = st.missing[dir.idx()].max(1);
            }
        }
        if b.end_stream || b.promised_on.is_some() {
            self.end_side(dir, b.stream, b.at, cfg);
        }
        label
    }

    /// DATA bytes of `dir` on a stream.
    pub(super) fn data(&mut self, dir: Dir, id: u32, bytes: &[u8], frame: u64, ts: Ts) {
        let Some(st) = self.map.get_mut(&id) else {
            return;
        };
        let d = dir.idx();
        st.data_seen[d] = true;
        let Some(sink) = st.sinks[d].as_mut() else {
            return;
        };
        sink.write(bytes);
        let wire = sink.wire();
        let pending = sink.take_anomalies();
        let ex = &mut self.exchanges[st.idx];
        for a in pending {
            ex.note(a);
        }
        if let Some(m) = ex.side_mut(dir) {
            m.body_bytes = wire;
            (m.end_frame, m.end_ts) = (frame, ts);
        }
    }

    /// DATA bytes of `dir` on a stream lost in a gap (the framing survived).
    pub(super) fn data_missing(&mut self, dir: Dir, id: u32, len: u64) {
        let Some(st) = self.map.get_mut(&id) else {
            return;
        };
        let d = dir.idx();
        st.missing[d] = st.missing[d].saturating_add(len);
        if let Some(s) = st.sinks[d].as_mut() {
            s.mark_missing();
        }
        self.exchanges[st.idx].note(Anomaly::Http2(H2Note::Gap { dir, len }));
    }

    /// The header block `dir` sent on a stream was lost (gap, cap, protocol error).
    /// The stream is opened if this was its first block: it existed, its head is unknown.
    pub(super) fn headers_lost(
        &mut self,
        dir: Dir,
        id: u32,
        end_stream: bool,
        at: (u64, Ts),
        windows: [i64; 2],
    ) {
        if id == 0 {
            return;
        }
        let Some(st) = self.open(id, windows) else {
            return;
        };
        st.missing[dir.idx()] = st.missing[dir.idx()].max(1);
        let idx = st.idx;
        self.exchanges[idx].note(Anomaly::Http2(H2Note::HeaderBlockLost { dir }));
        if end_stream {
            self.finish_side(dir, id, at, false);
        }
    }

    /// Streams `dir` has not ended (listed ones).
    pub(super) fn open_in(&self, dir: Dir) -> u64 {
        self.map.values().filter(|s| !s.ended[dir.idx()]).count() as u64
    }

    /// The framing of `dir` was lost: what its open streams send from here is unknown.
    pub(super) fn lost(&mut self, dir: Dir, gap: u64) {
        let d = dir.idx();
        for st in self.map.values_mut().filter(|s| !s.ended[d]) {
            self.exchanges[st.idx].note(Anomaly::Http2(H2Note::FramingLost { dir, gap }));
            st.missing[d] = st.missing[d].max(1);
            if let Some(s) = st.sinks[d].as_mut() {
                s.mark_missing();
            }
            if let Some(m) = self.exchanges[st.idx].side_mut(dir) {
                m.body_bytes_missing = None;
            }
        }
    }

    /// END_STREAM from `dir`: its message is over.
    pub(super) fn end_side(&mut self, dir: Dir, id: u32, at: (u64, Ts), _cfg: &HttpConfig) {
        let whole = self.map.get(&id).is_some_and(|s| s.missing[dir.idx()] == 0);
        self.finish_side(dir, id, at, whole);
    }

    fn finish_side(&mut self, dir: Dir, id: u32, at: (u64, Ts), whole: bool) {
        let Some(st) = self.map.get_mut(&id) else {
            return;
        };
        let d = dir.idx();
        if st.ended[d] {
            return;
        }
        st.ended[d] = true;
        let (missing, data_seen) = (st.missing[d], st.data_seen[d]);
        let sink = st.sinks[d].take();
        let ex = &mut self.exchanges[st.idx];
        if let Some(sink) = sink {
            let (out, anomalies) = sink.finish(whole);
            for a in anomalies {
                ex.note(a);
            }
            if let Some(m) = ex.side_mut(dir) {
                m.body_bytes = out.wire;
                m.body_bytes_decoded = out.decoded;
                if m.body_bytes_missing.is_some() {
                    m.body_bytes_missing = Some(missing);
                }
                m.body_sha256 = out.sha256.filter(|_| data_seen);
                m.body = out.body;
                m.body_spill = out.spill;
                m.body_truncated = out.truncated;
            }
        }
        if let Some(m) = ex.side_mut(dir) {
            m.complete = whole;
            if !data_seen && at.0 != 0 {
                (m.end_frame, m.end_ts) = at;
            }
        }
        ex.update_timings();
    }

    /// RST_STREAM from `by`: both sides end where they are.
    pub(super) fn reset(
        &mut self,
        by: Dir,
        id: u32,
        error: String,
        at: (u64, Ts),
        _cfg: &HttpConfig,
    ) {
        let Some(st) = self.map.get_mut(&id) else {
            return;
        };
        st.reset = Some((error, by));
        for d in [Dir::Client, Dir::Server] {
            self.finish_side(d, id, at, false);
        }
    }

    /// SETTINGS_INITIAL_WINDOW_SIZE changed what `sender`'s streams may send by `delta`.
    pub(super) fn shift_windows(&mut self, sender: Dir, delta: i64) {
        for st in self.map.values_mut() {
            st.window[sender.idx()] += delta;
        }
    }

    pub(super) fn window_mut(&mut self, sender: Dir, id: u32) -> Option<&mut i64> {
        self.map.get_mut(&id).map(|s| &mut s.window[sender.idx()])
    }

    /// End of the connection: open sides end incomplete, each stream gets its end state,
    /// exchanges go in stream id order. `refused_above`: the server's GOAWAY last id.
    pub(super) fn finish(&mut self, refused_above: Option<u32>) {
        let ids: Vec<u32> = self.map.keys().copied().collect();
        for id in ids {
            for d in [Dir::Client, Dir::Server] {
                if self.map.get(&id).is_some_and(|s| !s.ended[d.idx()]) {
                    if let Some(s) = self.map.get(&id) {
                        self.exchanges[s.idx].note(Anomaly::IncompleteAtEndOfCapture);
                    }
                    self.finish_side(d, id, (0, Ts::default()), false);
                }
            }
            let Some(st) = self.map.get(&id) else {
                continue;
            };
            let ex = &mut self.exchanges[st.idx];
            let complete = ex.complete;
            let Some(info) = ex.h2.as_mut() else { continue };
            info.end_state = if complete {
                "complete"
            } else if st.reset.is_some() {
                "reset"
            } else if refused_above.is_some_and(|last| id % 2 == 1 && id > last) {
                "refused"
            } else {
                "incomplete"
            };
            if let Some((e, by)) = &st.reset {
                info.reset_error = Some(e.clone());
                info.reset_by = Some(*by);
            }
        }
        self.exchanges
            .sort_by_key(|e| e.h2.as_ref().map_or(0, |i| i.stream_id));
    }
}

/// A header block's fields (empty when it could not be decoded), whether it was
/// decoded, and its frame and time.
struct Fields {
    list: Vec<(String, String)>,
    ok: bool,
    at: (u64, Ts),
}

impl Fields {
    /// A pseudo-header's value, empty when absent.
    fn pseudo(&self, k: &str) -> String {
        header(&self.list, k).unwrap_or_default().to_string()
    }

    /// The message the block starts: its body sink and its head.
    fn message(self, cfg: &HttpConfig, dir: Dir) -> (BodySink, MessageMeta) {
        let encoding = content_encoding(&self.list);
        let sink = BodySink::for_message(encoding.as_deref(), self.ok, cfg, dir);
        (sink, meta(self.list, self.at))
    }
}

/// What a header block gives its stream: the ladder's words, and the body sink of the
/// message it starts (0 the client's, 1 the server's).
type Head = (Option<String>, Option<(usize, BodySink)>);

/// The client's first header block (or a push's promised request): the request.
fn request_head(ex: &mut Exchange, f: Fields, cfg: &HttpConfig) -> Head {
    let method = f.pseudo(":method");
    let uri = match header(&f.list, ":path") {
        Some(p) => p.to_string(),
        None => f.pseudo(":authority"),
    };
    let label = f.ok.then(|| format!("{method} {uri}"));
    let (sink, meta) = f.message(cfg, Dir::Client);
    ex.request = Some(Request { method, uri, meta });
    (label, Some((0, sink)))
}

/// The server's first header block: an interim (1xx but 101) response, or the response.
fn response_head(ex: &mut Exchange, f: Fields, cfg: &HttpConfig) -> Head {
    let status = f.pseudo(":status").parse::<u16>().unwrap_or(0);
    let label = f.ok.then(|| status.to_string());
    if (100..200).contains(&status) && status != 101 {
        ex.interim.push(Interim {
            status,
            frame: f.at.0,
            ts: f.at.1,
        });
        return (label, None);
    }
    let (sink, meta) = f.message(cfg, Dir::Server);
    ex.response = Some(Response {
        status,
        reason: String::new(),
        meta,
    });
    (label, Some((1, sink)))
}

/// A message's head from a decoded block.
fn meta(fields: Vec<(String, String)>, at: (u64, Ts)) -> MessageMeta {
    let announced = header(&fields, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    MessageMeta {
        version: "HTTP/2".to_string(),
        content_encoding: content_encoding(&fields),
        body_bytes_announced: announced,
        headers: fields,
        frame: at.0,
        ts: at.1,
        end_frame: at.0,
        end_ts: at.1,
        body_bytes_missing: Some(0),
        ..MessageMeta::default()
    }
}

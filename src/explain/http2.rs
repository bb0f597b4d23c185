//! HTTP/2 told in plain language, frame by frame: the client preface, the SETTINGS
//! exchange and its ACK, each header block with how HPACK sent every field (static or
//! dynamic index, literal with or without indexing, never indexed), DATA interleaved
//! across streams, flow control (WINDOW_UPDATE, windows, a window reaching zero),
//! PING, RST_STREAM, GOAWAY and PUSH_PROMISE; then what the connection did in HTTP/2.
//! Built from the connection's `Http2Summary` (its frame list) and exchanges only.

use std::collections::{HashMap, HashSet};

use crate::escape::escape;
use crate::flow::Dir;
use crate::http::Exchange;
use crate::http2::frame::FrameType;
use crate::http2::hpack::RepKind;
use crate::http2::{FrameDetail, FrameRecord, HeaderDetail, Http2Summary, ShownField};
use crate::pipeline::Connection;

/// Frames described per packet; the rest are counted.
const FRAMES_PER_PACKET: usize = 16;
/// Fields described per header block; the rest are counted.
const FIELDS_PER_BLOCK: usize = 16;

/// One connection's HTTP/2 facts, indexed for per-packet sentences (built once: linear
/// in the frame list).
pub struct Story<'a> {
    sum: &'a Http2Summary,
    http: &'a [Exchange],
    /// Frame-list positions by the packet holding each frame header's first byte.
    at: HashMap<u64, Vec<usize>>,
    /// A SETTINGS ACK's position -> the acknowledged SETTINGS' packet.
    acked: HashMap<usize, u64>,
    /// The first DATA frame that switched away from a stream still sending: (position,
    /// the stream left, the stream taken).
    first_switch: Option<(usize, u32, u32)>,
    /// DATA frames that switched away from a stream still sending.
    switches: u64,
}

impl<'a> Story<'a> {
    /// None when the connection did not speak HTTP/2.
    pub fn of(c: &'a Connection) -> Option<Self> {
        let sum = c.http2()?;
        let mut s = Story {
            sum,
            http: &c.http,
            at: HashMap::new(),
            acked: HashMap::new(),
            first_switch: None,
            switches: 0,
        };
        let mut last_settings: [Option<u64>; 2] = [None, None];
        let mut last_data: [Option<u32>; 2] = [None, None];
        let mut ended: [HashSet<u32>; 2] = [HashSet::new(), HashSet::new()];
        for (i, f) in sum.frame_list.iter().enumerate() {
            s.at.entry(f.frame).or_default().push(i);
            let d = f.dir.idx();
            let end = f.flags.iter().any(|x| x == "END_STREAM");
            match f.ty {
                FrameType::Settings if has(f, "ACK") => {
                    if let Some(p) = last_settings[f.dir.other().idx()] {
                        s.acked.insert(i, p);
                    }
                }
                FrameType::Settings => last_settings[d] = Some(f.frame),
                FrameType::Data => {
                    if let Some(prev) = last_data[d]
                        && prev != f.stream
                        && !ended[d].contains(&prev)
                    {
                        s.switches += 1;
                        s.first_switch.get_or_insert((i, prev, f.stream));
                    }
                    last_data[d] = Some(f.stream);
                }
                _ => {}
            }
            if end {
                ended[d].insert(f.stream);
            }
        }
        Some(s)
    }

    /// What the HTTP/2 frames starting in packet `frame` do.
    pub fn frame_sentences(&self, frame: u64) -> Vec<String> {
        let mut out = Vec::new();
        if self.sum.preface_frame == Some(frame) {
            out.push("HTTP/2 connection preface from the client (24 bytes, `PRI * HTTP/2.0`, then `SM`): before any frame it tells the server this connection speaks HTTP/2; a server that does not fails here instead of misreading frames. SETTINGS from each side follow.".to_string());
        }
        let Some(list) = self.at.get(&frame) else {
            return out;
        };
        let mut data: Vec<&FrameRecord> = Vec::new();
        for &i in list.iter().take(FRAMES_PER_PACKET) {
            let Some(f) = self.sum.frame_list.get(i) else {
                continue;
            };
            if f.ty == FrameType::Data {
                data.push(f);
                if let Some(FrameDetail::Blocked(b)) = f.detail.as_deref() {
                    flush_data(&mut data, &mut out);
                    out.extend(b.iter().map(|&(s, w)| blocked(f.dir, s, w)));
                }
                if let Some((at, a, b)) = self.first_switch
                    && at == i
                {
                    flush_data(&mut data, &mut out);
                    out.push(interleave(f.dir, a, b));
                }
                continue;
            }
            flush_data(&mut data, &mut out);
            out.extend(self.sentence(i, f));
        }
        flush_data(&mut data, &mut out);
        if list.len() > FRAMES_PER_PACKET {
            out.push(format!(
                "…and {} more HTTP/2 frames start in this packet.",
                list.len() - FRAMES_PER_PACKET
            ));
        }
        out
    }

    /// What one (non-DATA) frame does.
    fn sentence(&self, i: usize, f: &FrameRecord) -> Vec<String> {
        let who = f.dir.name();
        let peer = f.dir.other().name();
        let one = |s: String| vec![s];
        match (f.ty, f.detail.as_deref()) {
            (FrameType::Settings, _) if has(f, "ACK") => one(match self.acked.get(&i) {
                Some(p) => format!(
                    "HTTP/2 SETTINGS ACK from the {who}: it has applied the {peer}'s SETTINGS of frame {p}; from here the {peer}'s values hold."
                ),
                None => format!(
                    "HTTP/2 SETTINGS ACK from the {who}: it has applied the {peer}'s SETTINGS."
                ),
            }),
            (FrameType::Settings, Some(FrameDetail::Settings(v))) => one(settings(f, v)),
            (FrameType::Headers | FrameType::PushPromise, Some(FrameDetail::Headers(h))) => {
                self.headers(f, h)
            }
            (FrameType::WindowUpdate, Some(FrameDetail::WindowUpdate { increment, window })) => {
                one(window_update(f, *increment, *window))
            }
            (FrameType::RstStream, _) => one(self.rst(f)),
            (FrameType::Goaway, _) => one(self.goaway(f)),
            (FrameType::Ping, _) => one(self.ping(f)),
            (FrameType::Priority, _) => one(format!(
                "HTTP/2 PRIORITY from the {who} for stream {}: a hint about which streams matter more (RFC 9113 deprecates this scheme).",
                f.stream
            )),
            (FrameType::Continuation, _) => one(format!(
                "HTTP/2 CONTINUATION from the {who} on stream {} ({} bytes): more of a header block too big for one frame.",
                f.stream, f.len
            )),
            (FrameType::Unknown(t), _) => one(format!(
                "HTTP/2 frame of unknown type 0x{t:02x} from the {who} on stream {} ({} bytes): ignored, as RFC 9113 §4.1 requires.",
                f.stream, f.len
            )),
            (ty, _) => one(format!(
                "HTTP/2 {} from the {who} on stream {} ({} bytes).",
                ty.name(),
                f.stream,
                f.len
            )),
        }
    }

    fn headers(&self, f: &FrameRecord, h: &HeaderDetail) -> Vec<String> {
        let who = f.dir.name();
        let flags = if f.flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", f.flags.join(", "))
        };
        let mut head = match h.promised {
            Some(p) => {
                let what = self
                    .request_of(p)
                    .map_or(String::new(), |r| format!(" for {r}"));
                format!(
                    "HTTP/2 PUSH_PROMISE from the {who} on stream {}{flags}: it promises stream {p}{what}, a response the client did not ask for; the client may refuse it with RST_STREAM.",
                    f.stream
                )
            }
            None => format!(
                "HTTP/2 HEADERS from the {who} on stream {}{flags}{}.",
                f.stream,
                f.what
                    .as_deref()
                    .map_or(String::new(), |w| format!(": {}", escape(w)))
            ),
        };
        let mut out = Vec::new();
        if let Some(e) = &h.error {
            head += &format!(
                " Its header block ({} bytes of HPACK) was not decoded: {}.",
                h.block_len,
                escape(e)
            );
            return vec![head];
        }
        head += &format!(
            " Its header block is {} bytes of HPACK for {} field{}.",
            h.block_len,
            h.fields,
            if h.fields == 1 { "" } else { "s" }
        );
        out.push(head);
        for s in &h.size_updates {
            out.push(format!(
                "HPACK: the block opens with a dynamic table size update to {s} bytes."
            ));
        }
        out.extend(h.shown.iter().take(FIELDS_PER_BLOCK).map(field));
        let told = h.shown.len().min(FIELDS_PER_BLOCK);
        if h.fields > told {
            out.push(format!("…and {} more fields.", h.fields - told));
        }
        out
    }

    fn request_of(&self, stream: u32) -> Option<String> {
        let x = self
            .http
            .iter()
            .find(|e| e.h2.as_ref().is_some_and(|i| i.stream_id == stream))?;
        let r = x.request.as_ref()?;
        Some(escape(&format!("{} {}", r.method, r.uri)))
    }

    fn rst(&self, f: &FrameRecord) -> String {
        let err = self
            .sum
            .rst_streams
            .iter()
            .find(|r| r.frame == f.frame && r.stream_id == f.stream)
            .map_or("an unknown code".to_string(), |r| r.error.clone());
        format!(
            "HTTP/2 RST_STREAM from the {} on stream {} ({err}): that stream ends here; the connection and its other streams go on (HTTP/1.1 would have had to close the connection).",
            f.dir.name(),
            f.stream
        )
    }

    fn goaway(&self, f: &FrameRecord) -> String {
        let Some(g) = self.sum.goaway.as_ref().filter(|g| g.frame == f.frame) else {
            return format!(
                "HTTP/2 GOAWAY from the {}: the connection is closing.",
                f.dir.name()
            );
        };
        let last = g.last_stream_id;
        let mut s = match g.from {
            Dir::Server => format!(
                "HTTP/2 GOAWAY from the server ({}), last stream id {last}: the client's streams up to {last} may still finish, none above {last} will be processed (the client may retry those on a new connection); no new stream starts on this connection.",
                g.error
            ),
            Dir::Client => format!(
                "HTTP/2 GOAWAY from the client ({}), last stream id {last}: the client is closing the connection and accepts no server push above stream {last}; no new stream starts on this connection.",
                g.error
            ),
        };
        if !g.debug.is_empty() {
            s += &format!(" Debug data: \"{}\".", escape(&g.debug));
        }
        s
    }

    fn ping(&self, f: &FrameRecord) -> String {
        let (who, peer) = (f.dir.name(), f.dir.other().name());
        if !has(f, "ACK") {
            return format!(
                "HTTP/2 PING from the {who}: 8 opaque bytes the {peer} must echo in a PING ACK (a liveness and round-trip check)."
            );
        }
        match self.sum.pings.iter().find(|p| p.ack_frame == f.frame) {
            Some(p) => format!(
                "HTTP/2 PING ACK from the {who}: it echoes the {peer}'s PING of frame {}{}.",
                p.frame,
                p.rtt_ms.map_or(String::new(), |ms| format!(
                    "; the round trip took {} as seen here",
                    super::human_duration((ms * 1e6) as i64)
                ))
            ),
            None => format!("HTTP/2 PING ACK from the {who}: it echoes a PING."),
        }
    }

    /// What the connection did in HTTP/2, for the narrative's summary.
    pub fn summary(&self) -> Vec<String> {
        let s = self.sum;
        let mut out = vec![format!(
            "HTTP/2 ({}): the client sent {}, the server {}; {} stream{}.",
            match s.origin {
                "upgrade" => "after an HTTP/1.1 Upgrade: h2c",
                "tls" => "inside TLS, ALPN h2",
                _ => "prior knowledge: the client opened with the preface",
            },
            counts(&s.frames.client),
            counts(&s.frames.server),
            s.streams,
            if s.streams == 1 { "" } else { "s" }
        )];
        if s.streams_not_listed > 0 {
            out.push(format!(
                "{} streams past the first {} are counted, not listed.",
                s.streams_not_listed,
                crate::http2::MAX_STREAMS
            ));
        }
        if self.switches > 0 {
            out.push(format!(
                "DATA switched {} between streams still sending: the messages were multiplexed on one connection.",
                times(self.switches)
            ));
        }
        if s.window_blocked > 0 {
            out.push(format!(
                "Flow control: a sender's window reached zero {}: it had to wait for a WINDOW_UPDATE before sending more DATA.",
                times(s.window_blocked)
            ));
        }
        if s.hpack_failures > 0 {
            out.push(format!(
                "{} header block{} could not be decoded (HPACK): their fields are unknown, never guessed.",
                s.hpack_failures,
                if s.hpack_failures == 1 { "" } else { "s" }
            ));
        }
        for d in [Dir::Client, Dir::Server] {
            if let Some(l) = s.unparsed_after_gap.get(d) {
                out.push(format!(
                    "The {} framing was lost in a gap of {} bytes{}: its {} later bytes were not read as frames (a frame boundary cannot be found safely), and the {} stream{} it had open ended incomplete.",
                    d.name(),
                    l.gap,
                    l.frame.map_or(String::new(), |f| format!(" (the first packet after it: frame {f})")),
                    l.bytes,
                    l.streams_open,
                    if l.streams_open == 1 { "" } else { "s" }
                ));
            }
        }
        out
    }
}

/// "once", "twice", "N times".
fn times(n: u64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn has(f: &FrameRecord, flag: &str) -> bool {
    f.flags.iter().any(|x| x == flag)
}

/// "3 DATA, 1 HEADERS, 2 SETTINGS" (nothing: "no frame").
fn counts(m: &crate::http2::FrameCounts) -> String {
    let total: u64 = m.values().sum();
    if total == 0 {
        return "no frame".into();
    }
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!(
        "{total} frame{} ({})",
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// The DATA frames gathered so far, as one sentence.
fn flush_data(data: &mut Vec<&FrameRecord>, out: &mut Vec<String>) {
    let Some(first) = data.first() else { return };
    let parts: Vec<String> = data
        .iter()
        .map(|f| {
            format!(
                "stream {}, {} byte{}{}",
                f.stream,
                f.len,
                if f.len == 1 { "" } else { "s" },
                if has(f, "END_STREAM") {
                    " (END_STREAM: its body ends)"
                } else {
                    ""
                }
            )
        })
        .collect();
    out.push(format!(
        "HTTP/2 DATA from the {}: {}.",
        first.dir.name(),
        parts.join("; ")
    ));
    data.clear();
}

fn interleave(dir: Dir, a: u32, b: u32) -> String {
    format!(
        "Streams {a} and {b} take turns: the {} interleaves their DATA frames on one connection, so neither waits for the other to finish (HTTP/2 multiplexing; TCP below still delivers the bytes in one order).",
        dir.name()
    )
}

fn blocked(dir: Dir, stream: u32, w: i64) -> String {
    let what = if stream == 0 {
        "connection window".to_string()
    } else {
        format!("window on stream {stream}")
    };
    let scope = if stream == 0 {
        "on the connection".to_string()
    } else {
        format!("on stream {stream}")
    };
    format!(
        "Flow control: after this DATA the {}'s {what} is {w} bytes: it may send no more DATA {scope} until the {} sends a WINDOW_UPDATE.",
        dir.name(),
        dir.other().name()
    )
}

fn window_update(f: &FrameRecord, inc: i64, window: Option<i64>) -> String {
    let (who, peer) = (f.dir.name(), f.dir.other().name());
    let (target, scope) = if f.stream == 0 {
        (
            "the connection (stream 0)".to_string(),
            "on the connection".to_string(),
        )
    } else {
        (
            format!("stream {}", f.stream),
            format!("on stream {}", f.stream),
        )
    };
    let after = window.map_or(String::new(), |w| {
        format!("; the {peer} may now send {w} bytes {scope} before it must wait again")
    });
    format!("HTTP/2 WINDOW_UPDATE from the {who} for {target}: +{inc} bytes{after} (flow control).")
}

/// What a SETTINGS parameter means, briefly.
fn gloss(name: &str, v: u32) -> String {
    match name {
        "SETTINGS_HEADER_TABLE_SIZE" => format!("an HPACK dynamic table of up to {v} bytes"),
        "SETTINGS_ENABLE_PUSH" if v == 0 => "no server push".into(),
        "SETTINGS_ENABLE_PUSH" => "server push allowed".into(),
        "SETTINGS_MAX_CONCURRENT_STREAMS" => format!("at most {v} streams open at once"),
        "SETTINGS_INITIAL_WINDOW_SIZE" => {
            format!("each stream may receive {v} bytes before a WINDOW_UPDATE")
        }
        "SETTINGS_MAX_FRAME_SIZE" => format!("frames of up to {v} bytes"),
        "SETTINGS_MAX_HEADER_LIST_SIZE" => format!("header lists of up to {v} bytes"),
        "SETTINGS_ENABLE_CONNECT_PROTOCOL" => "extended CONNECT (RFC 8441)".into(),
        "SETTINGS_NO_RFC7540_PRIORITIES" => "no RFC 7540 priorities".into(),
        _ => "a parameter this tool does not know".into(),
    }
}

fn settings(f: &FrameRecord, v: &[(String, u32)]) -> String {
    let (who, peer) = (f.dir.name(), f.dir.other().name());
    if v.is_empty() {
        return format!(
            "HTTP/2 SETTINGS from the {who} (stream 0), empty: it keeps every default; the {peer} must still acknowledge it with a SETTINGS ACK."
        );
    }
    let list: Vec<String> = v
        .iter()
        .map(|(n, x)| format!("{n} = {x} ({})", gloss(n, *x)))
        .collect();
    format!(
        "HTTP/2 SETTINGS from the {who} (stream 0, {} bytes): {}. These are the {who}'s rules for what the {peer} sends it; the {peer} must acknowledge them with a SETTINGS ACK.",
        f.len,
        list.join(", ")
    )
}

/// How HPACK sent one field.
fn field(f: &ShownField) -> String {
    let text = format!(
        "`{}: {}{}`",
        escape(&f.name),
        escape(&f.value),
        if f.value_cut { "…" } else { "" }
    );
    let i = f.rep.index;
    let name_from = |huff: bool| {
        let name = if i == 0 {
            "new name".to_string()
        } else {
            format!("name from index {i}")
        };
        if huff {
            format!("{name}, value Huffman-coded")
        } else {
            name
        }
    };
    match f.rep.kind {
        RepKind::Indexed if i <= 61 => format!(
            "HPACK: {text} was sent as index {i}: the whole field is in HPACK's static table, so one index stands for it."
        ),
        RepKind::Indexed => format!(
            "HPACK: {text} was sent as index {i}: the name and value were sent earlier on this connection, and both ends keep them in the dynamic table (62 and up; 62 the newest entry)."
        ),
        RepKind::Incremental => format!(
            "HPACK: {text} was sent as a literal with incremental indexing ({}): both ends add it to their dynamic table as entry 62, so a later block can send it as an index.",
            name_from(f.rep.huffman)
        ),
        RepKind::WithoutIndexing => format!(
            "HPACK: {text} was sent as a literal without indexing ({}): it is not added to the dynamic table.",
            name_from(f.rep.huffman)
        ),
        RepKind::NeverIndexed => format!(
            "HPACK: {text} was sent as a never-indexed literal ({}): no table entry, and no intermediary may index it either (RFC 7541 §6.2.3, for secrets such as cookies).",
            name_from(f.rep.huffman)
        ),
        RepKind::SizeUpdate => format!("HPACK: dynamic table size update to {i} bytes."),
    }
}

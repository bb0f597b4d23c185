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

mod body;
mod detect;
mod framing;

pub use framing::header;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use body::BodySink;
use detect::Verdict;
use framing::{BodyKind, Chunked, Head, StartLine};

pub use crate::flow::Dir;

/// Application protocol detected from content (never from ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppProto {
    Http,
    Tls,
    Ssh,
    Smtp,
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
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            keep_bodies: true,
            body_cap: 1 << 20,
            decoded_cap: 64 << 20,
            header_cap: 64 << 10,
            max_headers: 100,
        }
    }
}

/// A message finished (normally or not) since the last `take_new_events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpEvent {
    RequestComplete { idx: usize },
    ResponseComplete { idx: usize },
}

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

/// A capture gap as the anomaly texts name it: `offset` is the stream offset of its first
/// byte (the TCP engine's rel seq is `offset + 1`).
#[derive(Clone, Copy, Debug)]
struct GapRef {
    offset: u64,
    len: u64,
}

impl GapRef {
    fn text(self) -> String {
        format!(
            "a capture gap of {} bytes at rel seq {}",
            self.len,
            self.offset.saturating_add(1)
        )
    }
}

/// Message heads possibly lost in gaps of one direction, pending until the next head of
/// that direction is found (resync).
#[derive(Clone, Copy, Debug)]
struct Loss {
    gap: GapRef,
    /// Gap bytes outside any surviving body.
    span: u64,
    /// `unparsed` of the direction when the loss began: bytes skipped up to the resync
    /// belong to the lost messages too.
    unparsed_at: u64,
    /// Bytes between messages were lost, so at least one head (or its start) was.
    head_lost: bool,
}

/// Requests whose heads were lost in a client-side gap, standing in the pairing queue
/// where they were sent.
#[derive(Clone, Copy, Debug)]
struct LostReqs {
    gap: GapRef,
    /// Certainly lost (1 when bytes between messages were lost).
    min: usize,
    /// Estimated from the lost bytes and the average request size.
    est: usize,
    /// Responses already given to them.
    used: usize,
}

/// One place in the pairing queue (responses come in request order).
#[derive(Clone, Copy, Debug)]
enum Slot {
    Ex(usize),
    Lost(LostReqs),
}

/// The shortest head (`HTTP/1.1 200\r\n\r\n`, `GET / HTTP/1.0\r\n\r\n` is longer): fewer lost
/// bytes between messages cannot have held one (a lost FIN is a gap of one byte).
const MIN_HEAD: u64 = 16;

/// Pairings resting on an estimate of how many responses a server gap swallowed: marked
/// uncertain until the connection's end confirms the estimate (every request after it
/// answered) or corrects it (the last `d` requests unanswered although the server went on
/// and closed: the estimate was `d` short).
struct Run {
    gap: GapRef,
    /// Waiting exchanges in request order, from the first one the estimate skipped.
    exs: Vec<usize>,
    k: usize,
    /// Other losses or odd pairings since: the end proves nothing.
    broken: bool,
}

/// Request-less exchanges remembered for a late request or a late-reported client gap.
const MAX_ORPHANS: usize = 64;

/// A response that found no request to answer when it arrived.
#[derive(Clone, Copy, Debug)]
struct Orphan {
    idx: usize,
    /// Responses estimated lost in a server gap just before it, with that gap: they
    /// answered requests before the one this response answers.
    lost_before: usize,
    server_gap: Option<GapRef>,
    /// Given to a request lost in a client gap.
    claimed: bool,
}

/// Bytes of a tunnel looked at to tell what runs inside.
const TUNNEL_SNIFF: usize = 16;

struct TunnelSniff {
    idx: usize,
    early: [[u8; TUNNEL_SNIFF]; 2],
    early_len: [usize; 2],
    done: [bool; 2],
}

/// Most anomaly notes kept per exchange; a lossy download would otherwise add one note per
/// gap without end.
const MAX_NOTES: usize = 16;
const MORE_NOTES: &str = "more anomalies not listed";

impl Exchange {
    fn note(&mut self, msg: impl Into<String>) {
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

enum BodyState {
    Length(u64),
    Chunked(Box<Chunked>),
    Close,
}

enum Phase {
    /// Looking for a start line. `at_line_start` = false means we are inside
    /// a line we decided to skip, so only bytes after the next LF count.
    AwaitStart {
        at_line_start: bool,
    },
    Body(BodyState),
    /// Upgraded or CONNECT tunnel: bytes are not HTTP any more.
    Tunnel,
    Closed,
    /// Connection is not HTTP.
    Off,
}

struct Current {
    idx: usize,
    sink: BodySink,
    expect_continue: bool,
    missing: bool,
    /// Body bytes known lost in gaps; None once a gap broke the framing.
    missing_bytes: Option<u64>,
    head_len: u64,
}

struct DirState {
    phase: Phase,
    /// Unconsumed bytes (a partial header section or undecided line),
    /// bounded by roughly `header_cap`.
    buf: Vec<u8>,
    /// (offset in buf, frame, ts) of each push that contributed to buf.
    marks: Vec<(usize, u64, i64)>,
    /// Resume offset for the end-of-head search, relative to buf start (> 0: the start
    /// line was already found good).
    head_scanned: usize,
    /// Bytes of an undecided start line already checked ("maybe", no line end in them):
    /// it is checked again only once a line end (or the size limit) arrives, so a line
    /// arriving a byte at a time costs linear, not quadratic, work.
    start_scanned: usize,
    cur: Option<Current>,
    unparsed: u64,
    early: [u8; 8],
    early_len: usize,
    sniffed: bool,
    /// Stream offset of the next byte (kept for `gap` without an offset).
    offset: u64,
    /// A gap broke the framing: look for the next start line at any byte.
    resync: bool,
    loss: Option<Loss>,
    /// (bytes, count) of complete messages, head and body: the average size estimates how
    /// many messages a gap swallowed.
    sizes: (u64, u64),
}

impl DirState {
    fn new() -> Self {
        DirState {
            phase: Phase::AwaitStart {
                at_line_start: true,
            },
            buf: Vec::new(),
            marks: Vec::new(),
            head_scanned: 0,
            start_scanned: 0,
            cur: None,
            unparsed: 0,
            early: [0; 8],
            early_len: 0,
            sniffed: false,
            offset: 0,
            resync: false,
            loss: None,
            sizes: (0, 0),
        }
    }

    /// Drop buffered bytes; they can never be parsed now.
    fn discard_buf(&mut self, count_unparsed: bool) {
        if count_unparsed {
            self.unparsed += self.buf.len() as u64;
        }
        self.buf = Vec::new();
        self.marks.clear();
        self.head_scanned = 0;
        self.start_scanned = 0;
    }
}

/// While the protocol is undecided we scan this many skipped bytes per
/// connection for an HTTP start line before calling it Unknown; keeps
/// unidentified binary protocols cheap.
const DETECT_SCAN_CAP: u64 = 4 << 20;

impl std::fmt::Debug for HttpAssembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAssembler")
            .field("app", &self.app)
            .field("exchanges", &self.exchanges.len())
            .finish()
    }
}

pub struct HttpAssembler {
    cfg: HttpConfig,
    app: Option<AppProto>,
    dirs: [DirState; 2],
    exchanges: Vec<Exchange>,
    /// Exchanges whose request has been seen but no final response yet, and requests lost
    /// in client gaps, in the order they were sent.
    awaiting: VecDeque<Slot>,
    /// Request-less exchanges made since the last request head: the answers to requests a
    /// client gap reported later swallowed, or to requests the client stream delivers
    /// late (held behind a hole) and that were sent before the response began.
    orphans: Vec<Orphan>,
    tunnel: Option<TunnelSniff>,
    run: Option<Run>,
    /// The server closed with a FIN (not the capture's end).
    server_fin: bool,
    events: Vec<HttpEvent>,
    anomalies: Vec<String>,
    finished: bool,
}

fn frame_at(marks: &[(usize, u64, i64)], pos: usize) -> (u64, i64) {
    let i = marks.partition_point(|m| m.0 <= pos);
    marks
        .get(i.saturating_sub(1))
        .map_or((0, 0), |&(_, f, t)| (f, t))
}

fn ms(from: i64, to: i64) -> f64 {
    to.saturating_sub(from) as f64 / 1e6
}

impl HttpAssembler {
    pub fn new(cfg: HttpConfig) -> Self {
        HttpAssembler {
            cfg,
            app: None,
            dirs: [DirState::new(), DirState::new()],
            exchanges: Vec::new(),
            awaiting: VecDeque::new(),
            orphans: Vec::new(),
            tunnel: None,
            run: None,
            server_fin: false,
            events: Vec::new(),
            anomalies: Vec::new(),
            finished: false,
        }
    }

    /// Detected protocol; Unknown while still undecided.
    pub fn app(&self) -> AppProto {
        self.app.unwrap_or(AppProto::Unknown)
    }

    /// Consume the assembler, keeping only the exchanges.
    pub fn into_exchanges(self) -> Vec<Exchange> {
        self.exchanges
    }

    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    pub fn take_new_events(&mut self) -> Vec<HttpEvent> {
        std::mem::take(&mut self.events)
    }

    /// Bytes skipped in `dir` because they could not belong to a message
    /// (mid-body capture start, resync after gaps, garbage).
    pub fn unparsed_bytes(&self, dir: Dir) -> u64 {
        self.dirs[dir.idx()].unparsed
    }

    /// Connection-level anomalies that belong to no exchange (gaps between
    /// messages).
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    fn decide(&mut self, proto: AppProto) {
        self.app = Some(proto);
        if proto != AppProto::Http {
            for st in &mut self.dirs {
                st.phase = Phase::Off;
                st.cur = None;
                st.discard_buf(false);
            }
        }
    }

    /// Content sniffing for the non-HTTP protocols (HTTP itself is decided
    /// by the parser on its first plausible start line).
    fn sniff(&mut self, d: Dir, bytes: &[u8]) {
        // The server's first bytes: a client's first command is read against them.
        let (greeting, greeting_len) = {
            let s = &self.dirs[Dir::Server.idx()];
            (s.early, if d == Dir::Client { s.early_len } else { 0 })
        };
        let st = &mut self.dirs[d.idx()];
        if st.sniffed {
            return;
        }
        for &b in bytes {
            let Some(slot) = st.early.get_mut(st.early_len) else {
                break;
            };
            *slot = b;
            st.early_len += 1;
        }
        let early = st.early.get(..st.early_len).unwrap_or_default();
        match detect::sniff(d, early, greeting.get(..greeting_len).unwrap_or_default()) {
            Ok(p) => self.decide(p),
            Err(Verdict::Maybe) if st.early_len < st.early.len() => {}
            Err(_) => st.sniffed = true,
        }
    }

    pub fn push(&mut self, dir: Dir, bytes: &[u8], frame: u64, ts_ns: i64) {
        if self.finished || bytes.is_empty() {
            return;
        }
        let d = dir.idx();
        self.dirs[d].offset = self.dirs[d].offset.saturating_add(bytes.len() as u64);
        if self.app.is_none() {
            self.sniff(dir, bytes);
        }
        if matches!(self.dirs[d].phase, Phase::Tunnel) {
            self.tunnel_bytes(dir, bytes);
            return;
        }
        if matches!(self.dirs[d].phase, Phase::Off | Phase::Closed) {
            return;
        }
        let st = &mut self.dirs[d];
        let mut buf = std::mem::take(&mut st.buf);
        let mut marks = std::mem::take(&mut st.marks);
        if buf.is_empty() {
            // Fast path: parse straight from the caller's slice, copying only
            // an unfinished tail.
            marks.clear();
            marks.push((0, frame, ts_ns));
            let used = self.process(dir, bytes, &marks);
            buf.extend_from_slice(bytes.get(used..).unwrap_or_default());
        } else {
            marks.push((buf.len(), frame, ts_ns));
            buf.extend_from_slice(bytes);
            let used = self.process(dir, &buf, &marks).min(buf.len());
            // Nothing used (a head still arriving): leave buf and marks as they are, so a
            // head arriving in many small pushes costs linear work.
            if used > 0 {
                buf.drain(..used);
                let keep_from = marks.partition_point(|m| m.0 <= used).saturating_sub(1);
                marks.drain(..keep_from);
                for m in &mut marks {
                    m.0 = m.0.saturating_sub(used);
                }
            }
        }
        let st = &mut self.dirs[d];
        if matches!(st.phase, Phase::Off | Phase::Tunnel | Phase::Closed) {
            return;
        }
        // A big push must not pin its capacity for the connection's life.
        if buf.capacity() > 2 * self.cfg.header_cap.max(4096) {
            buf.shrink_to(buf.len());
        }
        st.buf = buf;
        st.marks = marks;
        if self.app.is_none() && self.dirs.iter().map(|s| s.unparsed).sum::<u64>() > DETECT_SCAN_CAP
        {
            self.decide(AppProto::Unknown);
        }
    }

    /// Parse as much of `data` as possible; returns bytes consumed. What is
    /// left is an unfinished header section or line, kept for the next push.
    fn process(&mut self, dir: Dir, data: &[u8], marks: &[(usize, u64, i64)]) -> usize {
        let d = dir.idx();
        let mut pos = 0;
        while pos < data.len() {
            let rest = data.get(pos..).unwrap_or_default();
            if self.dirs[d].resync && matches!(self.dirs[d].phase, Phase::AwaitStart { .. }) {
                // After a gap that broke the framing the stream may resume mid-line:
                // the next start line is looked for at any byte.
                let st = &mut self.dirs[d];
                st.start_scanned = 0;
                st.head_scanned = 0;
                match detect::find_start(dir, rest, self.cfg.header_cap) {
                    Ok(p) => {
                        st.unparsed += p as u64;
                        pos += p;
                        st.resync = false;
                        st.phase = Phase::AwaitStart {
                            at_line_start: true,
                        };
                        continue;
                    }
                    Err(keep) => {
                        let skip = rest.len().saturating_sub(keep);
                        st.unparsed += skip as u64;
                        return pos + skip;
                    }
                }
            }
            match &self.dirs[d].phase {
                Phase::Tunnel => {
                    self.tunnel_bytes(dir, rest);
                    return data.len();
                }
                Phase::Off | Phase::Closed => return data.len(),
                Phase::Body(_) => match self.body_step(dir, data, pos, marks) {
                    Some(p) => pos = p,
                    None => return pos,
                },
                Phase::AwaitStart {
                    at_line_start: false,
                } => {
                    let st = &mut self.dirs[d];
                    match rest.iter().position(|&b| b == b'\n') {
                        Some(i) => {
                            st.unparsed += i as u64 + 1;
                            pos += i + 1;
                            st.phase = Phase::AwaitStart {
                                at_line_start: true,
                            };
                        }
                        None => {
                            st.unparsed += rest.len() as u64;
                            return data.len();
                        }
                    }
                }
                Phase::AwaitStart {
                    at_line_start: true,
                } => {
                    // Blank lines between messages are tolerated (RFC 9112 §2.2).
                    if matches!(rest.first(), Some(b'\r' | b'\n')) {
                        pos += 1;
                        continue;
                    }
                    let checked = self.dirs[d].start_scanned;
                    let verdict = if self.dirs[d].head_scanned > 0 {
                        Verdict::Yes
                    } else if checked > 0
                        && rest.len() < self.cfg.header_cap
                        && !rest.get(checked..).unwrap_or_default().contains(&b'\n')
                    {
                        Verdict::Maybe
                    } else {
                        detect::start_line(dir, rest, self.cfg.header_cap)
                    };
                    self.dirs[d].start_scanned = 0;
                    match verdict {
                        Verdict::No => {
                            self.dirs[d].phase = Phase::AwaitStart {
                                at_line_start: false,
                            }
                        }
                        Verdict::Maybe => {
                            self.dirs[d].start_scanned = rest.len();
                            return pos;
                        }
                        Verdict::Yes => {
                            if self.app.is_none() {
                                self.decide(AppProto::Http);
                            }
                            let scanned = self.dirs[d].head_scanned;
                            match framing::find_head_end(rest, scanned) {
                                Err(resume) if rest.len() <= self.cfg.header_cap => {
                                    self.dirs[d].head_scanned = resume;
                                    return pos;
                                }
                                Ok(end) if end <= self.cfg.header_cap => {
                                    self.dirs[d].head_scanned = 0;
                                    let head = framing::parse_head(
                                        dir,
                                        rest.get(..end).unwrap_or_default(),
                                        self.cfg.max_headers,
                                    );
                                    self.on_head(dir, head, pos, pos + end, marks);
                                    pos += end;
                                }
                                _ => {
                                    self.dirs[d].head_scanned = 0;
                                    self.head_too_large(dir, rest, frame_at(marks, pos));
                                    // Skip the rest of this start line; resync.
                                    pos += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        pos
    }

    fn new_exchange(&mut self) -> usize {
        self.exchanges.push(Exchange::default());
        self.exchanges.len() - 1
    }

    /// A request-less exchange at the front of the queue: a response with no request seen
    /// (capture started late, request lost, or the first waiting request was sent after
    /// this response began, so it cannot be what it answers).
    fn orphan(
        &mut self,
        note: Option<String>,
        uncertain: bool,
        carry: (usize, Option<GapRef>),
    ) -> usize {
        let i = self.new_exchange();
        self.awaiting.push_front(Slot::Ex(i));
        self.break_run();
        // One given to a lost request already is not waiting for its request.
        if note.is_none() {
            // A server-only capture makes one per response: only the latest few can
            // still meet their request.
            if self.orphans.len() >= MAX_ORPHANS {
                self.orphans.remove(0);
            }
            self.orphans.push(Orphan {
                idx: i,
                lost_before: carry.0,
                server_gap: carry.1,
                claimed: false,
            });
        }
        let ex = &mut self.exchanges[i];
        if let Some(n) = note {
            ex.note(n);
        }
        ex.pairing_uncertain |= uncertain;
        i
    }

    fn req_frame(&self, slot: &Slot) -> Option<u64> {
        match slot {
            Slot::Ex(i) => self
                .exchanges
                .get(*i)
                .and_then(|e| e.request.as_ref())
                .map(|r| r.frame),
            Slot::Lost(_) => None,
        }
    }

    /// Exchange a server head starting in `frame` belongs to, left at the front of the
    /// queue (a final response pops it). Resolves a pending server-side loss first, and
    /// never pairs with a request sent after the response began.
    fn resolve_target(&mut self, frame: u64) -> usize {
        let mut carry = (0, None);
        if let Some(loss) = self.dirs[Dir::Server.idx()].loss.take() {
            carry = (self.skip_lost_responses(loss, frame), Some(loss.gap));
        }
        loop {
            let Some(&front) = self.awaiting.front() else {
                return self.orphan(None, false, carry);
            };
            match front {
                Slot::Ex(i) => {
                    if self.req_frame(&front).is_some_and(|f| f > frame) {
                        return self.orphan(None, false, carry);
                    }
                    // Paired by the same estimate as the first response after the gap.
                    if self.run.as_ref().is_some_and(|r| !r.broken)
                        && let Some(ex) = self.exchanges.get_mut(i)
                    {
                        ex.pairing_uncertain = true;
                    }
                    return i;
                }
                Slot::Lost(mut l) => {
                    let next = self.awaiting.get(1).and_then(|n| self.req_frame(n));
                    // The next captured request was sent after this response began (or
                    // there is none): the response answers a lost request.
                    let forced = next.is_none_or(|f| f > frame);
                    let certain = l.used < l.min || forced;
                    if certain || l.used < l.est {
                        l.used += 1;
                        if let Some(Slot::Lost(q)) = self.awaiting.front_mut() {
                            *q = l;
                        }
                        let mut note = format!("request head lost in {}", l.gap.text());
                        if !certain {
                            note.push_str(
                                " (pairing uncertain: estimated from the lost bytes and the average request size)",
                            );
                        }
                        self.awaiting.pop_front();
                        let i = self.orphan(Some(note), !certain, (0, None));
                        // Later responses may answer more lost requests of this gap.
                        self.awaiting.insert(1, Slot::Lost(l));
                        return i;
                    }
                    self.awaiting.pop_front();
                }
            }
        }
    }

    /// Estimated number of messages in `span` lost bytes of `dir`, from the average size
    /// of its complete messages; `at_least_one` when bytes between messages were lost.
    fn estimate(&self, dir: Dir, span: u64, at_least_one: bool) -> Option<usize> {
        let (bytes, count) = self.dirs[dir.idx()].sizes;
        let avg = bytes.checked_div(count).filter(|&a| a > 0)?;
        let n = if at_least_one {
            ((span + avg / 2) / avg).max(1)
        } else {
            span / avg
        };
        Some(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The server resynchronised on a head starting in `frame` after a gap: the requests
    /// whose responses fell entirely in the gap are answered by nothing. Responses come
    /// in request order, so they are the first `k` waiting requests; `k` is bounded by the
    /// requests sent before this response began (it answers one of them) and by the
    /// evidence that a head was lost, and estimated from the lost bytes in between.
    ///
    /// Returns the responses estimated lost that no waiting request could take (none was
    /// sent before this response began): they answered requests not seen yet.
    fn skip_lost_responses(&mut self, loss: Loss, frame: u64) -> usize {
        let skipped = self.dirs[Dir::Server.idx()]
            .unparsed
            .saturating_sub(loss.unparsed_at);
        let span = loss.span.saturating_add(skipped);
        // Lost requests already given all the responses the evidence allowed take no more.
        self.awaiting.retain(|sl| match sl {
            Slot::Lost(l) => l.used < l.est.max(l.min),
            Slot::Ex(_) => true,
        });
        let before = self
            .awaiting
            .iter()
            .take_while(|sl| self.req_frame(sl).is_none_or(|f| f <= frame))
            .count();
        let k_max = before.saturating_sub(1);
        let lost_min = usize::from(loss.head_lost && span >= MIN_HEAD);
        let k_min = lost_min.min(k_max);
        let est = self
            .estimate(Dir::Server, span, loss.head_lost)
            .unwrap_or(lost_min)
            .max(lost_min);
        let k = est.clamp(k_min, k_max);
        let uncertain = k_max > k_min;
        let gap = loss.gap.text();
        if uncertain {
            let exs: Vec<usize> = self
                .awaiting
                .iter()
                .filter_map(|sl| match sl {
                    Slot::Ex(i) => Some(*i),
                    Slot::Lost(_) => None,
                })
                .collect();
            let broken = self.run.is_some() || exs.len() < self.awaiting.len();
            self.run = Some(Run {
                gap: loss.gap,
                exs,
                k,
                broken,
            });
        } else {
            self.break_run();
        }
        for _ in 0..k {
            match self.awaiting.front_mut() {
                Some(Slot::Ex(i)) => {
                    let i = *i;
                    self.awaiting.pop_front();
                    let ex = &mut self.exchanges[i];
                    ex.note(format!("response head lost in {gap}"));
                    ex.pairing_uncertain |= uncertain;
                    self.update_exchange(i);
                }
                // A request lost in a client gap, its response in this one.
                Some(Slot::Lost(l)) => {
                    l.used += 1;
                    if l.used >= l.est.max(l.min) {
                        self.awaiting.pop_front();
                    }
                }
                None => break,
            }
        }
        if uncertain && let Some(Slot::Ex(i)) = self.awaiting.front().copied() {
            let ex = &mut self.exchanges[i];
            ex.note(format!(
                "pairing uncertain after {gap}: {k} of {} waiting requests taken as unanswered (estimated from the lost bytes and the average response size)",
                k_max + 1
            ));
            ex.pairing_uncertain = true;
        }
        if before == 0 { est } else { 0 }
    }

    /// A client gap lost what may be request heads: they take a place in the queue, and
    /// responses already seen without a request (the gap is reported late, when the
    /// server's ACK shows the bytes were sent) are theirs.
    fn client_loss(&mut self, gap: GapRef, head_lost: bool, merged: bool) {
        self.break_run();
        if merged {
            if let Some(Slot::Lost(l)) = self.awaiting.back_mut() {
                l.gap.len = l.gap.len.saturating_add(gap.len);
                l.min = l.min.max(usize::from(head_lost));
            }
            return;
        }
        let note = format!("request head lost in {}", gap.text());
        let min = usize::from(head_lost);
        let est = self
            .estimate(Dir::Client, gap.len, head_lost)
            .unwrap_or(min)
            .max(min);
        // Responses seen since the last request, in order, each perhaps preceded by
        // responses lost in a server gap: the lost requests take them in that order.
        let mut used = 0;
        let mut orphans = std::mem::take(&mut self.orphans);
        for o in orphans.iter_mut().filter(|o| !o.claimed) {
            if used >= est {
                break;
            }
            let take = o.lost_before.min(est - used);
            used += take;
            o.lost_before -= take;
            if take > 0
                && let (Some(sg), Some(ex)) = (o.server_gap, self.exchanges.get_mut(o.idx))
            {
                ex.note(format!(
                    "follows an exchange lost in capture gaps: request head lost in {}, response head lost in {}",
                    gap.text(),
                    sg.text()
                ));
            }
            if used < est && o.lost_before == 0 {
                o.claimed = true;
                used += 1;
                if let Some(ex) = self.exchanges.get_mut(o.idx) {
                    ex.note(note.clone());
                }
            }
        }
        orphans.retain(|o| !o.claimed);
        self.orphans = orphans;
        // The request certainly lost gets its exchange now, in its place among the
        // requests; its response (or the news that it was lost too) pairs with it. A gap
        // too short for a whole head (a lost FIN counts one byte) waits for a response.
        let mut min = min;
        if gap.len >= MIN_HEAD {
            while used < min {
                let i = self.new_exchange();
                self.exchanges[i].note(note.clone());
                self.awaiting.push_back(Slot::Ex(i));
                used += 1;
            }
            min = 0;
        }
        // More lost requests only on the estimate: decided as responses come.
        self.awaiting.push_back(Slot::Lost(LostReqs {
            gap,
            min,
            est,
            used,
        }));
    }

    /// The client resynchronised on a request head: how many requests the gap held.
    fn client_resync(&mut self, loss: Loss) {
        let skipped = self.dirs[Dir::Client.idx()]
            .unparsed
            .saturating_sub(loss.unparsed_at);
        let span = loss.span.saturating_add(skipped);
        let est = self.estimate(Dir::Client, span, loss.head_lost);
        if let Some(Slot::Lost(l)) = self.awaiting.back_mut() {
            l.est = est.unwrap_or(l.min).max(l.min);
        }
    }

    fn head_too_large(&mut self, dir: Dir, rest: &[u8], (frame, ts): (u64, i64)) {
        let start = framing::parse_start_line(dir, rest);
        let head = Head {
            start,
            headers: Vec::new(),
            anomalies: vec!["header section too large".to_string()],
        };
        let target = (dir == Dir::Server).then(|| self.resolve_target(frame));
        let idx = self.install_head(head, target, (frame, ts), (frame, ts));
        self.end_message(dir, idx, false);
        self.dirs[dir.idx()].phase = Phase::AwaitStart {
            at_line_start: false,
        };
    }

    /// Create the Request/Response for a parsed head; returns the exchange.
    fn install_head(
        &mut self,
        head: Head,
        target: Option<usize>,
        (f0, t0): (u64, i64),
        (f1, t1): (u64, i64),
    ) -> usize {
        let max = self.cfg.max_headers;
        let mut headers = head.headers;
        headers.truncate(max);
        match head.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                // A response already seen without a request, that began after this
                // request was sent: the client stream was held behind a hole, and this is
                // the request it answers (responses come in request order).
                let adopt = self.orphans.iter().position(|o| {
                    !o.claimed
                        && self.exchanges.get(o.idx).is_some_and(|e| {
                            e.request.is_none()
                                && e.response
                                    .as_ref()
                                    .map(|r| r.frame)
                                    .or(e.interim.first().map(|i| i.frame))
                                    .is_some_and(|rf| rf > f0)
                        })
                });
                let idx = match adopt {
                    // Responses lost in a server gap came before that one: this request
                    // had one of them.
                    Some(p) if self.orphans[p].lost_before > 0 => {
                        self.orphans.drain(..p);
                        let o = &mut self.orphans[0];
                        o.lost_before -= 1;
                        let note = o
                            .server_gap
                            .map(|g| format!("response head lost in {}", g.text()));
                        let i = self.new_exchange();
                        if let Some(n) = note {
                            self.exchanges[i].note(n);
                        }
                        i
                    }
                    Some(p) => {
                        let i = self.orphans[p].idx;
                        self.orphans.drain(..=p);
                        self.break_run();
                        i
                    }
                    None => {
                        self.orphans.clear();
                        let i = self.new_exchange();
                        self.awaiting.push_back(Slot::Ex(i));
                        if let Some(r) = self.run.as_mut() {
                            r.exs.push(i);
                        }
                        i
                    }
                };
                let ex = &mut self.exchanges[idx];
                for a in head.anomalies {
                    ex.note(a);
                }
                ex.request = Some(Request {
                    method,
                    uri,
                    version,
                    headers,
                    trailers: Vec::new(),
                    frame: f0,
                    ts_ns: t0,
                    end_frame: f1,
                    end_ts_ns: t1,
                    body_bytes: 0,
                    body_bytes_decoded: 0,
                    body_bytes_missing: Some(0),
                    body_bytes_announced: None,
                    content_encoding: None,
                    chunked: false,
                    body: None,
                    body_truncated: false,
                    body_sha256: None,
                    complete: false,
                });
                idx
            }
            StartLine::Response {
                status,
                reason,
                version,
            } => {
                let idx = target.unwrap_or_else(|| self.resolve_target(f0));
                if matches!(self.awaiting.front(), Some(Slot::Ex(i)) if *i == idx) {
                    self.awaiting.pop_front();
                }
                let ex = &mut self.exchanges[idx];
                for a in head.anomalies {
                    ex.note(a);
                }
                ex.response = Some(Response {
                    status,
                    reason,
                    version,
                    headers,
                    trailers: Vec::new(),
                    frame: f0,
                    ts_ns: t0,
                    end_frame: f1,
                    end_ts_ns: t1,
                    body_bytes_wire: 0,
                    body_bytes_decoded: 0,
                    body_bytes_missing: Some(0),
                    body_bytes_announced: None,
                    content_encoding: None,
                    chunked: false,
                    body_sha256: None,
                    body: None,
                    body_truncated: false,
                    complete: false,
                });
                self.update_exchange(idx);
                idx
            }
        }
    }

    fn on_head(
        &mut self,
        dir: Dir,
        head: Head,
        start: usize,
        end: usize,
        marks: &[(usize, u64, i64)],
    ) {
        let first = frame_at(marks, start);
        let last = frame_at(marks, end.saturating_sub(1));
        let (is_request, status) = match &head.start {
            StartLine::Request { .. } => (true, 0),
            StartLine::Response { status, .. } => (false, *status),
        };
        self.dirs[dir.idx()].resync = false;
        if let Some(loss) = self.dirs[dir.idx()].loss.take() {
            match dir {
                Dir::Client => self.client_resync(loss),
                // Put back for resolve_target, which needs the response's frame.
                Dir::Server => self.dirs[dir.idx()].loss = Some(loss),
            }
        }
        let head_len = end.saturating_sub(start) as u64;
        let target = (!is_request).then(|| self.resolve_target(first.0));
        if !is_request && (100..200).contains(&status) && status != 101 {
            // Interim (100 Continue, 103 Early Hints): recorded, the final
            // response for the same request is still to come.
            let idx = target.unwrap_or_else(|| self.resolve_target(first.0));
            let ex = &mut self.exchanges[idx];
            ex.interim.push(Interim {
                status,
                frame: first.0,
                ts_ns: first.1,
            });
            for a in head.anomalies {
                ex.note(a);
            }
            return;
        }
        let req_method = target
            .and_then(|i| self.exchanges.get(i))
            .and_then(|e| e.request.as_ref())
            .map(|r| r.method.clone());
        let is_head = req_method.as_deref() == Some("HEAD");
        let connect_ok = req_method.as_deref() == Some("CONNECT") && (200..300).contains(&status);
        let no_body = !is_request
            && (is_head || status == 204 || status == 304 || status < 200 || connect_ok);
        let fr = framing::body_framing(&head.headers, is_request, no_body);
        let expect_continue = is_request
            && framing::header(&head.headers, "expect")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
        let upgrade = framing::header(&head.headers, "upgrade").map(str::to_string);
        let idx = self.install_head(head, target, first, last);
        let chunked = fr.kind == BodyKind::Chunked;
        let announced = match fr.kind {
            BodyKind::Length(n) => Some(n),
            BodyKind::None => Some(0),
            _ => None,
        };
        {
            let ex = &mut self.exchanges[idx];
            for a in fr.anomalies {
                ex.note(a);
            }
            if let Some(r) = ex.request.as_mut().filter(|_| is_request) {
                r.content_encoding = fr.content_encoding.clone();
                r.chunked = chunked;
                r.body_bytes_announced = announced;
            }
            if let Some(r) = ex.response.as_mut().filter(|_| !is_request) {
                r.content_encoding = fr.content_encoding.clone();
                r.chunked = chunked;
                r.body_bytes_announced = announced;
            }
        }
        if status == 101 || connect_ok {
            let label = if status == 101 {
                let proto = upgrade
                    .or_else(|| {
                        self.exchanges[idx]
                            .request
                            .as_ref()
                            .and_then(|r| framing::header(&r.headers, "upgrade"))
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| "unknown".to_string());
                format!("upgraded: {proto}")
            } else {
                "tunnel".to_string()
            };
            let (kind, target) = if status == 101 {
                (
                    "upgrade",
                    label.trim_start_matches("upgraded: ").to_string(),
                )
            } else {
                (
                    "connect",
                    self.exchanges[idx]
                        .request
                        .as_ref()
                        .map(|r| r.uri.clone())
                        .unwrap_or_default(),
                )
            };
            self.exchanges[idx].note(label);
            self.exchanges[idx].tunnel = Some(Tunnel {
                kind,
                target,
                app: AppProto::Unknown,
                frame: last.0,
                client_bytes: 0,
                server_bytes: 0,
            });
            self.break_run();
            self.tunnel = Some(TunnelSniff {
                idx,
                early: [[0; TUNNEL_SNIFF]; 2],
                early_len: [0; 2],
                done: [false; 2],
            });
            self.end_message(dir, idx, true);
            let mut held = Vec::new();
            for (k, st) in self.dirs.iter_mut().enumerate() {
                st.phase = Phase::Tunnel;
                st.loss = None;
                // Bytes the other side sent ahead of the answer are the tunnel's first.
                held.push((k, std::mem::take(&mut st.buf)));
                st.discard_buf(false);
            }
            for (k, b) in held {
                let d = if k == Dir::Client.idx() {
                    Dir::Client
                } else {
                    Dir::Server
                };
                self.tunnel_bytes(d, &b);
            }
            // The other side may have a message in flight (rare); it ends here.
            let other = match dir {
                Dir::Client => Dir::Server,
                Dir::Server => Dir::Client,
            };
            self.finalize(other, false);
            return;
        }
        let body = match fr.kind {
            BodyKind::None => {
                // No body at all: an empty body, nothing to hash.
                let ex = &mut self.exchanges[idx];
                if let Some(r) = ex.request.as_mut().filter(|_| is_request) {
                    r.body = Some(Vec::new());
                }
                if let Some(r) = ex.response.as_mut().filter(|_| !is_request) {
                    r.body = Some(Vec::new());
                }
                let sz = &mut self.dirs[dir.idx()].sizes;
                *sz = (sz.0.saturating_add(head_len), sz.1 + 1);
                self.end_message(dir, idx, true);
                self.dirs[dir.idx()].phase = Phase::AwaitStart {
                    at_line_start: true,
                };
                return;
            }
            BodyKind::Length(n) => BodyState::Length(n),
            BodyKind::Chunked => BodyState::Chunked(Box::new(Chunked::new(self.cfg.header_cap))),
            BodyKind::Close => BodyState::Close,
        };
        let sink = BodySink::new(
            fr.content_encoding.as_deref(),
            !fr.undecodable_transfer,
            self.cfg.keep_bodies.then_some(self.cfg.body_cap),
            self.cfg.decoded_cap,
        );
        let st = &mut self.dirs[dir.idx()];
        st.cur = Some(Current {
            idx,
            sink,
            expect_continue,
            missing: false,
            missing_bytes: Some(0),
            head_len,
        });
        st.phase = Phase::Body(body);
    }

    /// One step of body parsing from `pos`; None = wait for more bytes.
    fn body_step(
        &mut self,
        dir: Dir,
        data: &[u8],
        pos: usize,
        marks: &[(usize, u64, i64)],
    ) -> Option<usize> {
        let d = dir.idx();
        let rest = data.get(pos..).unwrap_or_default();
        let Some(cur) = self.dirs[d].cur.as_ref() else {
            self.dirs[d].phase = Phase::AwaitStart {
                at_line_start: true,
            };
            return Some(pos);
        };
        let idx = cur.idx;
        // Expect: 100-continue answered with a final status before any body
        // byte: the client may legitimately skip the body (RFC 9110 §10.1.1).
        // If the next bytes are a request line, it did.
        if dir == Dir::Client
            && cur.expect_continue
            && cur.sink.wire() == 0
            && !cur.missing
            && self.exchanges[idx].response.is_some()
        {
            match detect::start_line(dir, rest, self.cfg.header_cap) {
                Verdict::Yes => {
                    self.exchanges[idx]
                        .note("expect 100-continue: request body not sent after final response");
                    self.finalize(dir, true);
                    self.dirs[d].phase = Phase::AwaitStart {
                        at_line_start: true,
                    };
                    return Some(pos);
                }
                Verdict::Maybe => return None,
                Verdict::No => {}
            }
        }
        let st = &mut self.dirs[d];
        let (Phase::Body(body), Some(cur)) = (&mut st.phase, st.cur.as_mut()) else {
            return Some(pos);
        };
        let mut done: Option<bool> = None;
        let mut framing_error = false;
        let mut new_pos = pos;
        let mut extra: Vec<String> = Vec::new();
        let mut trailers = Vec::new();
        match body {
            BodyState::Length(rem) => {
                let take = usize::try_from(*rem).map_or(rest.len(), |r| r.min(rest.len()));
                cur.sink.write(rest.get(..take).unwrap_or_default());
                *rem -= take as u64;
                new_pos += take;
                if *rem == 0 {
                    done = Some(!cur.missing);
                }
            }
            BodyState::Close => {
                cur.sink.write(rest);
                new_pos = data.len();
            }
            BodyState::Chunked(ch) => {
                let sink = &mut cur.sink;
                let res = ch.feed(rest, |c| sink.write(c));
                if ch.bare_lf {
                    extra.push("bare LF line ending".to_string());
                }
                match res {
                    Ok((n, fin)) => {
                        new_pos += n;
                        if fin {
                            trailers = ch.trailers();
                            done = Some(!cur.missing);
                        }
                    }
                    Err((e, n)) => {
                        new_pos += n;
                        extra.push(e.anomaly().to_string());
                        done = Some(false);
                        framing_error = true;
                    }
                }
            }
        }
        extra.extend(cur.sink.take_anomalies());
        let wire = cur.sink.wire();
        let (f, t) = frame_at(marks, new_pos.saturating_sub(1));
        let ex = &mut self.exchanges[idx];
        for a in extra {
            ex.note(a);
        }
        match dir {
            Dir::Client => {
                if let Some(r) = ex.request.as_mut() {
                    r.body_bytes = wire;
                    (r.end_frame, r.end_ts_ns) = (f, t);
                    if !trailers.is_empty() {
                        r.trailers = trailers;
                    }
                }
            }
            Dir::Server => {
                if let Some(r) = ex.response.as_mut() {
                    r.body_bytes_wire = wire;
                    (r.end_frame, r.end_ts_ns) = (f, t);
                    if !trailers.is_empty() {
                        r.trailers = trailers;
                    }
                }
            }
        }
        if let Some(ok) = done {
            self.finalize(dir, ok);
            // After a framing error the rest of the current line is junk.
            self.dirs[d].phase = Phase::AwaitStart {
                at_line_start: !framing_error,
            };
        }
        Some(new_pos)
    }

    /// End the body in progress in `dir` (if any).
    fn finalize(&mut self, dir: Dir, complete: bool) {
        let d = dir.idx();
        let Some(cur) = self.dirs[d].cur.take() else {
            return;
        };
        let complete = complete && !cur.missing;
        let (out, anomalies) = cur.sink.finish(complete);
        if complete {
            let sz = &mut self.dirs[d].sizes;
            *sz = (
                sz.0.saturating_add(cur.head_len).saturating_add(out.wire),
                sz.1 + 1,
            );
        }
        let ex = &mut self.exchanges[cur.idx];
        for a in anomalies {
            ex.note(a);
        }
        match dir {
            Dir::Client => {
                if let Some(r) = ex.request.as_mut() {
                    r.body_bytes = out.wire;
                    r.body_bytes_decoded = out.decoded;
                    r.body_bytes_missing = cur.missing_bytes;
                    r.body_sha256 = out.sha256;
                    r.body = out.body;
                    r.body_truncated = out.truncated;
                }
            }
            Dir::Server => {
                if let Some(r) = ex.response.as_mut() {
                    r.body_bytes_wire = out.wire;
                    r.body_bytes_decoded = out.decoded;
                    r.body_bytes_missing = cur.missing_bytes;
                    r.body_sha256 = out.sha256;
                    r.body = out.body;
                    r.body_truncated = out.truncated;
                }
            }
        }
        self.end_message(dir, cur.idx, complete);
    }

    /// Mark a message finished and announce it.
    fn end_message(&mut self, dir: Dir, idx: usize, complete: bool) {
        let Some(ex) = self.exchanges.get_mut(idx) else {
            return;
        };
        match dir {
            Dir::Client => {
                if let Some(r) = ex.request.as_mut() {
                    r.complete = complete;
                }
                self.events.push(HttpEvent::RequestComplete { idx });
            }
            Dir::Server => {
                if let Some(r) = ex.response.as_mut() {
                    r.complete = complete;
                }
                self.events.push(HttpEvent::ResponseComplete { idx });
            }
        }
        self.update_exchange(idx);
    }

    fn update_exchange(&mut self, idx: usize) {
        let Some(ex) = self.exchanges.get_mut(idx) else {
            return;
        };
        if let (Some(req), Some(resp)) = (&ex.request, &ex.response) {
            ex.ttfb_ms = req.complete.then(|| ms(req.end_ts_ns, resp.ts_ns));
            ex.total_ms = resp.complete.then(|| ms(req.ts_ns, resp.end_ts_ns));
            ex.complete = req.complete && resp.complete;
        } else {
            ex.complete = false;
        }
    }

    /// Bytes never captured in `dir`, at the stream offset this assembler has counted.
    /// Prefer [`HttpAssembler::gap_at`], which takes the TCP engine's offset.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        let offset = self.dirs[dir.idx()].offset;
        self.gap_at(dir, offset, len);
    }

    /// `len` bytes at stream offset `offset` (0 = first byte after the SYN; the rel seq
    /// the anomalies name is `offset + 1`) were never captured in `dir`.
    pub fn gap_at(&mut self, dir: Dir, offset: u64, len: u64) {
        if self.finished || len == 0 {
            return;
        }
        let d = dir.idx();
        self.dirs[d].offset = offset.saturating_add(len);
        let gap = GapRef { offset, len };
        let msg = format!("gap of {len} bytes");
        let st = &mut self.dirs[d];
        let unparsed_at = st.unparsed;
        // (gap bytes outside any body, a head certainly lost) when the framing is lost.
        let mut lost: Option<(u64, bool)> = None;
        match &mut st.phase {
            Phase::Off | Phase::Tunnel | Phase::Closed => {}
            Phase::AwaitStart { .. } => {
                st.discard_buf(true);
                // Optimistic: the gap may end exactly at a message start; the
                // strict start-line check guards against body bytes.
                st.phase = Phase::AwaitStart {
                    at_line_start: true,
                };
                let m = format!("{msg} in {} stream between messages", dir.name());
                if self.anomalies.len() < MAX_NOTES && !self.anomalies.contains(&m) {
                    self.anomalies.push(m);
                }
                lost = Some((len, true));
            }
            Phase::Body(body) => {
                let Some(cur) = st.cur.as_mut() else {
                    st.phase = Phase::AwaitStart {
                        at_line_start: true,
                    };
                    return;
                };
                let idx = cur.idx;
                // With a known length (or close delimiting) the framing
                // survives the hole: keep counting instead of resyncing.
                let survives = match body {
                    BodyState::Length(rem) if len < *rem => {
                        *rem -= len;
                        cur.missing_bytes = cur.missing_bytes.map(|m| m.saturating_add(len));
                        true
                    }
                    BodyState::Length(rem) => {
                        // The body ends inside the gap; what follows it is between
                        // messages.
                        let rem = *rem;
                        cur.missing_bytes = cur.missing_bytes.map(|m| m.saturating_add(rem));
                        if len > rem {
                            lost = Some((len - rem, true));
                        }
                        false
                    }
                    BodyState::Close => {
                        cur.missing_bytes = cur.missing_bytes.map(|m| m.saturating_add(len));
                        true
                    }
                    BodyState::Chunked(_) => {
                        // How much of the gap was body (and whether the body ended in
                        // it) is unknown.
                        cur.missing_bytes = None;
                        lost = Some((len, false));
                        false
                    }
                };
                cur.missing = true;
                cur.sink.mark_missing();
                self.exchanges[idx].note(msg);
                if !survives {
                    self.finalize(dir, false);
                    let st = &mut self.dirs[d];
                    st.discard_buf(true);
                    st.phase = Phase::AwaitStart {
                        at_line_start: true,
                    };
                }
            }
        }
        let Some((span, head_lost)) = lost else {
            return;
        };
        let st = &mut self.dirs[d];
        st.resync = true;
        let merged = match &mut st.loss {
            Some(l) => {
                l.gap.len = l.gap.len.saturating_add(len);
                l.span = l.span.saturating_add(span);
                l.head_lost |= head_lost;
                true
            }
            None => {
                st.loss = Some(Loss {
                    gap,
                    span,
                    unparsed_at,
                    head_lost,
                });
                false
            }
        };
        match dir {
            Dir::Client => self.client_loss(gap, head_lost, merged),
            Dir::Server => self.break_run(),
        }
    }

    fn break_run(&mut self) {
        if let Some(r) = self.run.as_mut() {
            r.broken = true;
        }
    }

    /// End of the connection: confirm or correct the estimate of a server gap (see `Run`).
    fn settle_run(&mut self) {
        let Some(run) = self.run.take().filter(|r| !r.broken) else {
            return;
        };
        let tail = run.exs.get(run.k..).unwrap_or_default();
        let has_resp = |i: usize| {
            self.exchanges
                .get(i)
                .is_some_and(|e| e.response.is_some() || !e.interim.is_empty())
        };
        let answered = tail.iter().take_while(|&&i| has_resp(i)).count();
        let d = tail.len() - answered;
        if tail.iter().skip(answered).any(|&i| has_resp(i)) {
            return;
        }
        if d > 0 {
            // Shift the answers d places on: only if each then begins after its request
            // was sent, the server went on to close, and did not say it would stop.
            let resp_frame = |i: usize| {
                self.exchanges
                    .get(i)
                    .and_then(|e| e.response.as_ref())
                    .map(|r| r.frame)
            };
            let req_frame = |i: usize| {
                self.exchanges
                    .get(i)
                    .and_then(|e| e.request.as_ref())
                    .map(|r| r.frame)
            };
            let last_close = tail
                .get(answered.wrapping_sub(1))
                .and_then(|&i| self.exchanges.get(i))
                .and_then(|e| e.response.as_ref())
                .and_then(|r| framing::header(&r.headers, "connection"))
                .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
            let feasible = answered > 0
                && (0..answered).all(|j| {
                    match (
                        tail.get(j).and_then(|&i| resp_frame(i)),
                        tail.get(j + d).and_then(|&i| req_frame(i)),
                    ) {
                        (Some(rf), Some(qf)) => rf >= qf,
                        _ => false,
                    }
                });
            if !(feasible && self.server_fin && !last_close) {
                return;
            }
            for j in (0..answered).rev() {
                let (Some(&from), Some(&to)) = (tail.get(j), tail.get(j + d)) else {
                    return;
                };
                let resp = self.exchanges[from].response.take();
                let interim = std::mem::take(&mut self.exchanges[from].interim);
                self.exchanges[to].response = resp;
                self.exchanges[to].interim = interim;
            }
            let note = format!("response head lost in {}", run.gap.text());
            for &i in tail.iter().take(d) {
                self.exchanges[i].note(note.clone());
            }
        }
        for &i in &run.exs {
            let ex = &mut self.exchanges[i];
            ex.pairing_uncertain = false;
            ex.anomalies
                .retain(|a| !a.starts_with("pairing uncertain after"));
            self.update_exchange(i);
        }
    }

    /// Bytes inside a tunnel: counted, and the first ones tell what runs inside.
    fn tunnel_bytes(&mut self, dir: Dir, bytes: &[u8]) {
        let cap = self.cfg.header_cap;
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        let Some(tu) = self
            .exchanges
            .get_mut(t.idx)
            .and_then(|e| e.tunnel.as_mut())
        else {
            return;
        };
        let n = bytes.len() as u64;
        match dir {
            Dir::Client => tu.client_bytes = tu.client_bytes.saturating_add(n),
            Dir::Server => tu.server_bytes = tu.server_bytes.saturating_add(n),
        }
        let d = dir.idx();
        if tu.app != AppProto::Unknown || t.done[d] {
            return;
        }
        for &b in bytes {
            let Some(slot) = t.early[d].get_mut(t.early_len[d]) else {
                break;
            };
            *slot = b;
            t.early_len[d] += 1;
        }
        let early = t.early[d].get(..t.early_len[d]).unwrap_or_default();
        let full = t.early_len[d] >= TUNNEL_SNIFF;
        // The client's first command is read against the server's greeting (SMTP and
        // FTP both greet with 220).
        let s = Dir::Server.idx();
        let greeting = match dir {
            Dir::Client => t.early[s].get(..t.early_len[s]).unwrap_or_default(),
            Dir::Server => &[],
        };
        match detect::sniff(dir, early, greeting) {
            Ok(p) => tu.app = p,
            Err(Verdict::Maybe) if !full => {}
            // HTTP through a proxy: a start line from the first byte (consistent over
            // all the bytes looked at is enough).
            Err(_) => match detect::find_start(dir, early, cap) {
                Ok(0) => tu.app = AppProto::Http,
                Err(k) if k == early.len() && k > 0 => {
                    if full {
                        tu.app = AppProto::Http;
                    }
                }
                _ => t.done[d] = true,
            },
        }
    }

    /// End of one direction: closes a close-delimited body, truncates others.
    fn close_dir(&mut self, dir: Dir, end_of_capture: bool) {
        let d = dir.idx();
        if matches!(self.dirs[d].phase, Phase::Off | Phase::Tunnel) {
            return;
        }
        let phase = std::mem::replace(&mut self.dirs[d].phase, Phase::Closed);
        if let Phase::Body(body) = phase {
            let idx = self.dirs[d].cur.as_ref().map(|c| c.idx);
            let clean = matches!(body, BodyState::Close) && !end_of_capture;
            if let Some(idx) = idx.filter(|_| !clean) {
                self.exchanges[idx].note(if end_of_capture {
                    "incomplete at end of capture"
                } else {
                    "connection closed before end of body"
                });
            }
            self.finalize(dir, clean);
        }
        self.dirs[d].discard_buf(true);
    }

    pub fn fin(&mut self, dir: Dir, frame: u64, ts_ns: i64) {
        // The FIN itself carries no body bytes; message end stays at the
        // last data byte, so frame/ts are not needed for the data model.
        let _ = (frame, ts_ns);
        if self.finished {
            return;
        }
        if dir == Dir::Server {
            self.server_fin = true;
        }
        self.close_dir(dir, false);
    }

    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.close_dir(Dir::Client, true);
        self.close_dir(Dir::Server, true);
        self.settle_run();
        // A response head lost in a gap near the end, with nothing found after it: the
        // first waiting request is the one it answered.
        let skipped = |st: &DirState, l: &Loss| st.unparsed.saturating_sub(l.unparsed_at);
        if let Some(loss) = self.dirs[Dir::Server.idx()].loss.take()
            && loss.head_lost
            && loss.span + skipped(&self.dirs[Dir::Server.idx()], &loss) >= MIN_HEAD
            && let Some(Slot::Ex(i)) = self.awaiting.front().copied()
        {
            self.exchanges[i].note(format!("response head lost in {}", loss.gap.text()));
        }
        if self.app.is_none() {
            self.app = Some(AppProto::Unknown);
        }
        self.finished = true;
    }
}

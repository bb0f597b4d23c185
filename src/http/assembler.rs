//! The assembler itself: its state, the public API (push, gap, fin, finish), protocol
//! detection, and the loop that hands the bytes of a direction to head and body parsing.
//!
//! Owns: the buffers and the dispatch by phase. Pairing, heads, bodies and tunnels live in
//! their own files.

use std::collections::VecDeque;
use std::ops::ControlFlow::{self, Break, Continue};

/// A parsing step: go on at this position, or stop with this many bytes used.
pub(super) type Flow = ControlFlow<usize, usize>;

use super::anomaly::Anomaly;
use super::detect::{self, Sniff, Verdict};
use super::framing;
use super::messages::{Exchange, MAX_NOTES};
use super::pairing::{GapRef, Loss, MIN_HEAD, Orphan, Run, Slot};
use super::state::{BodyState, DirState, Mark, Phase, frame_at};
use super::tunnel::{H2cHandoff, TunnelSniff};
use super::{AppProto, Dir, HttpConfig, HttpEvent, Status};
use crate::ts::Ts;

/// While the protocol is undecided we scan this many skipped bytes per
/// connection for an HTTP start line before calling it Unknown; keeps
/// unidentified binary protocols cheap. Large enough for a capture that begins inside
/// a multi-megabyte upload or download: until that body ends only its bytes are seen.
pub(super) const DETECT_SCAN_CAP: u64 = 64 << 20;

impl std::fmt::Debug for HttpAssembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAssembler")
            .field("app", &self.app)
            .field("exchanges", &self.exchanges.len())
            .finish()
    }
}

pub struct HttpAssembler {
    pub(super) cfg: HttpConfig,
    pub(super) app: Option<AppProto>,
    pub(super) dirs: [DirState; 2],
    pub(super) exchanges: Vec<Exchange>,
    /// Exchanges whose request has been seen but no final response yet, and requests lost
    /// in client gaps, in the order they were sent.
    pub(super) awaiting: VecDeque<Slot>,
    /// Request-less exchanges made since the last request head: the answers to requests a
    /// client gap reported later swallowed, or to requests the client stream delivers
    /// late (held behind a hole) and that were sent before the response began.
    pub(super) orphans: Vec<Orphan>,
    pub(super) tunnel: Option<TunnelSniff>,
    /// An Upgrade to h2c was answered by 101: the request and the first tunnel bytes,
    /// for the HTTP/2 session to take (see `take_h2c`).
    pub(super) h2c: Option<H2cHandoff>,
    pub(super) run: Option<Run>,
    /// The server closed with a FIN (not the capture's end).
    pub(super) server_fin: bool,
    /// The client's FIN (frame, ts) and the frame of the server's last bytes before it.
    pub(super) client_fin: Option<(u64, Ts, u64)>,
    pub(super) events: Vec<HttpEvent>,
    pub(super) anomalies: Vec<Anomaly>,
    pub(super) finished: bool,
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
            h2c: None,
            run: None,
            server_fin: false,
            client_fin: None,
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
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    pub(super) fn decide(&mut self, proto: AppProto) {
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
    pub(super) fn sniff(&mut self, d: Dir, bytes: &[u8]) {
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
            Sniff::Found(p) => self.decide(p),
            Sniff::Maybe if st.early_len < st.early.len() => {}
            Sniff::Maybe | Sniff::No => st.sniffed = true,
        }
    }

    pub fn push(&mut self, dir: Dir, bytes: &[u8], frame: u64, ts: Ts) {
        if self.finished || bytes.is_empty() {
            return;
        }
        let d = dir.idx();
        self.dirs[d].offset = self.dirs[d].offset.saturating_add(bytes.len() as u64);
        self.dirs[d].last_frame = frame;
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
            marks.push((0, frame, ts));
            let used = self.process(dir, bytes, &marks);
            buf.extend_from_slice(bytes.get(used..).unwrap_or_default());
        } else {
            marks.push((buf.len(), frame, ts));
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
    pub(super) fn process(&mut self, dir: Dir, data: &[u8], marks: &[Mark]) -> usize {
        let d = dir.idx();
        let mut pos = 0;
        while pos < data.len() {
            let step =
                if self.dirs[d].resync && matches!(self.dirs[d].phase, Phase::AwaitStart { .. }) {
                    self.resync_step(dir, data, pos)
                } else {
                    match &self.dirs[d].phase {
                        Phase::Tunnel => {
                            self.tunnel_bytes(dir, data.get(pos..).unwrap_or_default());
                            Break(data.len())
                        }
                        Phase::Off | Phase::Closed => Break(data.len()),
                        Phase::Body(_) => self.body_step(dir, data, pos, marks),
                        Phase::AwaitStart {
                            at_line_start: false,
                        } => self.skip_line(dir, data, pos),
                        Phase::AwaitStart {
                            at_line_start: true,
                        } => self.start_step(dir, data, pos, marks),
                    }
                };
            match step {
                Continue(p) => pos = p,
                Break(used) => return used,
            }
        }
        pos
    }

    /// At a line start between messages: is a start line here, and has its head arrived?
    fn start_step(&mut self, dir: Dir, data: &[u8], pos: usize, marks: &[Mark]) -> Flow {
        let d = dir.idx();
        let rest = data.get(pos..).unwrap_or_default();
        // Blank lines between messages are tolerated (RFC 9112 §2.2).
        if matches!(rest.first(), Some(b'\r' | b'\n')) {
            // Inside bytes already skipped (before the first head), a line end is one more.
            let st = &mut self.dirs[d];
            if !st.headed && st.unparsed > 0 {
                st.unparsed += 1;
            }
            return Continue(pos + 1);
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
            Verdict::No if dir == Dir::Client => {
                match detect::refused_request(rest, self.cfg.header_cap) {
                    Some(fault) => {
                        // A request, refused: HTTP once and for all, and said why.
                        if self.app.is_none() {
                            self.decide(AppProto::Http);
                        }
                        self.request_refused(rest, fault, frame_at(marks, pos));
                    }
                    None => return self.not_a_start_line(dir, pos),
                }
                Continue(pos)
            }
            Verdict::No => self.not_a_start_line(dir, pos),
            Verdict::Maybe => {
                self.dirs[d].start_scanned = rest.len();
                Break(pos)
            }
            Verdict::Yes => {
                if self.app.is_none() {
                    self.decide(AppProto::Http);
                    // The other side may be inside a message whose head was never
                    // captured: its next head can now be looked for at any byte.
                    let other = &mut self.dirs[dir.other().idx()];
                    if other.lost_its_first_head() && other.unparsed > 0 {
                        other.resync = true;
                    }
                }
                self.head_step(dir, data, pos, marks)
            }
        }
    }

    /// A start line is at `pos`: parse the head once all of it is here.
    fn head_step(&mut self, dir: Dir, data: &[u8], pos: usize, marks: &[Mark]) -> Flow {
        let d = dir.idx();
        let rest = data.get(pos..).unwrap_or_default();
        let scanned = self.dirs[d].head_scanned;
        match framing::find_head_end(rest, scanned) {
            Status::Partial(resume) if rest.len() <= self.cfg.header_cap => {
                self.dirs[d].head_scanned = resume;
                Break(pos)
            }
            Status::Complete(end, ()) if end <= self.cfg.header_cap => {
                self.dirs[d].head_scanned = 0;
                let head = framing::parse_head(
                    dir,
                    rest.get(..end).unwrap_or_default(),
                    self.cfg.max_headers,
                );
                self.on_head(dir, head, pos, pos + end, marks);
                Continue(pos + end)
            }
            _ => {
                self.dirs[d].head_scanned = 0;
                self.head_too_large(dir, rest, frame_at(marks, pos));
                // Skip the rest of this start line; resync.
                Continue(pos + 1)
            }
        }
    }

    pub(super) fn new_exchange(&mut self) -> usize {
        self.exchanges.push(Exchange::default());
        self.exchanges.len() - 1
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
        let unparsed_at = self.dirs[d].unparsed;
        // (gap bytes outside any body, a head certainly lost) when the framing is lost.
        let lost = match &self.dirs[d].phase {
            Phase::Off | Phase::Tunnel | Phase::Closed => None,
            Phase::AwaitStart { .. } => {
                let st = &mut self.dirs[d];
                st.discard_buf(true);
                // Optimistic: the gap may end exactly at a message start; the
                // strict start-line check guards against body bytes.
                st.phase = Phase::AwaitStart {
                    at_line_start: true,
                };
                let m = Anomaly::GapBetweenMessages { dir, len };
                if self.anomalies.len() < MAX_NOTES && !self.anomalies.contains(&m) {
                    self.anomalies.push(m);
                }
                Some((len, true))
            }
            Phase::Body(_) => self.gap_in_body(dir, len),
        };
        if let Some((span, head_lost)) = lost {
            self.lose_heads(dir, GapRef { offset, len }, (span, head_lost), unparsed_at);
        }
    }

    /// A gap of `len` bytes in the body in progress: with a known length (or close
    /// delimiting) the framing survives the hole; else the message ends here. Returns the
    /// gap bytes outside the body, and whether a head was certainly lost, if any were.
    fn gap_in_body(&mut self, dir: Dir, len: u64) -> Option<(u64, bool)> {
        let st = &mut self.dirs[dir.idx()];
        if st.cur.is_none() {
            st.phase = Phase::AwaitStart {
                at_line_start: true,
            };
            return None;
        }
        let (Phase::Body(body), Some(cur)) = (&mut st.phase, st.cur.as_mut()) else {
            return None;
        };
        let idx = cur.idx;
        let mut lost = None;
        let survives = match body {
            BodyState::Length(rem) if len < *rem => {
                *rem -= len;
                cur.missing_bytes = cur.missing_bytes.map(|m| m.saturating_add(len));
                true
            }
            BodyState::Length(rem) => {
                // The body ends inside the gap; what follows it is between messages.
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
                // How much of the gap was body (and whether the body ended in it) is
                // unknown.
                cur.missing_bytes = None;
                lost = Some((len, false));
                false
            }
        };
        cur.missing = true;
        cur.sink.mark_missing();
        self.exchanges[idx].note(Anomaly::Gap { len });
        if !survives {
            self.finalize(dir, false);
            let st = &mut self.dirs[dir.idx()];
            st.discard_buf(true);
            st.phase = Phase::AwaitStart {
                at_line_start: true,
            };
        }
        lost
    }

    /// Framing was lost in `gap`: `span` of its bytes lay outside any body (`head_lost`:
    /// a head certainly with them). Merged into the direction's pending loss, and for the
    /// client, lost requests take their places in the queue.
    fn lose_heads(
        &mut self,
        dir: Dir,
        gap: GapRef,
        (span, head_lost): (u64, bool),
        unparsed_at: u64,
    ) {
        let st = &mut self.dirs[dir.idx()];
        st.resync = true;
        let merged = match &mut st.loss {
            Some(l) => {
                l.gap.len = l.gap.len.saturating_add(gap.len);
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

    /// End of one direction: closes a close-delimited body, truncates others.
    pub(super) fn close_dir(&mut self, dir: Dir, end_of_capture: bool) {
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
                    Anomaly::IncompleteAtEndOfCapture
                } else {
                    Anomaly::ClosedBeforeEndOfBody
                });
            }
            self.finalize(dir, clean);
        }
        self.dirs[d].discard_buf(true);
    }

    pub fn fin(&mut self, dir: Dir, frame: u64, ts: Ts) {
        if self.finished {
            return;
        }
        // A close-delimited body is known to be complete only at the FIN that ends it:
        // the message ends there, not at its last data byte. Other messages end at
        // their last byte (the FIN carries none of theirs).
        let st = &self.dirs[dir.idx()];
        if let (Phase::Body(BodyState::Close), Some(cur)) = (&st.phase, st.cur.as_ref())
            && let Some(m) = self.exchanges[cur.idx].side_mut(dir)
        {
            (m.end_frame, m.end_ts) = (frame, ts);
        }
        if dir == Dir::Server {
            self.server_fin = true;
        } else if self.client_fin.is_none() {
            self.client_fin = Some((frame, ts, self.dirs[Dir::Server.idx()].last_frame));
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
            self.exchanges[i].note(loss.gap.head_lost(Dir::Server));
        }
        self.mark_given_up();
        if self.app.is_none() {
            self.app = Some(AppProto::Unknown);
        }
        self.finished = true;
    }

    /// Requests left unanswered when the client closed, with nothing from the server
    /// since they were sent: the client gave up waiting (`client_gave_up`).
    fn mark_given_up(&mut self) {
        let Some((fin_frame, fin_ts, server_last)) = self.client_fin else {
            return;
        };
        for x in &mut self.exchanges {
            let Some(req) = x.request.as_ref() else {
                continue;
            };
            let waiting = x.response.is_none() && x.tunnel.is_none() && x.anomalies.is_empty();
            if waiting && req.complete && req.end_frame < fin_frame && server_last <= req.end_frame
            {
                x.client_gave_up = Some(super::messages::GaveUp {
                    fin_frame,
                    waited_ms: fin_ts.ms_since(req.end_ts),
                });
            }
        }
    }
}

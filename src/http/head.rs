//! A parsed message head arrives: it finds its exchange, becomes a Request or Response,
//! and decides how the body that follows is delimited (or opens a tunnel).
//!
//! Owns: turning heads into the data model. Must not touch byte buffering.

use super::Dir;
use super::anomaly::{Anomaly, LineFault};

/// The longest clean target prefix a refused request line keeps.
const MAX_REFUSED_TARGET: usize = 2048;
use super::assembler::HttpAssembler;
use super::body::BodySink;
use super::chunked::Chunked;
use super::framing::{self, BodyKind, Framing, Head, StartLine};
use super::messages::{Interim, MessageMeta, Request, Response};
use super::pairing::Slot;
use super::state::{BodyState, Current, Mark, Phase, frame_at};
use crate::ts::Ts;

impl HttpAssembler {
    pub(super) fn head_too_large(&mut self, dir: Dir, rest: &[u8], (frame, ts): (u64, Ts)) {
        let start = framing::parse_start_line(dir, rest);
        let head = Head {
            start,
            headers: Vec::new(),
            anomalies: vec![Anomaly::HeadTooLarge],
        };
        let target = (dir == Dir::Server).then(|| self.resolve_target(frame));
        let idx = self.install_head(head, target, (frame, ts), (frame, ts));
        self.end_message(dir, idx, false);
        self.dirs[dir.idx()].phase = Phase::AwaitStart {
            at_line_start: false,
        };
    }

    /// A request line refused for `fault` at the start of `rest`: kept as an exchange (its
    /// method, its target up to the fault when that is short) with the reason, so its
    /// response still pairs with it; the rest of the line is skipped.
    pub(super) fn request_refused(
        &mut self,
        rest: &[u8],
        fault: LineFault,
        (frame, ts): (u64, Ts),
    ) {
        let cut = match fault {
            LineFault::Byte { offset, .. } => offset,
            LineFault::TooLong { .. } => 0,
        };
        let line = rest.get(..cut).unwrap_or_default();
        let (method, target) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        let method = match fault {
            LineFault::TooLong { .. } => rest.iter().take_while(|&&b| b != b' ').copied().collect(),
            LineFault::Byte { .. } => method.to_vec(),
        };
        // The target as far as it was clean, up to its first space, when short enough to
        // show; the fault itself is named by the anomaly.
        let target = target.split(|&b| b == b' ').next().unwrap_or_default();
        let uri = if target.len() <= MAX_REFUSED_TARGET {
            String::from_utf8_lossy(target).into_owned()
        } else {
            String::new()
        };
        let head = Head {
            start: StartLine::Request {
                method: String::from_utf8_lossy(&method).into_owned(),
                uri,
                version: String::new(),
            },
            headers: Vec::new(),
            anomalies: vec![Anomaly::RequestLineRefused(fault)],
        };
        let idx = self.install_head(head, None, (frame, ts), (frame, ts));
        self.end_message(Dir::Client, idx, false);
        self.dirs[Dir::Client.idx()].phase = Phase::AwaitStart {
            at_line_start: false,
        };
    }

    /// Create the Request/Response for a parsed head; returns the exchange.
    pub(super) fn install_head(
        &mut self,
        head: Head,
        target: Option<usize>,
        first: (u64, Ts),
        last: (u64, Ts),
    ) -> usize {
        let mut headers = head.headers;
        headers.truncate(self.cfg.max_headers);
        let idx = match &head.start {
            StartLine::Request { .. } => self.request_target(first.0),
            StartLine::Response { .. } => {
                let idx = target.unwrap_or_else(|| self.resolve_target(first.0));
                if matches!(self.awaiting.front(), Some(Slot::Ex(i)) if *i == idx) {
                    self.awaiting.pop_front();
                }
                idx
            }
        };
        let ex = &mut self.exchanges[idx];
        for a in head.anomalies {
            ex.note(a);
        }
        match head.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                let meta = MessageMeta::new(version, headers, first, last);
                ex.request = Some(Request { method, uri, meta });
            }
            StartLine::Response {
                status,
                reason,
                version,
            } => {
                let meta = MessageMeta::new(version, headers, first, last);
                ex.response = Some(Response {
                    status,
                    reason,
                    meta,
                });
                self.update_exchange(idx);
            }
        }
        idx
    }

    pub(super) fn on_head(
        &mut self,
        dir: Dir,
        head: Head,
        start: usize,
        end: usize,
        marks: &[Mark],
    ) {
        let first = frame_at(marks, start);
        let last = frame_at(marks, end.saturating_sub(1));
        let (is_request, status) = match &head.start {
            StartLine::Request { .. } => (true, 0),
            StartLine::Response { status, .. } => (false, *status),
        };
        let skipped = self.dirs[dir.idx()].head_found();
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
                ts: first.1,
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
        let mut fr = framing::body_framing(&head.headers, is_request, no_body);
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
            if let Some(len) = skipped {
                ex.note(Anomaly::SkippedBeforeFirst { dir, len });
            }
            for a in std::mem::take(&mut fr.anomalies) {
                ex.note(a);
            }
            if let Some(m) = ex.side_mut(dir) {
                m.content_encoding = fr.content_encoding.clone();
                m.chunked = chunked;
                m.body_bytes_announced = announced;
            }
        }
        if status == 101 || connect_ok {
            self.open_tunnel(dir, idx, (status == 101).then_some(upgrade), last.0);
            return;
        }
        self.start_body(dir, idx, fr, expect_continue, head_len);
    }

    /// After a head announcing `fr`: the body that follows, or none (the message ends).
    fn start_body(
        &mut self,
        dir: Dir,
        idx: usize,
        fr: Framing,
        expect_continue: bool,
        head_len: u64,
    ) {
        let body = match fr.kind {
            BodyKind::None => {
                // No body at all: an empty body, nothing to hash.
                let ex = &mut self.exchanges[idx];
                if let Some(m) = ex.side_mut(dir) {
                    m.body = Some(Vec::new());
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
        let sink = BodySink::for_message(
            fr.content_encoding.as_deref(),
            !fr.undecodable_transfer,
            &self.cfg,
            dir,
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
}

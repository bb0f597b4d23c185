//! A parsed message head arrives: it finds its exchange, becomes a Request or Response,
//! and decides how the body that follows is delimited (or opens a tunnel).
//!
//! Owns: turning heads into the data model. Must not touch byte buffering.

use super::assembler::HttpAssembler;
use super::body::BodySink;
use super::framing::{self, BodyKind, Chunked, Head, StartLine};
use super::messages::{Interim, MessageMeta, Request, Response, Tunnel};
use super::pairing::Slot;
use super::state::{BodyState, Current, Phase, frame_at};
use super::tunnel::{TUNNEL_SNIFF, TunnelSniff};
use super::{AppProto, Dir};
use crate::ts::Ts;

impl HttpAssembler {
    pub(super) fn head_too_large(&mut self, dir: Dir, rest: &[u8], (frame, ts): (u64, Ts)) {
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
        marks: &[(usize, u64, Ts)],
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
            if let Some(m) = ex.side_mut(dir) {
                m.content_encoding = fr.content_encoding.clone();
                m.chunked = chunked;
                m.body_bytes_announced = announced;
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
}

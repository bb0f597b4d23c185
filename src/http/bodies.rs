//! Body bytes of the message in progress, and the end of a message: counts, hashes,
//! trailers, timing of the exchange.
//!
//! Owns: the body phase. Must not touch pairing.

use std::ops::ControlFlow::{Break, Continue};

use super::anomaly::Anomaly;
use super::assembler::{Flow, HttpAssembler};
use super::detect::{self, Verdict};
use super::framing::Fields;
use super::state::{BodyState, Current, Mark, Phase, frame_at};
use super::{Dir, HttpEvent, Status};

/// What one feeding of body bytes did.
struct Fed {
    used: usize,
    /// The body ended (true: whole).
    done: Option<bool>,
    framing_error: bool,
    anomalies: Vec<Anomaly>,
    trailers: Fields,
    /// Body bytes on the wire so far.
    wire: u64,
}

/// Hand the body bytes at the start of `rest` to the message in progress.
fn feed(body: &mut BodyState, cur: &mut Current, rest: &[u8]) -> Fed {
    let mut fed = Fed {
        used: 0,
        done: None,
        framing_error: false,
        anomalies: Vec::new(),
        trailers: Vec::new(),
        wire: 0,
    };
    match body {
        BodyState::Length(rem) => {
            let take = usize::try_from(*rem).map_or(rest.len(), |r| r.min(rest.len()));
            cur.sink.write(rest.get(..take).unwrap_or_default());
            *rem -= take as u64;
            fed.used = take;
            if *rem == 0 {
                fed.done = Some(!cur.missing);
            }
        }
        BodyState::Close => {
            cur.sink.write(rest);
            fed.used = rest.len();
        }
        BodyState::Chunked(ch) => {
            let sink = &mut cur.sink;
            let res = ch.feed(rest, |c| sink.write(c));
            if ch.bare_lf {
                fed.anomalies.push(Anomaly::BareLf);
            }
            match res {
                Ok(Status::Partial(n)) => fed.used = n,
                Ok(Status::Complete(n, t)) => {
                    fed.used = n;
                    fed.trailers = t;
                    fed.done = Some(!cur.missing);
                }
                Err((e, n)) => {
                    fed.used = n;
                    fed.anomalies.push(Anomaly::Chunk(e));
                    fed.done = Some(false);
                    fed.framing_error = true;
                }
            }
        }
    }
    fed.anomalies.extend(cur.sink.take_anomalies());
    fed.wire = cur.sink.wire();
    fed
}

impl HttpAssembler {
    /// One step of body parsing from `pos`; `Break(pos)`: wait for more bytes.
    pub(super) fn body_step(&mut self, dir: Dir, data: &[u8], pos: usize, marks: &[Mark]) -> Flow {
        let d = dir.idx();
        let rest = data.get(pos..).unwrap_or_default();
        let Some(cur) = self.dirs[d].cur.as_ref() else {
            self.dirs[d].phase = Phase::AwaitStart {
                at_line_start: true,
            };
            return Continue(pos);
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
                    self.exchanges[idx].note(Anomaly::ExpectContinueBodySkipped);
                    self.finalize(dir, true);
                    self.dirs[d].phase = Phase::AwaitStart {
                        at_line_start: true,
                    };
                    return Continue(pos);
                }
                Verdict::Maybe => return Break(pos),
                Verdict::No => {}
            }
        }
        let st = &mut self.dirs[d];
        let (Phase::Body(body), Some(cur)) = (&mut st.phase, st.cur.as_mut()) else {
            return Continue(pos);
        };
        let fed = feed(body, cur, rest);
        let new_pos = pos + fed.used;
        let (f, t) = frame_at(marks, new_pos.saturating_sub(1));
        let ex = &mut self.exchanges[idx];
        for a in fed.anomalies {
            ex.note(a);
        }
        if let Some(m) = ex.side_mut(dir) {
            m.body_bytes = fed.wire;
            (m.end_frame, m.end_ts) = (f, t);
            if !fed.trailers.is_empty() {
                m.trailers = fed.trailers;
            }
        }
        if let Some(ok) = fed.done {
            self.finalize(dir, ok);
            // After a framing error the rest of the current line is junk.
            self.dirs[d].phase = Phase::AwaitStart {
                at_line_start: !fed.framing_error,
            };
        }
        Continue(new_pos)
    }

    /// End the body in progress in `dir` (if any).
    pub(super) fn finalize(&mut self, dir: Dir, complete: bool) {
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
        if let Some(m) = ex.side_mut(dir) {
            m.body_bytes = out.wire;
            m.body_bytes_decoded = out.decoded;
            m.body_bytes_missing = cur.missing_bytes;
            m.body_sha256 = out.sha256;
            m.body = out.body;
            m.body_spill = out.spill;
            m.body_truncated = out.truncated;
        }
        self.end_message(dir, cur.idx, complete);
    }

    /// Mark a message finished and announce it.
    pub(super) fn end_message(&mut self, dir: Dir, idx: usize, complete: bool) {
        let Some(ex) = self.exchanges.get_mut(idx) else {
            return;
        };
        if let Some(m) = ex.side_mut(dir) {
            m.complete = complete;
        }
        self.events.push(match dir {
            Dir::Client => HttpEvent::RequestComplete { idx },
            Dir::Server => HttpEvent::ResponseComplete { idx },
        });
        self.update_exchange(idx);
    }

    pub(super) fn update_exchange(&mut self, idx: usize) {
        if let Some(ex) = self.exchanges.get_mut(idx) {
            ex.update_timings();
        }
    }
}

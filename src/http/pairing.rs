//! Pairing responses with requests in request order (RFC 9112 §9.3.2), and the
//! bookkeeping for heads lost in capture gaps: lost requests standing in the queue,
//! responses estimated lost in server gaps, orphan responses, and the estimate's check
//! at the end of the connection.
//!
//! Owns: the pairing queue, orphans and the uncertain run. Must not touch byte parsing.

use super::anomaly::{Anomaly, CaptureGap};
use super::assembler::HttpAssembler;
use super::{Dir, framing};

/// A capture gap: `offset` is the stream offset of its first byte (the TCP engine's rel
/// seq is `offset + 1`).
#[derive(Clone, Copy, Debug)]
pub(super) struct GapRef {
    pub(super) offset: u64,
    pub(super) len: u64,
}

impl GapRef {
    /// As the anomalies name it.
    pub(super) fn at(self) -> CaptureGap {
        CaptureGap {
            len: self.len,
            rel_seq: self.offset.saturating_add(1),
        }
    }

    /// The head `side` sent was lost in this gap (certainly, as far as pairing goes).
    pub(super) fn head_lost(self, side: Dir) -> Anomaly {
        Anomaly::HeadLost {
            side,
            gap: self.at(),
            estimated: false,
        }
    }
}

/// Message heads possibly lost in gaps of one direction, pending until the next head of
/// that direction is found (resync).
#[derive(Clone, Copy, Debug)]
pub(super) struct Loss {
    pub(super) gap: GapRef,
    /// Gap bytes outside any surviving body.
    pub(super) span: u64,
    /// `unparsed` of the direction when the loss began: bytes skipped up to the resync
    /// belong to the lost messages too.
    pub(super) unparsed_at: u64,
    /// Bytes between messages were lost, so at least one head (or its start) was.
    pub(super) head_lost: bool,
}

/// Requests whose heads were lost in a client-side gap, standing in the pairing queue
/// where they were sent.
#[derive(Clone, Copy, Debug)]
pub(super) struct LostReqs {
    pub(super) gap: GapRef,
    /// Certainly lost (1 when bytes between messages were lost).
    pub(super) min: usize,
    /// Estimated from the lost bytes and the average request size.
    pub(super) est: usize,
    /// Responses already given to them.
    pub(super) used: usize,
}

/// One place in the pairing queue (responses come in request order).
#[derive(Clone, Copy, Debug)]
pub(super) enum Slot {
    Ex(usize),
    Lost(LostReqs),
}

/// The shortest head (`HTTP/1.1 200\r\n\r\n`, `GET / HTTP/1.0\r\n\r\n` is longer): fewer lost
/// bytes between messages cannot have held one (a lost FIN is a gap of one byte).
pub(super) const MIN_HEAD: u64 = 16;

/// Pairings resting on an estimate of how many responses a server gap swallowed: marked
/// uncertain until the connection's end confirms the estimate (every request after it
/// answered) or corrects it (the last `d` requests unanswered although the server went on
/// and closed: the estimate was `d` short).
pub(super) struct Run {
    pub(super) gap: GapRef,
    /// Waiting exchanges in request order, from the first one the estimate skipped.
    pub(super) exs: Vec<usize>,
    pub(super) k: usize,
    /// Other losses or odd pairings since: the end proves nothing.
    pub(super) broken: bool,
}

/// Request-less exchanges remembered for a late request or a late-reported client gap.
pub(super) const MAX_ORPHANS: usize = 64;

/// A response that found no request to answer when it arrived.
#[derive(Clone, Copy, Debug)]
pub(super) struct Orphan {
    pub(super) idx: usize,
    /// Responses estimated lost in a server gap just before it, with that gap: they
    /// answered requests before the one this response answers.
    pub(super) lost_before: usize,
    pub(super) server_gap: Option<GapRef>,
    /// Given to a request lost in a client gap.
    pub(super) claimed: bool,
}

impl HttpAssembler {
    /// A request-less exchange at the front of the queue: a response with no request seen
    /// (capture started late, request lost, or the first waiting request was sent after
    /// this response began, so it cannot be what it answers).
    pub(super) fn orphan(
        &mut self,
        note: Option<Anomaly>,
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

    pub(super) fn req_frame(&self, slot: &Slot) -> Option<u64> {
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
    pub(super) fn resolve_target(&mut self, frame: u64) -> usize {
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
                        let note = Anomaly::HeadLost {
                            side: Dir::Client,
                            gap: l.gap.at(),
                            estimated: !certain,
                        };
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
    pub(super) fn estimate(&self, dir: Dir, span: u64, at_least_one: bool) -> Option<usize> {
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
    pub(super) fn skip_lost_responses(&mut self, loss: Loss, frame: u64) -> usize {
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
                    ex.note(loss.gap.head_lost(Dir::Server));
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
            ex.note(Anomaly::PairingUncertain {
                gap: loss.gap.at(),
                taken: k,
                waiting: k_max + 1,
            });
            ex.pairing_uncertain = true;
        }
        if before == 0 { est } else { 0 }
    }

    /// A client gap lost what may be request heads: they take a place in the queue, and
    /// responses already seen without a request (the gap is reported late, when the
    /// server's ACK shows the bytes were sent) are theirs.
    pub(super) fn client_loss(&mut self, gap: GapRef, head_lost: bool, merged: bool) {
        self.break_run();
        if merged {
            if let Some(Slot::Lost(l)) = self.awaiting.back_mut() {
                l.gap.len = l.gap.len.saturating_add(gap.len);
                l.min = l.min.max(usize::from(head_lost));
            }
            return;
        }
        let note = gap.head_lost(Dir::Client);
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
                ex.note(Anomaly::FollowsLostExchange {
                    request_gap: gap.at(),
                    response_gap: sg.at(),
                });
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
    pub(super) fn client_resync(&mut self, loss: Loss) {
        let skipped = self.dirs[Dir::Client.idx()]
            .unparsed
            .saturating_sub(loss.unparsed_at);
        let span = loss.span.saturating_add(skipped);
        let est = self.estimate(Dir::Client, span, loss.head_lost);
        if let Some(Slot::Lost(l)) = self.awaiting.back_mut() {
            l.est = est.unwrap_or(l.min).max(l.min);
        }
    }

    pub(super) fn break_run(&mut self) {
        if let Some(r) = self.run.as_mut() {
            r.broken = true;
        }
    }

    /// End of the connection: confirm or correct the estimate of a server gap (see `Run`).
    pub(super) fn settle_run(&mut self) {
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
            let note = run.gap.head_lost(Dir::Server);
            for &i in tail.iter().take(d) {
                self.exchanges[i].note(note.clone());
            }
        }
        for &i in &run.exs {
            let ex = &mut self.exchanges[i];
            ex.pairing_uncertain = false;
            ex.anomalies
                .retain(|a| !matches!(a, Anomaly::PairingUncertain { .. }));
            self.update_exchange(i);
        }
    }

    /// Exchange a request head sent in `frame` belongs to: a response already seen
    /// without a request, that began after this request was sent, is its answer (the
    /// client stream was held behind a hole); else a new exchange at the queue's back.
    pub(super) fn request_target(&mut self, frame: u64) -> usize {
        // Responses come in request order: the first such orphan is the one.
        let adopt = self.orphans.iter().position(|o| {
            !o.claimed
                && self.exchanges.get(o.idx).is_some_and(|e| {
                    e.request.is_none()
                        && e.response
                            .as_ref()
                            .map(|r| r.frame)
                            .or(e.interim.first().map(|i| i.frame))
                            .is_some_and(|rf| rf > frame)
                })
        });
        match adopt {
            // Responses lost in a server gap came before that one: this request
            // had one of them.
            Some(p) if self.orphans[p].lost_before > 0 => {
                self.orphans.drain(..p);
                let o = &mut self.orphans[0];
                o.lost_before -= 1;
                let note = o.server_gap.map(|g| g.head_lost(Dir::Server));
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
        }
    }
}

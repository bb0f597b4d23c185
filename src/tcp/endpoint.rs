//! Both endpoints' RFC 9293 states as the engine infers them: each segment becomes an
//! [`Event`] per endpoint (from the flags and what the engine knows: which SYN or FIN an
//! ACK covers, whether a FIN is in sequence, whether a RST was accepted) and
//! [`state::next`] decides the transition. The states change only through
//! [`state::EndpointState::set`].
//!
//! A received FIN is recorded in the receiver's states only at the receiver's next
//! transition: until then its own segments may still show that it had not received it
//! (its FIN crossed the peer's), and its state is read through [`TcpConn::state`].

use super::state::{self, Event, TcpState, Transition};
use super::{Dir, SeqNum, TcpConn, TcpSegment};
use crate::ts::Ts;
use std::borrow::Cow;

/// A FIN an endpoint received, not yet recorded in its states.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingFin {
    frame: u64,
    ts: Ts,
    /// The frame that carried the FIN when it took effect later (held ahead of data).
    held: Option<u64>,
}

impl TcpConn {
    /// `dir`'s state as the capture point sees it (a received FIN included).
    pub fn state(&self, dir: Dir) -> TcpState {
        self.pending_transition(dir)
            .map_or(self.ep[dir.idx()].state(), |t| t.state)
    }

    /// `dir`'s path through the states (a received FIN included).
    pub fn transitions(&self, dir: Dir) -> Cow<'_, [Transition]> {
        let done = self.ep[dir.idx()].transitions();
        match self.pending_transition(dir) {
            None => Cow::Borrowed(done),
            Some(t) => Cow::Owned([done, &[t]].concat()),
        }
    }

    fn pending_transition(&self, dir: Dir) -> Option<Transition> {
        let p = self.fin_pending[dir.idx()]?;
        let from = self.ep[dir.idx()].state();
        let (state, reason) = state::next(from, Event::RecvFin)?;
        Some(Transition {
            from,
            state,
            frame: p.frame,
            ts: p.ts,
            inferred: false,
            reason,
            fin_frame: p.held.and_then(std::num::NonZeroU64::new),
        })
    }

    /// Record the FIN `dir` received: a later transition of it follows from it.
    fn confirm_fin(&mut self, dir: Dir) {
        if let Some(t) = self.pending_transition(dir) {
            let fin = t.fin_frame.map(std::num::NonZeroU64::get);
            self.ep[dir.idx()].set(t.state, t.frame, t.ts, false, t.reason, fin);
        }
        self.fin_pending[dir.idx()] = None;
    }

    /// `dir` meets `event` at `frame`: whether its state changed.
    pub(super) fn apply(
        &mut self,
        dir: Dir,
        event: Event,
        frame: u64,
        ts: Ts,
        inferred: bool,
    ) -> bool {
        let Some((to, rule)) = state::next(self.state(dir), event) else {
            return false;
        };
        self.confirm_fin(dir);
        self.ep[dir.idx()].set(to, frame, ts, inferred, rule, None);
        true
    }

    /// RFC 9293 §3.3.2 transitions for the sender and the receiver of one segment. The
    /// ACK part is processed before the FIN so a FIN+ACK that acknowledges the peer's FIN
    /// moves FIN-WAIT-1 straight to TIME-WAIT.
    pub(super) fn update_states(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: u64,
        ts: Ts,
        rst_accepted: bool,
    ) {
        let f = seg.flags;
        match (f.rst(), f.syn(), f.ack()) {
            (true, ..) if rst_accepted => self.on_rst(dir, frame, ts),
            (true, ..) => {}
            (false, true, false) => self.on_syn(dir, frame, ts),
            (false, true, true) => self.on_syn_ack(dir, SeqNum(seg.ack), frame, ts),
            (false, false, ack) => {
                if ack {
                    self.on_ack(dir, seg, frame, ts);
                }
                if f.fin() {
                    self.on_fin(dir, seg, frame, ts);
                }
            }
        }
    }

    fn on_rst(&mut self, s: Dir, frame: u64, ts: Ts) {
        let r = s.other();
        // RFC 9293 §3.10.7.1: a sender in CLOSED had no process listening: nothing is
        // aborted, the sender stays CLOSED and the peer's attempt is refused.
        if self.state(s) == TcpState::Closed {
            self.apply(r, Event::RefusedRst, frame, ts, false);
        } else {
            self.apply(s, Event::SendRst, frame, ts, false);
            self.apply(r, Event::RecvRst, frame, ts, false);
        }
    }

    /// Whether the peer listens is known only from its answer: a SYN-ACK shows it was in
    /// LISTEN, a RST that it was CLOSED.
    fn on_syn(&mut self, s: Dir, frame: u64, ts: Ts) {
        let r = s.other();
        let send = Event::SendSyn {
            first: self.transitions(s).is_empty(),
            peer_opening: self.state(r) == TcpState::SynSent,
        };
        if self.apply(s, send, frame, ts, false) {
            self.apply(r, Event::RecvSyn, frame, ts, false);
        }
    }

    fn on_syn_ack(&mut self, s: Dir, ack: SeqNum, frame: u64, ts: Ts) {
        if self.state(s) == TcpState::Closed && self.transitions(s).is_empty() {
            self.infer_listen(s, frame, ts);
        }
        self.apply(s, Event::SendSynAck, frame, ts, false);
        let r = s.other();
        if self.acks_syn(r, ack) {
            self.apply(r, Event::RecvSynAck, frame, ts, false);
        }
    }

    /// ACK processing for the receiver's SYN and FIN.
    fn on_ack(&mut self, s: Dir, seg: &TcpSegment<'_>, frame: u64, ts: Ts) {
        let r = s.other();
        let ack = SeqNum(seg.ack);
        if self.acks_syn(r, ack) {
            self.apply(r, Event::RecvAckOfSyn, frame, ts, false);
        }
        let hr = &mut self.half[r.idx()];
        if hr.fin_seq.is_some_and(|fs| ack.ge(fs.add(1))) {
            // The ACK covers a FIN got ahead of missing data: the sender had the bytes
            // after all (the capture missed them), so the FIN takes effect now.
            if let Some(held) = hr.fin_held.take() {
                self.receive_fin(s, frame, ts, Some(held));
            }
            if !self.half[r.idx()].fin_acked {
                self.half[r.idx()].fin_acked = true;
                let with_fin = seg.flags.fin();
                self.apply(r, Event::RecvAckOfFin { with_fin }, frame, ts, false);
            }
        }
        // Still thought to be in SYN-SENT: the SYN-ACK was not captured.
        if self.half[r.idx()].syn_seen {
            self.apply(s, Event::SendAckOfSyn, frame, ts, true);
        }
    }

    fn on_fin(&mut self, s: Dir, seg: &TcpSegment<'_>, frame: u64, ts: Ts) {
        let (r, seq, ack) = (s.other(), SeqNum(seg.seq), SeqNum(seg.ack));
        if self.half[s.idx()].fin_seq.is_some() {
            return;
        }
        self.half[s.idx()].fin_seq = Some(seq.add(seg.payload_len));
        // Crossed FINs: the peer's FIN was seen first, but this FIN does not acknowledge
        // it, so this side had not received it when it closed.
        let crossed = self.half[r.idx()]
            .fin_seq
            .is_some_and(|rf| !(seg.flags.ack() && ack.ge(rf.add(1))));
        if crossed && self.state(s) == TcpState::CloseWait {
            self.fin_pending[s.idx()] = None;
            self.apply(s, Event::SendFinCrossed, frame, ts, false);
            self.apply(s, Event::RecvCrossedFin, frame, ts, true);
        }
        self.apply(s, Event::SendFin, frame, ts, false);
        // RFC 9293 §3.10.7.4: a FIN is processed only when every byte before it has
        // arrived. Ahead of missing data, the receiver keeps ACKing below it and its
        // state does not change yet.
        let h = &self.half[s.idx()];
        let ahead = if h.reasm.is_started() {
            h.reasm.next_seq().is_some_and(|n| seq.gt(n))
        } else {
            h.side.next_seq.is_some_and(|n| seq.gt(n))
        };
        if ahead {
            self.half[s.idx()].fin_held = Some(frame);
        } else {
            self.receive_fin(r, frame, ts, None);
        }
    }

    /// `r` processes the peer's FIN (at `frame`; `held` is the frame that carried it
    /// when it took effect later).
    fn receive_fin(&mut self, r: Dir, frame: u64, ts: Ts, held: Option<u64>) {
        self.confirm_fin(r);
        if state::next(self.ep[r.idx()].state(), Event::RecvFin).is_some() {
            self.fin_pending[r.idx()] = Some(PendingFin { frame, ts, held });
        }
    }

    /// A FIN held ahead of missing data takes effect at the frame that fills the hole.
    pub(super) fn release_held_fin(&mut self, dir: Dir, frame: u64, ts: Ts) {
        let h = &self.half[dir.idx()];
        if let (Some(held), Some(fs), Some(n)) = (h.fin_held, h.fin_seq, h.reasm.next_seq())
            && n.ge(fs)
        {
            self.half[dir.idx()].fin_held = None;
            self.receive_fin(dir.other(), frame, ts, Some(held));
        }
    }

    /// `who` answered the peer's SYN, so it was in LISTEN when that SYN arrived: record
    /// LISTEN (inferred) at the peer's first SYN and show it in the packets recorded
    /// since.
    fn infer_listen(&mut self, who: Dir, frame: u64, ts: Ts) {
        let (at_frame, at_ts) = self
            .handshake
            .syns
            .iter()
            // After a refusal (RST) only the SYN that was answered found a listener.
            .find(|_| !self.handshake.rst_seen)
            .or(self.handshake.syns.last())
            .filter(|_| who == Dir::Server)
            .map_or((frame, ts), |a| (a.frame, a.ts));
        self.apply(who, Event::AnswersSyn, at_frame, at_ts, true);
        for p in self.packets.iter_mut().rev() {
            if p.frame < at_frame {
                break;
            }
            let st = match who {
                Dir::Client => &mut p.states_after.0,
                Dir::Server => &mut p.states_after.1,
            };
            if *st == TcpState::Closed {
                *st = TcpState::Listen;
            }
        }
    }

    /// `ack` acknowledges `who`'s SYN.
    fn acks_syn(&self, who: Dir, ack: SeqNum) -> bool {
        match self.half[who.idx()].side.base {
            Some(b) if self.half[who.idx()].syn_seen => ack.ge(b.add(1)),
            _ => true,
        }
    }
}

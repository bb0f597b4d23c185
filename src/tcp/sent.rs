//! The chain of a retransmission: which frame first carried the bytes, which frame
//! carried them last, and what made the sender send them again (a timeout, the third
//! duplicate ACK, or a hole the receiver's SACK blocks show).
//!
//! Each direction keeps a short log of the segments that advanced its highest sequence
//! number (bounded: the unacknowledged ones, plus a few acknowledged ones so a spurious
//! resend still finds its original). Kept only when packet records are kept: the facts
//! end up in the records, nowhere else.

use super::analysis::{Ctx, Side};
use super::finding::{Chain, Finding, Flag, Trigger};
use super::seq::SeqNum;
use super::{Dir, TcpConn};
use crate::decode::TcpSegment;
use crate::ts::Ts;
use std::collections::VecDeque;

/// A resend reacts to the peer's segment when it follows it within this long: the
/// window Wireshark gives a fast retransmission (20 ms).
const REACTION_S: f64 = 0.02;
/// Acknowledged segments kept, for spurious resends.
const KEEP_ACKED: usize = 16;
/// Most segments remembered per direction; older ones are forgotten (their resends then
/// have no known original).
const MAX_LOGGED: usize = 1024;

/// One transmission: its frame and time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sent {
    pub frame: u64,
    pub ts: Ts,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    seq: SeqNum,
    end: SeqNum,
    first: Sent,
    last: Sent,
    /// Times sent so far (1 = only the original).
    sends: u32,
    /// The wait before the latest resend.
    last_wait_ms: Option<f64>,
}

/// The segments one direction sent, ascending by sequence number.
#[derive(Debug, Default)]
pub struct SentLog {
    v: VecDeque<Entry>,
}

impl SentLog {
    /// A segment `[seq, end)` went out at `now`. New bytes are logged; for a resend, the
    /// entry holding `seq` is returned as it was before (original, previous, sends).
    pub fn on_sent(&mut self, seq: SeqNum, end: SeqNum, now: Sent, resent: bool) -> Option<Prior> {
        if !resent {
            if self.v.back().is_none_or(|b| end.gt(b.end)) {
                if self.v.len() >= MAX_LOGGED {
                    self.v.pop_front();
                }
                let start = self
                    .v
                    .back()
                    .map_or(seq, |b| if b.end.gt(seq) { b.end } else { seq });
                self.v.push_back(Entry {
                    seq: start,
                    end,
                    first: now,
                    last: now,
                    sends: 1,
                    last_wait_ms: None,
                });
            }
            return None;
        }
        let k = self.v.partition_point(|e| e.end.le(seq));
        let e = self.v.get_mut(k).filter(|e| e.seq.le(seq))?;
        let prior = Prior {
            from: e.seq,
            original: e.first,
            previous: e.last,
            sends: e.sends,
            previous_wait_ms: e.last_wait_ms,
        };
        e.last_wait_ms = Some(now.ts.ms_since(e.last.ts));
        e.last = now;
        e.sends += 1;
        Some(prior)
    }

    /// The peer acknowledged everything before `ack`: forget all but the last few
    /// acknowledged segments.
    pub fn on_ack(&mut self, ack: SeqNum) {
        let acked = self.v.partition_point(|e| e.end.le(ack));
        if acked > KEEP_ACKED {
            self.v.drain(..acked - KEEP_ACKED);
        }
    }

    pub fn release(&mut self) {
        self.v = VecDeque::new();
    }
}

/// What the log knew of the resent bytes before this resend.
#[derive(Clone, Copy, Debug)]
pub struct Prior {
    /// Where the logged segment that first carried the bytes began (the ISN: a SYN).
    pub from: SeqNum,
    pub original: Sent,
    pub previous: Sent,
    pub sends: u32,
    pub previous_wait_ms: Option<f64>,
}

/// The chain of a resend of `[seq, ..)` at `now` by the side `me`, whose peer is `peer`
/// (both as known before this segment). `fast`: Wireshark's fast-retransmission rule
/// fired, after the peer's duplicate ACK number `fast`.
pub fn chain(
    me: &Side,
    peer: &Side,
    seq: SeqNum,
    now: Sent,
    prior: Option<Prior>,
    fast: Option<i32>,
) -> Chain {
    let since = |s: Sent| now.ts.ms_since(s.ts);
    let (original, previous) = match prior {
        Some(p) => (Some(p.original), (p.sends > 1).then_some(p.previous)),
        None => (None, None),
    };
    let trigger = trigger(me, peer, seq, now, prior, fast);
    Chain {
        original_frame: original.map(|s| s.frame),
        since_original_ms: original.map(since),
        previous_frame: previous.map(|s| s.frame),
        since_previous_ms: previous.map(since),
        resend: prior.map_or(0, |p| p.sends),
        previous_wait_ms: prior.and_then(|p| p.previous_wait_ms),
        syn: false,
        linked: true,
        trigger,
    }
}

/// What made the sender resend: Wireshark's fast-retransmission rule; else, when it
/// follows the peer's segment closely (and that segment came after the bytes' last
/// send), a hole below the peer's SACK blocks; else, with nothing heard from the peer
/// since the last send (or long enough ago), a timeout measured from that send.
fn trigger(
    me: &Side,
    peer: &Side,
    seq: SeqNum,
    now: Sent,
    prior: Option<Prior>,
    fast: Option<i32>,
) -> Trigger {
    if let Some(n) = fast {
        return Trigger::FastRetransmit {
            dup_ack_frame: peer.last_seg_frame,
            dup_acks: n,
        };
    }
    let Some(p) = prior else {
        return Trigger::Unknown;
    };
    let heard_since = peer.last_seg_frame > 0 && peer.last_seg_ts >= p.previous.ts;
    let reacts = heard_since && now.ts.secs_since(peer.last_seg_ts) < REACTION_S;
    if !reacts {
        return Trigger::Rto {
            ms: now.ts.ms_since(p.previous.ts),
        };
    }
    // The bytes first rode on the SYN and the peer acknowledged only the SYN.
    if me.base == Some(p.from) && seq == p.from.add(1) && peer.last_ack == Some(seq) {
        return Trigger::SynDataNotAcked {
            syn_ack_frame: peer.last_ack_frame,
        };
    }
    match sack_hole(peer, seq) {
        Some((hole, has)) => Trigger::Sack {
            ack_frame: peer.last_seg_frame,
            hole: (me.rel(hole.0), me.rel(hole.1)),
            has: (me.rel(has.0), me.rel(has.1)),
        },
        None => Trigger::Unknown,
    }
}

/// The hole of the peer's latest SACK blocks that holds `seq`, and the block just above
/// it: `None` when no block lies above `seq` or one covers it.
fn sack_hole(peer: &Side, seq: SeqNum) -> Option<((SeqNum, SeqNum), (SeqNum, SeqNum))> {
    let blocks = &peer.sack[..usize::from(peer.sack_count).min(4)];
    if blocks.iter().any(|&(l, r)| l.le(seq) && seq.lt(r)) {
        return None;
    }
    let above = blocks
        .iter()
        .filter(|(l, _)| l.gt(seq))
        .min_by(|a, b| a.0.diff(b.0).cmp(&0))?;
    let below = blocks
        .iter()
        .filter(|(_, r)| r.le(seq))
        .map(|&(_, r)| r)
        .chain(peer.last_ack.filter(|a| a.le(seq)))
        .max_by(|a, b| a.diff(*b).cmp(&0))
        .unwrap_or(seq);
    Some(((below, above.0), *above))
}

impl TcpConn {
    /// Log what `dir` sent; for a resend, fill its finding's chain: the original, the
    /// previous send, the trigger (sent.rs). The peer's ACK lets the log forget.
    pub(super) fn link_resend(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: u64,
        ts: Ts,
        ctx: &Ctx,
        found: &mut [Finding],
    ) {
        let f = seg.flags;
        if f.ack()
            && let Some(s) = self.half[dir.other().idx()].sent.as_mut()
        {
            s.on_ack(SeqNum(seg.ack));
        }
        let seglen = seg.payload_len + u32::from(f.syn()) + u32::from(f.fin());
        if seglen == 0 || f.rst() {
            return;
        }
        let seq = SeqNum(seg.seq);
        let now = Sent { frame, ts };
        let resent = found.iter().any(|x| x.flag() == Flag::Retransmission);
        let log = self.half[dir.idx()].sent.get_or_insert_with(Box::default);
        let prior = log.on_sent(seq, seq.add(seglen), now, resent);
        if !resent {
            return;
        }
        let fast = found.iter().find_map(|x| match x {
            Finding::FastRetransmission { dup_acks, .. } => Some(*dup_acks),
            _ => None,
        });
        let c = Chain {
            syn: f.syn(),
            linked: true,
            ..chain(&ctx.me, &ctx.peer, seq, now, prior, fast)
        };
        for x in found.iter_mut() {
            if let Finding::Retransmission { chain, .. } = x {
                *chain = c;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: u64, ms: i64) -> Sent {
        Sent {
            frame,
            ts: Ts(ms * 1_000_000),
        }
    }

    #[test]
    fn a_resend_finds_its_original_and_its_previous_send() {
        let mut log = SentLog::default();
        assert!(
            log.on_sent(SeqNum(1), SeqNum(101), at(2, 0), false)
                .is_none()
        );
        log.on_sent(SeqNum(101), SeqNum(201), at(3, 1), false);
        let p = log
            .on_sent(SeqNum(101), SeqNum(201), at(9, 205), true)
            .unwrap();
        assert_eq!((p.original.frame, p.previous.frame, p.sends), (3, 3, 1));
        let p = log
            .on_sent(SeqNum(150), SeqNum(201), at(12, 615), true)
            .unwrap();
        assert_eq!((p.original.frame, p.previous.frame, p.sends), (3, 9, 2));
        assert!(
            log.on_sent(SeqNum(300), SeqNum(400), at(13, 616), true)
                .is_none()
        );
    }

    #[test]
    fn a_timeout_is_measured_from_the_previous_send() {
        let (me, peer) = (Side::default(), Side::default());
        let prior = Prior {
            from: SeqNum(0),
            original: at(3, 1),
            previous: at(9, 205),
            sends: 2,
            previous_wait_ms: Some(204.0),
        };
        let c = chain(&me, &peer, SeqNum(101), at(12, 615), Some(prior), None);
        assert_eq!(c.trigger, Trigger::Rto { ms: 410.0 });
        assert_eq!(
            (c.original_frame, c.previous_frame, c.resend),
            (Some(3), Some(9), 2)
        );
        assert_eq!(c.since_original_ms, Some(614.0));
        assert_eq!(c.previous_wait_ms, Some(204.0));
    }

    #[test]
    fn a_resend_right_after_a_sack_names_the_hole() {
        let me = Side {
            base: Some(SeqNum(0)),
            ..Side::default()
        };
        let mut peer = Side {
            last_ack: Some(SeqNum(1000)),
            last_seg_frame: 8,
            last_seg_ts: Ts(10_000_000),
            sack_count: 1,
            ..Side::default()
        };
        peer.sack[0] = (SeqNum(2000), SeqNum(5000));
        let prior = Prior {
            from: SeqNum(0),
            original: at(3, 1),
            previous: at(3, 1),
            sends: 1,
            previous_wait_ms: None,
        };
        let c = chain(&me, &peer, SeqNum(1000), at(9, 10), Some(prior), None);
        let want = Trigger::Sack {
            ack_frame: 8,
            hole: (1000, 2000),
            has: (2000, 5000),
        };
        assert_eq!(c.trigger, want);
        // Covered by the block: not a hole.
        let c = chain(&me, &peer, SeqNum(2000), at(9, 10), Some(prior), None);
        assert_eq!(c.trigger, Trigger::Unknown);
    }
}

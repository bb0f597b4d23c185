//! The sequence-number/time graph of a connection (Stevens' figures, tcptrace's
//! time-sequence graph), one per direction of data: each data segment as a bar from its
//! first to one past its last byte at the time it was sent, retransmissions marked, the
//! receiver's ACK line (the next byte it expects, a step at each ACK), its receive-window
//! line (ACK + window: how far the sender may go) and the ranges it SACKed.
//!
//! A pure model: packet records (and SACK blocks, which the records do not keep, given
//! per frame) in, points out; `seqsvg` draws it as SVG, the TUI's graph view on a canvas.
//! Sequence numbers are relative (the SYN is 0, as in the ladder) and unwrapped to 64
//! bits, so a transfer past 4 GiB keeps climbing instead of falling back to 0.

use super::slice::Slice;
use crate::flow::Dir;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Flag;
use std::collections::HashMap;

/// What a plotted segment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegKind {
    /// Bytes sent for the first time.
    Data,
    /// Bytes sent before (a timeout, or a SACK hole being filled).
    Retransmission,
    /// Sent after three duplicate ACKs.
    FastRetransmission,
    /// The SYN (sequence number 0, one number long).
    Syn,
    /// A FIN without data (one number long).
    Fin,
}

impl SegKind {
    pub fn is_retransmission(self) -> bool {
        matches!(self, SegKind::Retransmission | SegKind::FastRetransmission)
    }
}

/// One segment: the numbers `seq..end` sent at `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub frame: u64,
    /// Seconds since the connection's first packet.
    pub t: f64,
    pub seq: u64,
    pub end: u64,
    pub kind: SegKind,
}

/// One ACK from the receiver: the next number it expects and the edge of its window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ack {
    pub frame: u64,
    pub t: f64,
    pub ack: u64,
    /// `ack` + the receive window (scaled when the scale is known).
    pub window_edge: u64,
    /// Its number when it is a duplicate ACK (`#n`).
    pub dup: Option<u32>,
}

/// A range the receiver holds beyond its ACK (a SACK block), reported at `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SackRange {
    pub frame: u64,
    pub t: f64,
    pub left: u64,
    pub right: u64,
}

/// The graph of the data one side sends.
#[derive(Clone, Debug, PartialEq)]
pub struct DirGraph {
    /// The sender.
    pub dir: Dir,
    pub segments: Vec<Segment>,
    /// ACKs of this data, sent by the other side.
    pub acks: Vec<Ack>,
    pub sacks: Vec<SackRange>,
}

impl DirGraph {
    /// The time span of everything drawn (None when empty).
    pub fn time_span(&self) -> Option<(f64, f64)> {
        let ts = self
            .segments
            .iter()
            .map(|s| s.t)
            .chain(self.acks.iter().map(|a| a.t));
        span(ts)
    }

    /// The sequence span to draw: segments, ACKs and SACKs, and the window edges too
    /// unless they reach more than twice as far as the data (a 64 KB window over an
    /// 86-byte request would flatten the data to a line); then the span ends a quarter
    /// above the data and the window edge is drawn clipped at the top
    /// ([`DirGraph::window_clipped`] says how far it went).
    pub fn seq_span(&self) -> Option<(u64, u64)> {
        let lo = self
            .segments
            .iter()
            .map(|s| s.seq)
            .chain(self.acks.iter().map(|a| a.ack))
            .min()?;
        let data_hi = self
            .segments
            .iter()
            .map(|s| s.end)
            .chain(self.acks.iter().map(|a| a.ack))
            .chain(self.sacks.iter().map(|s| s.right))
            .max()?
            .max(lo + 1);
        let win_hi = self.acks.iter().map(|a| a.window_edge).max().unwrap_or(0);
        let range = data_hi - lo;
        let hi = if win_hi <= data_hi.saturating_add(range) {
            win_hi.max(data_hi)
        } else {
            data_hi.saturating_add(range / 4).max(data_hi + 1)
        };
        Some((lo, hi))
    }

    /// The highest window edge when it lies above the drawn span (clipped there).
    pub fn window_clipped(&self) -> Option<u64> {
        let (_, hi) = self.seq_span()?;
        self.acks
            .iter()
            .map(|a| a.window_edge)
            .max()
            .filter(|&w| w > hi)
    }

    /// Bytes of data in the graph (first transmissions only).
    pub fn new_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.kind == SegKind::Data)
            .map(|s| s.end - s.seq)
            .sum()
    }

    pub fn retransmissions(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| s.kind.is_retransmission())
            .count()
    }
}

fn span(it: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    it.fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((a, b)) => Some((f64::min(a, t), f64::max(b, t))),
    })
}

/// The graphs of both directions: the client's data first.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqGraph {
    pub dirs: [DirGraph; 2],
}

/// SACK blocks per frame, relative to the ISN of the side whose data they cover
/// (what `seqsvg::sack_blocks` reads from the capture).
pub type Sacks = HashMap<u64, Vec<(u32, u32)>>;

/// The 32-bit relative number `v` unwrapped next to `near`.
pub fn unwrap(near: u64, v: u32) -> u64 {
    let base = near & !0xffff_ffff;
    let cands = [base.wrapping_sub(1 << 32), base, base + (1 << 32)];
    cands
        .iter()
        .map(|b| b.wrapping_add(u64::from(v)))
        .filter(|c| *c < (1 << 63))
        .min_by_key(|c| c.abs_diff(near))
        .unwrap_or(u64::from(v))
}

fn kind_of(p: &PacketRecord) -> Option<SegKind> {
    let has = |f: Flag| p.analysis.iter().any(|x| x.flag() == f);
    if p.flags.syn() {
        Some(SegKind::Syn)
    } else if p.len > 0 && has(Flag::FastRetransmission) {
        Some(SegKind::FastRetransmission)
    } else if p.len > 0 && (has(Flag::Retransmission) || has(Flag::SpuriousRetransmission)) {
        Some(SegKind::Retransmission)
    } else if p.len > 0 {
        Some(SegKind::Data)
    } else if p.flags.fin() {
        Some(SegKind::Fin)
    } else {
        None
    }
}

/// Build the graph of the packets of `pkts` inside `slice`; times are relative to the
/// connection's first packet, whatever the slice.
pub fn build(pkts: &[PacketRecord], sacks: &Sacks, slice: Slice) -> SeqGraph {
    let t0 = pkts.first().map(|p| p.ts);
    let mut dirs = [Dir::Client, Dir::Server].map(|dir| DirGraph {
        dir,
        segments: Vec::new(),
        acks: Vec::new(),
        sacks: Vec::new(),
    });
    // The highest unwrapped number seen so far in each sender's space.
    let mut near = [0u64; 2];
    for p in pkts {
        let t = t0.map_or(0.0, |t0| p.ts.secs_since(t0));
        let me = usize::from(p.dir == Dir::Server);
        let inside = slice.contains(pkts, p);
        if let Some(kind) = kind_of(p) {
            let seq = unwrap(near[me], p.seq);
            let n = u64::from(p.len) + u64::from(p.flags.syn()) + u64::from(p.flags.fin());
            let end = seq + n.max(1);
            near[me] = near[me].max(seq);
            if inside {
                dirs[me].segments.push(Segment {
                    frame: p.frame,
                    t,
                    seq,
                    end,
                    kind,
                });
            }
        }
        // An ACK covers the other side's data.
        let other = 1 - me;
        if !p.flags.ack() {
            continue;
        }
        let ack = unwrap(near[other], p.ack);
        near[other] = near[other].max(ack);
        if !inside {
            continue;
        }
        let win = p.window_scaled.unwrap_or(u64::from(p.window));
        dirs[other].acks.push(Ack {
            frame: p.frame,
            t,
            ack,
            window_edge: ack + win,
            dup: p.dup_ack_num,
        });
        for &(l, r) in sacks.get(&p.frame).map_or(&[][..], |v| v.as_slice()) {
            let left = unwrap(ack, l);
            let right = unwrap(left, r);
            if right > left {
                dirs[other].sacks.push(SackRange {
                    frame: p.frame,
                    t,
                    left,
                    right,
                });
            }
        }
    }
    SeqGraph { dirs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_keeps_climbing_past_4_gib() {
        assert_eq!(unwrap(0, 5), 5);
        assert_eq!(unwrap(0xffff_fff0, 0x10), 0x1_0000_0010);
        assert_eq!(unwrap(0x1_0000_0010, 0xffff_fff0), 0xffff_fff0);
        assert_eq!(unwrap(0x1_0000_0010, 0x20), 0x1_0000_0020);
    }
}

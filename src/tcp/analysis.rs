//! Per-segment analysis flags, with Wireshark's meanings where Wireshark has them
//! (tcp.analysis.*), plus checks Wireshark does not make. Each flag keeps the values its
//! rule compared, so a front end can say why it fired.

pub use super::finding::{Chain, Counts, Finding, Flag, Sack, Trigger};

use super::seq::SeqNum;
use crate::decode::TcpSegment;
use crate::ts::Ts;

/// What the engine knows of one sender before the segment being checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct Side {
    /// Relative numbers count from here (the ISN, or the byte before the first seen).
    pub base: Option<SeqNum>,
    /// Highest seq + length seen (Wireshark's nextseq), when it was reached and the TSval
    /// of the segment that reached it.
    pub next_seq: Option<SeqNum>,
    pub next_seq_ts: Ts,
    pub next_seq_tsval: Option<u32>,
    /// Last ACK number this side sent.
    pub last_ack: Option<SeqNum>,
    /// Time and frame of this side's latest segment (Wireshark's lastacktime: any
    /// segment), and the SACK blocks it carried.
    pub last_seg_ts: Ts,
    pub last_seg_frame: u64,
    pub sack: [(SeqNum, SeqNum); 4],
    pub sack_count: u8,
    /// The frame where this side's ACK number became `last_ack` (Wireshark's
    /// lastnondupack, which window updates do not move): the ACK a duplicate repeats.
    pub last_ack_frame: u64,
    /// The frame where this side's window became zero, while it is zero.
    pub zero_window_frame: Option<u64>,
    /// Duplicate ACKs in a row; -1 after an ACKed-unseen (Wireshark's neutralised state).
    pub dup_acks: i32,
    pub window: Option<u16>,
    /// This side's previous segment was a keep-alive / zero-window probe.
    pub last_keep_alive: bool,
    pub last_zwp: bool,
}

impl Side {
    /// A sequence number relative to this side's base.
    pub fn rel(&self, s: SeqNum) -> u32 {
        self.base.map_or(s.0, |b| s.rel(b))
    }
}

/// Everything the sequence rules read: the sender (`me`), its peer, and three facts the
/// engine derives.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    pub me: Side,
    pub peer: Side,
    /// The peer's last advertised window in bytes (scaled), when the scale is known.
    pub peer_window_bytes: Option<u64>,
    /// The highest byte of the peer's stream seen contiguously (past its FIN if that is
    /// next): an ACK beyond it acknowledges data that was not captured.
    pub peer_contiguous: Option<SeqNum>,
    /// Below this gap since the highest segment, a segment below next expected is
    /// reordering (the iRTT, or 3 ms without one).
    pub reorder_threshold_s: f64,
}

/// What the sequence rules decided beyond their findings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Verdict {
    pub keep_alive: bool,
    pub zero_window_probe: bool,
    /// For a duplicate ACK: the sender's new count of them.
    pub dup_ack: Option<i32>,
    /// Counted as a retransmission (spurious, fast or plain).
    pub retransmitted: bool,
}

/// The segment's flags and lengths, as the rules read them.
#[derive(Clone, Copy, Debug)]
struct Shape {
    seq: SeqNum,
    ack: SeqNum,
    has_ack: bool,
    syn: bool,
    /// Neither SYN, FIN nor RST.
    plain: bool,
    rst: bool,
    payload: u32,
    /// Sequence space used: payload, plus one each for SYN and FIN.
    seglen: u32,
    window: u16,
    sack: [(u32, u32); 4],
    sack_count: u8,
}

impl Shape {
    fn of(seg: &TcpSegment<'_>) -> Shape {
        let f = seg.flags;
        Shape {
            seq: SeqNum(seg.seq),
            ack: SeqNum(seg.ack),
            has_ack: f.ack(),
            syn: f.syn(),
            plain: !(f.syn() || f.fin() || f.rst()),
            rst: f.rst(),
            payload: seg.payload_len,
            seglen: seg.payload_len + u32::from(f.syn()) + u32::from(f.fin()),
            window: seg.window,
            sack: seg.options.sack,
            sack_count: seg.options.sack_count,
        }
    }
}

/// Wireshark's tcp.analysis rules for one segment, in Wireshark's order. Findings go to
/// `out`; the verdict says what the engine must remember.
pub fn check(ctx: &Ctx, seg: &TcpSegment<'_>, ts: Ts, out: &mut Vec<Finding>) -> Verdict {
    let s = Shape::of(seg);
    let mut v = Verdict {
        zero_window_probe: zero_window_probe(ctx, &s, out),
        ..Verdict::default()
    };
    if !v.zero_window_probe {
        zero_window(&s, out);
        lost_segment(ctx, &s, out);
    }
    let (keep_alive, empty_probe) = keep_alive(ctx, &s, out);
    v.keep_alive = keep_alive;
    v.zero_window_probe |= empty_probe;
    window_update(ctx, &s, out);
    window_full(ctx, &s, out);
    v.dup_ack = duplicate_ack(ctx, &s, out);
    ack_unseen(ctx, &s, out);
    if !(keep_alive || empty_probe) {
        v.retransmitted = retransmission(ctx, &s, seg.options.timestamps, ts, out);
    }
    v
}

/// One byte at the next expected seq while the peer's window is zero.
fn zero_window_probe(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) -> bool {
    let hit =
        s.seglen == 1 && ctx.me.next_seq == Some(s.seq) && ctx.peer.window == Some(0) && !s.syn;
    if hit {
        out.push(Finding::ZeroWindowProbe {
            seq: ctx.me.rel(s.seq),
            window_frame: ctx.peer.zero_window_frame.unwrap_or(0),
            empty: false,
        });
    }
    hit
}

/// A window of 0 on a segment without SYN, FIN or RST.
fn zero_window(s: &Shape, out: &mut Vec<Finding>) {
    if s.window == 0 && s.plain {
        out.push(Finding::ZeroWindow);
    }
}

/// The segment starts beyond the next expected byte: the bytes between were not captured.
fn lost_segment(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) {
    if let Some(n) = ctx.me.next_seq
        && s.seq.gt(n)
        && !s.rst
    {
        out.push(Finding::LostSegment {
            seq: ctx.me.rel(s.seq),
            expected: ctx.me.rel(n),
            missing: s.seq.diff(n),
        });
    }
}

/// At most one byte at next expected - 1: a keep-alive; but when the peer's window is
/// zero and the segment is empty, a zero-window probe (Linux probes a zero window this
/// way, RFC 9293 §3.8.6.1; Wireshark calls it a keep-alive). Returns (keep-alive, probe).
fn keep_alive(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) -> (bool, bool) {
    let Some(n) = ctx.me.next_seq else {
        return (false, false);
    };
    let hit = s.seglen <= 1 && s.plain && n.add(u32::MAX) == s.seq;
    if hit && s.seglen == 0 && ctx.peer.window == Some(0) {
        out.push(Finding::ZeroWindowProbe {
            seq: ctx.me.rel(s.seq),
            window_frame: ctx.peer.zero_window_frame.unwrap_or(0),
            empty: true,
        });
        return (false, true);
    }
    if hit {
        out.push(Finding::KeepAlive {
            seq: ctx.me.rel(s.seq),
            expected: ctx.me.rel(n),
        });
    }
    (hit, false)
}

/// The same ACK as before (`me`'s last), at next expected.
fn same_ack_at_next(ctx: &Ctx, s: &Shape) -> bool {
    s.has_ack && ctx.me.last_ack == Some(s.ack) && ctx.me.next_seq == Some(s.seq)
}

/// No data, same ACK, a new non-zero window.
fn window_update(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) {
    if let Some(old) = ctx.me.window
        && s.seglen == 0
        && s.window != 0
        && old != s.window
        && same_ack_at_next(ctx, s)
        && s.plain
    {
        out.push(Finding::WindowUpdate {
            from: old,
            to: s.window,
        });
    }
}

/// The segment's end reaches exactly the edge of the peer's advertised window.
fn window_full(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) {
    if s.payload > 0
        && s.plain
        && let Some(rack) = ctx.peer.last_ack
        && let Some(rw) = ctx.peer_window_bytes
        && rw > 0
        && s.seq.add(s.payload).diff(rack) == rw as i64
    {
        out.push(Finding::WindowFull { window: rw });
    }
}

/// A bare segment repeating the last ACK and window: the answer to a keep-alive or a
/// zero-window probe, or else a duplicate ACK (its new count returned).
fn duplicate_ack(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) -> Option<i32> {
    let candidate =
        s.seglen == 0 && ctx.me.window == Some(s.window) && same_ack_at_next(ctx, s) && s.plain;
    if !candidate {
        return None;
    }
    if s.window != 0 && ctx.peer.last_keep_alive {
        out.push(Finding::KeepAliveAck);
        return None;
    }
    if s.window == 0 && ctx.peer.last_zwp {
        out.push(Finding::ZeroWindowProbeAck);
        return None;
    }
    if s.window == 0 {
        return None;
    }
    let n = if ctx.me.dup_acks < 0 {
        1
    } else {
        ctx.me.dup_acks + 1
    };
    let mut sack = Sack {
        count: s.sack_count.min(4),
        ..Sack::default()
    };
    for (k, &(l, r)) in s.sack.iter().take(usize::from(sack.count)).enumerate() {
        sack.blocks[k] = (ctx.peer.rel(SeqNum(l)), ctx.peer.rel(SeqNum(r)));
    }
    out.push(Finding::DuplicateAck {
        ack: ctx.peer.rel(s.ack),
        n,
        of_frame: ctx.me.last_ack_frame,
        sack,
    });
    Some(n)
}

/// An ACK beyond the highest byte seen contiguously from the peer.
fn ack_unseen(ctx: &Ctx, s: &Shape, out: &mut Vec<Finding>) {
    if s.has_ack
        && !s.rst
        && let Some(m) = ctx.peer_contiguous
        && s.ack.gt(m)
        && s.ack.diff(m) < (1 << 30)
    {
        out.push(Finding::AckUnseen {
            ack: ctx.peer.rel(s.ack),
            highest: ctx.peer.rel(m),
        });
    }
}

/// The retransmission family, in Wireshark's order: spurious, fast, out-of-order, plain.
/// TCP timestamps settle what Wireshark guesses: a newer TSval was sent later, so it is a
/// retransmission even when it arrives within the reordering threshold.
fn retransmission(
    ctx: &Ctx,
    s: &Shape,
    timestamps: Option<(u32, u32)>,
    ts: Ts,
    out: &mut Vec<Finding>,
) -> bool {
    if s.seglen == 0 || s.rst {
        return false;
    }
    let n = ctx.me.next_seq;
    // More than one byte starting just below next expected: new data after a zero-window
    // probe, not a resend.
    let after_probe = s.payload > 1 && n.is_some_and(|n| n.add(u32::MAX) == s.seq);
    let not_advanced = n.is_some_and(|n| s.seq.lt(n)) && !after_probe;
    let seq = ctx.me.rel(s.seq);
    let expected = n.map_or(0, |n| ctx.me.rel(n));
    let since_next = ts.secs_since(ctx.me.next_seq_ts);
    let tsval_later = match (timestamps, ctx.me.next_seq_tsval) {
        (Some((v, _)), Some(prev)) => SeqNum(v).gt(SeqNum(prev)),
        _ => false,
    };
    let plain = Finding::Retransmission {
        seq,
        expected,
        tsval_later: false,
        chain: Chain::default(),
    };
    if s.payload > 0
        && let Some(rack) = ctx.peer.last_ack
        && s.seq.add(s.seglen).le(rack)
    {
        out.push(Finding::SpuriousRetransmission {
            seq,
            end: ctx.me.rel(s.seq.add(s.seglen)),
            acked: ctx.me.rel(rack),
        });
        out.push(plain);
        return true;
    }
    if not_advanced
        && ctx.peer.dup_acks >= 2
        && ctx.peer.last_ack == Some(s.seq)
        && ts.secs_since(ctx.peer.last_seg_ts) < 0.02
    {
        out.push(Finding::FastRetransmission {
            seq,
            dup_acks: ctx.peer.dup_acks,
        });
        out.push(plain);
        return true;
    }
    let reordered = since_next < ctx.reorder_threshold_s;
    if not_advanced && reordered && n != Some(s.seq.add(s.seglen)) && !tsval_later {
        out.push(Finding::OutOfOrder {
            seq,
            expected,
            since_ms: since_next * 1000.0,
            threshold_ms: ctx.reorder_threshold_s * 1000.0,
        });
        return false;
    }
    if not_advanced {
        out.push(Finding::Retransmission {
            seq,
            expected,
            tsval_later: tsval_later && reordered,
            chain: Chain::default(),
        });
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    //! One test per rule, on the rule's own inputs: the sender (`me`) has sent up to
    //! relative 1001 (base 0), the peer has ACKed 1001 with a window of 1000.
    use super::*;
    use crate::decode::{TcpFlags, TcpOptions};

    fn side(next: u32, last_ack: u32, window: u16) -> Side {
        Side {
            base: Some(SeqNum(0)),
            next_seq: Some(SeqNum(next)),
            next_seq_ts: Ts(0),
            last_ack: Some(SeqNum(last_ack)),
            window: Some(window),
            ..Side::default()
        }
    }

    fn ctx() -> Ctx {
        Ctx {
            me: side(1001, 5001, 1000),
            peer: side(5001, 1001, 1000),
            peer_window_bytes: Some(1000),
            peer_contiguous: Some(SeqNum(5001)),
            reorder_threshold_s: 0.003,
        }
    }

    fn seg(flags: u16, seq: u32, ack: u32, len: u32, window: u16) -> TcpSegment<'static> {
        TcpSegment {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            data_offset: 5,
            options: TcpOptions::default(),
            payload: &[],
            payload_len: len,
            truncated: false,
            partial_header: false,
            header_fields: 20,
        }
    }

    const A: u16 = TcpFlags::ACK;

    fn run(c: &Ctx, s: &TcpSegment<'_>, at_ms: i64) -> (Vec<Finding>, Verdict) {
        let mut out = Vec::new();
        let v = check(c, s, Ts(at_ms * 1_000_000), &mut out);
        (out, v)
    }

    #[test]
    fn in_order_data_raises_nothing() {
        let (f, v) = run(&ctx(), &seg(A, 1001, 5001, 100, 1000), 10);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(v, Verdict::default());
    }

    #[test]
    fn zero_window_probe_is_one_byte_at_next_while_the_peer_window_is_zero() {
        let mut c = ctx();
        c.peer.window = Some(0);
        let (f, v) = run(&c, &seg(A, 1001, 5001, 1, 1000), 10);
        assert_eq!(
            f,
            [Finding::ZeroWindowProbe {
                seq: 1001,
                window_frame: 0,
                empty: false
            }]
        );
        assert!(v.zero_window_probe);
    }

    #[test]
    fn zero_window_is_flagged_on_plain_segments_only() {
        let (f, _) = run(&ctx(), &seg(A, 1001, 5001, 0, 0), 10);
        assert_eq!(f, [Finding::ZeroWindow]);
        let (f, _) = run(&ctx(), &seg(A | TcpFlags::FIN, 1001, 5001, 0, 0), 10);
        assert!(!f.contains(&Finding::ZeroWindow));
    }

    #[test]
    fn lost_segment_names_the_missing_bytes() {
        let (f, _) = run(&ctx(), &seg(A, 2001, 5001, 100, 1000), 10);
        assert_eq!(
            f,
            [Finding::LostSegment {
                seq: 2001,
                expected: 1001,
                missing: 1000
            }]
        );
    }

    #[test]
    fn keep_alive_is_next_minus_one_with_at_most_a_byte() {
        let (f, v) = run(&ctx(), &seg(A, 1000, 5001, 0, 1000), 10);
        assert_eq!(
            f,
            [Finding::KeepAlive {
                seq: 1000,
                expected: 1001
            }]
        );
        assert!(v.keep_alive && !v.retransmitted);
    }

    #[test]
    fn window_update_is_a_new_window_with_the_same_ack() {
        let (f, v) = run(&ctx(), &seg(A, 1001, 5001, 0, 2000), 10);
        assert_eq!(
            f,
            [Finding::WindowUpdate {
                from: 1000,
                to: 2000
            }]
        );
        assert_eq!(v.dup_ack, None);
    }

    #[test]
    fn window_full_reaches_the_peer_window_edge() {
        let (f, _) = run(&ctx(), &seg(A, 1001, 5001, 1000, 1000), 10);
        assert_eq!(f, [Finding::WindowFull { window: 1000 }]);
    }

    #[test]
    fn duplicate_ack_counts_and_answers_to_probes_are_not_duplicates() {
        let (f, v) = run(&ctx(), &seg(A, 1001, 5001, 0, 1000), 10);
        assert_eq!(
            f,
            [Finding::DuplicateAck {
                ack: 5001,
                n: 1,
                of_frame: 0,
                sack: Sack::default()
            }]
        );
        assert_eq!(v.dup_ack, Some(1));
        let mut c = ctx();
        c.me.dup_acks = 2;
        assert_eq!(run(&c, &seg(A, 1001, 5001, 0, 1000), 10).1.dup_ack, Some(3));
        c.me.dup_acks = -1;
        assert_eq!(run(&c, &seg(A, 1001, 5001, 0, 1000), 10).1.dup_ack, Some(1));
        let mut c = ctx();
        c.peer.last_keep_alive = true;
        assert_eq!(
            run(&c, &seg(A, 1001, 5001, 0, 1000), 10).0,
            [Finding::KeepAliveAck]
        );
        let mut c = ctx();
        c.me.window = Some(0);
        c.peer.last_zwp = true;
        let (f, _) = run(&c, &seg(A, 1001, 5001, 0, 0), 10);
        assert_eq!(f, [Finding::ZeroWindow, Finding::ZeroWindowProbeAck]);
    }

    #[test]
    fn ack_of_unseen_data_is_beyond_the_peer_contiguous_bytes() {
        let (f, _) = run(&ctx(), &seg(A, 1001, 6001, 0, 1000), 10);
        assert_eq!(
            f,
            [Finding::AckUnseen {
                ack: 6001,
                highest: 5001
            }]
        );
    }

    #[test]
    fn spurious_retransmission_resends_acknowledged_bytes() {
        let mut c = ctx();
        c.peer.last_ack = Some(SeqNum(1001));
        let (f, v) = run(&c, &seg(A, 901, 5001, 100, 1000), 10);
        assert_eq!(
            f,
            [
                Finding::SpuriousRetransmission {
                    seq: 901,
                    end: 1001,
                    acked: 1001
                },
                Finding::Retransmission {
                    seq: 901,
                    expected: 1001,
                    tsval_later: false,
                    chain: Chain::default(),
                }
            ]
        );
        assert!(v.retransmitted);
    }

    #[test]
    fn fast_retransmission_follows_the_third_duplicate_ack() {
        let mut c = ctx();
        c.peer.last_ack = Some(SeqNum(501));
        c.peer.dup_acks = 3;
        c.peer.last_seg_ts = Ts(9_000_000);
        let (f, v) = run(&c, &seg(A, 501, 5001, 100, 1000), 10);
        assert_eq!(
            f[0],
            Finding::FastRetransmission {
                seq: 501,
                dup_acks: 3
            }
        );
        assert!(v.retransmitted);
    }

    #[test]
    fn out_of_order_within_the_threshold_and_retransmission_after_it() {
        let mut c = ctx();
        c.peer.last_ack = Some(SeqNum(501));
        let (f, v) = run(&c, &seg(A, 501, 5001, 100, 1000), 1);
        assert!(
            matches!(
                f[0],
                Finding::OutOfOrder {
                    seq: 501,
                    expected: 1001,
                    ..
                }
            ),
            "{f:?}"
        );
        assert!(!v.retransmitted);
        let (f, v) = run(&c, &seg(A, 501, 5001, 100, 1000), 10);
        assert_eq!(
            f,
            [Finding::Retransmission {
                seq: 501,
                expected: 1001,
                tsval_later: false,
                chain: Chain::default(),
            }]
        );
        assert!(v.retransmitted);
    }

    #[test]
    fn a_newer_tsval_makes_an_early_resend_a_retransmission() {
        let mut c = ctx();
        c.peer.last_ack = Some(SeqNum(501));
        c.me.next_seq_tsval = Some(100);
        let mut s = seg(A, 501, 5001, 100, 1000);
        s.options.timestamps = Some((101, 0));
        let (f, v) = run(&c, &s, 1);
        assert_eq!(
            f,
            [Finding::Retransmission {
                seq: 501,
                expected: 1001,
                tsval_later: true,
                chain: Chain::default(),
            }]
        );
        assert!(v.retransmitted);
    }
}

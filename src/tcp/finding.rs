//! The vocabulary of analysis: each flag (Wireshark's tcp.analysis.* meanings where
//! Wireshark has them), the typed finding with the values its rule compared, and the
//! per-connection counts.

use serde::Serialize;

/// One analysis finding on a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    DuplicateAck,
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowFull,
    WindowUpdate,
    KeepAlive,
    KeepAliveAck,
    /// Wireshark's "previous segment not captured".
    LostSegment,
    /// Wireshark's "ACKed segment that wasn't captured".
    AckUnseen,
    /// Overlapping bytes differ from the first copy (first copy kept).
    OverlapConflict,
    /// A segment after the connection was closed (RST seen, or after the FINs were
    /// acknowledged), e.g. RST/FIN after close.
    AfterClose,
    /// SYN+FIN, SYN+RST, FIN+RST or no flags at all.
    ImpossibleFlags,
    /// RST whose sequence number is in the receive window but not exactly the next
    /// expected: RFC 5961 §3.2 says to answer with a challenge ACK, not to reset.
    RstInWindow,
    /// RST outside the receive window: RFC 5961 says to drop it.
    RstOutOfWindow,
    /// Window scale option above 14 (RFC 7323 §2.3: treated as 14).
    BadWindowScale,
    /// TCP Fast Open: data on a SYN.
    SynData,
    /// The reassembly buffer cap was reached: a gap was forced.
    BufferCapHit,
}

impl Flag {
    pub fn name(self) -> &'static str {
        match self {
            Flag::Retransmission => "retransmission",
            Flag::FastRetransmission => "fast_retransmission",
            Flag::SpuriousRetransmission => "spurious_retransmission",
            Flag::OutOfOrder => "out_of_order",
            Flag::DuplicateAck => "duplicate_ack",
            Flag::ZeroWindow => "zero_window",
            Flag::ZeroWindowProbe => "zero_window_probe",
            Flag::ZeroWindowProbeAck => "zero_window_probe_ack",
            Flag::WindowFull => "window_full",
            Flag::WindowUpdate => "window_update",
            Flag::KeepAlive => "keep_alive",
            Flag::KeepAliveAck => "keep_alive_ack",
            Flag::LostSegment => "lost_segment",
            Flag::AckUnseen => "ack_unseen",
            Flag::OverlapConflict => "overlap_conflict",
            Flag::AfterClose => "after_close",
            Flag::ImpossibleFlags => "impossible_flags",
            Flag::RstInWindow => "rst_in_window",
            Flag::RstOutOfWindow => "rst_out_of_window",
            Flag::BadWindowScale => "bad_window_scale",
            Flag::SynData => "syn_data",
            Flag::BufferCapHit => "buffer_cap_hit",
        }
    }

    /// Short label for packet lists and ladders.
    pub fn label(self) -> &'static str {
        match self {
            Flag::Retransmission => "Retransmission",
            Flag::FastRetransmission => "Fast Retransmission",
            Flag::SpuriousRetransmission => "Spurious Retransmission",
            Flag::OutOfOrder => "Out-Of-Order",
            Flag::DuplicateAck => "Dup ACK",
            Flag::ZeroWindow => "Zero Window",
            Flag::ZeroWindowProbe => "Zero Window Probe",
            Flag::ZeroWindowProbeAck => "Zero Window Probe ACK",
            Flag::WindowFull => "Window Full",
            Flag::WindowUpdate => "Window Update",
            Flag::KeepAlive => "Keep-Alive",
            Flag::KeepAliveAck => "Keep-Alive ACK",
            Flag::LostSegment => "Previous segment not captured",
            Flag::AckUnseen => "ACKed unseen segment",
            Flag::OverlapConflict => "Overlap with different bytes",
            Flag::AfterClose => "After close",
            Flag::ImpossibleFlags => "Impossible flags",
            Flag::RstInWindow => "RST in window (challenge ACK expected)",
            Flag::RstOutOfWindow => "RST out of window (ignored)",
            Flag::BadWindowScale => "Window scale > 14",
            Flag::SynData => "Data on SYN (TFO)",
            Flag::BufferCapHit => "Reassembly cap hit",
        }
    }
}

/// One finding on a segment, with the values its rule compared (sequence numbers
/// relative to the sender's ISN, the peer's for ACK numbers). The engine records these;
/// the sentences that say why a rule fired are built from them in `explain`, on demand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Finding {
    /// The segment starts at `seq`, below the next expected `expected`: resent.
    /// `tsval_later`: its TSval is newer than the highest segment's while it came within
    /// the reordering threshold (Wireshark would call it out-of-order).
    /// `expected` is the next new byte: the highest sequence number sent so far.
    /// `chain`: the original, the previous send and the trigger (when packets are kept).
    Retransmission {
        seq: u32,
        expected: u32,
        tsval_later: bool,
        chain: Chain,
    },
    /// Resent within 20 ms of the peer's duplicate ACK number `dup_acks` asking for it.
    FastRetransmission {
        seq: u32,
        dup_acks: i32,
    },
    /// `seq..end` was already acknowledged by the peer's ACK `acked`.
    SpuriousRetransmission {
        seq: u32,
        end: u32,
        acked: u32,
    },
    /// Below the next expected, `since_ms` after the highest segment (under
    /// `threshold_ms`): reordered, not resent.
    OutOfOrder {
        seq: u32,
        expected: u32,
        since_ms: f64,
        threshold_ms: f64,
    },
    /// The `n`th ACK in a row of `ack` with no data and the same window, repeating the
    /// ACK of frame `of_frame`; `sack`: its SACK blocks (relative, left edge inclusive,
    /// right edge exclusive).
    DuplicateAck {
        ack: u32,
        n: i32,
        of_frame: u64,
        sack: Sack,
    },
    ZeroWindow,
    /// A probe of the peer's zero window (advertised since frame `window_frame`): one
    /// byte at the next expected `seq` (Wireshark's rule), or, with `empty`, no byte at
    /// the next expected - 1 (what Linux sends; Wireshark calls it a keep-alive).
    ZeroWindowProbe {
        seq: u32,
        window_frame: u64,
        empty: bool,
    },
    ZeroWindowProbeAck,
    /// The segment fills the peer's advertised `window` bytes.
    WindowFull {
        window: u64,
    },
    /// No data, same ACK, the window changed.
    WindowUpdate {
        from: u16,
        to: u16,
    },
    /// `seq` = next expected `expected` - 1, with at most one byte.
    KeepAlive {
        seq: u32,
        expected: u32,
    },
    KeepAliveAck,
    /// `seq` is above the next expected `expected`: `missing` bytes were not captured.
    LostSegment {
        seq: u32,
        expected: u32,
        missing: i64,
    },
    /// `ack` is above the highest byte seen from the peer, `highest`.
    AckUnseen {
        ack: u32,
        highest: u32,
    },
    OverlapConflict,
    /// A segment after the connection ended: by a RST (`reset`) or both FINs acknowledged.
    AfterClose {
        reset: bool,
    },
    /// Flags that never occur together (the raw flag bits).
    ImpossibleFlags {
        flags: u16,
    },
    /// A RST at `seq`, inside the window but not the next expected `expected`.
    RstInWindow {
        seq: u32,
        expected: u32,
    },
    /// A RST at `seq`, outside the receive window that starts at `window_start`.
    RstOutOfWindow {
        seq: u32,
        window_start: u32,
    },
    /// A window scale above 14.
    BadWindowScale {
        scale: u8,
    },
    /// `bytes` of data on a SYN.
    SynData {
        bytes: u32,
    },
    /// More than `cap` out-of-order bytes were buffered: a gap was declared.
    BufferCapHit {
        cap: usize,
    },
}

impl Finding {
    /// The flag this finding raises (its kind, for counts and labels).
    pub fn flag(&self) -> Flag {
        match self {
            Finding::Retransmission { .. } => Flag::Retransmission,
            Finding::FastRetransmission { .. } => Flag::FastRetransmission,
            Finding::SpuriousRetransmission { .. } => Flag::SpuriousRetransmission,
            Finding::OutOfOrder { .. } => Flag::OutOfOrder,
            Finding::DuplicateAck { .. } => Flag::DuplicateAck,
            Finding::ZeroWindow => Flag::ZeroWindow,
            Finding::ZeroWindowProbe { .. } => Flag::ZeroWindowProbe,
            Finding::ZeroWindowProbeAck => Flag::ZeroWindowProbeAck,
            Finding::WindowFull { .. } => Flag::WindowFull,
            Finding::WindowUpdate { .. } => Flag::WindowUpdate,
            Finding::KeepAlive { .. } => Flag::KeepAlive,
            Finding::KeepAliveAck => Flag::KeepAliveAck,
            Finding::LostSegment { .. } => Flag::LostSegment,
            Finding::AckUnseen { .. } => Flag::AckUnseen,
            Finding::OverlapConflict => Flag::OverlapConflict,
            Finding::AfterClose { .. } => Flag::AfterClose,
            Finding::ImpossibleFlags { .. } => Flag::ImpossibleFlags,
            Finding::RstInWindow { .. } => Flag::RstInWindow,
            Finding::RstOutOfWindow { .. } => Flag::RstOutOfWindow,
            Finding::BadWindowScale { .. } => Flag::BadWindowScale,
            Finding::SynData { .. } => Flag::SynData,
            Finding::BufferCapHit { .. } => Flag::BufferCapHit,
        }
    }
}

/// Counts of each flag over a connection.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub retransmission: u32,
    pub fast_retransmission: u32,
    pub spurious_retransmission: u32,
    pub out_of_order: u32,
    pub duplicate_ack: u32,
    pub zero_window: u32,
    pub zero_window_probe: u32,
    pub zero_window_probe_ack: u32,
    pub window_full: u32,
    pub window_update: u32,
    pub keep_alive: u32,
    pub keep_alive_ack: u32,
    pub lost_segment: u32,
    pub ack_unseen: u32,
    pub overlap_conflict: u32,
    pub after_close: u32,
    pub impossible_flags: u32,
    pub rst_in_window: u32,
    pub rst_out_of_window: u32,
    pub bad_window_scale: u32,
    pub syn_data: u32,
    pub buffer_cap_hit: u32,
}

impl Counts {
    pub fn add(&mut self, f: Flag) {
        let c = match f {
            Flag::Retransmission => &mut self.retransmission,
            Flag::FastRetransmission => &mut self.fast_retransmission,
            Flag::SpuriousRetransmission => &mut self.spurious_retransmission,
            Flag::OutOfOrder => &mut self.out_of_order,
            Flag::DuplicateAck => &mut self.duplicate_ack,
            Flag::ZeroWindow => &mut self.zero_window,
            Flag::ZeroWindowProbe => &mut self.zero_window_probe,
            Flag::ZeroWindowProbeAck => &mut self.zero_window_probe_ack,
            Flag::WindowFull => &mut self.window_full,
            Flag::WindowUpdate => &mut self.window_update,
            Flag::KeepAlive => &mut self.keep_alive,
            Flag::KeepAliveAck => &mut self.keep_alive_ack,
            Flag::LostSegment => &mut self.lost_segment,
            Flag::AckUnseen => &mut self.ack_unseen,
            Flag::OverlapConflict => &mut self.overlap_conflict,
            Flag::AfterClose => &mut self.after_close,
            Flag::ImpossibleFlags => &mut self.impossible_flags,
            Flag::RstInWindow => &mut self.rst_in_window,
            Flag::RstOutOfWindow => &mut self.rst_out_of_window,
            Flag::BadWindowScale => &mut self.bad_window_scale,
            Flag::SynData => &mut self.syn_data,
            Flag::BufferCapHit => &mut self.buffer_cap_hit,
        };
        *c += 1;
    }

    /// Anything a user should look at.
    pub fn total_anomalies(&self) -> u32 {
        self.retransmission
            + self.out_of_order
            + self.duplicate_ack
            + self.zero_window
            + self.lost_segment
            + self.ack_unseen
            + self.overlap_conflict
            + self.impossible_flags
            + self.rst_out_of_window
            + self.rst_in_window
    }
}

/// Up to four SACK blocks of one ACK, relative to the data sender's ISN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sack {
    pub blocks: [(u32, u32); 4],
    pub count: u8,
}

impl Sack {
    pub fn blocks(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.count).min(4)]
    }

    /// The bytes from `ack` up to the highest SACKed byte the receiver does not have,
    /// lowest first: `(start, end)`, end exclusive.
    pub fn holes(&self, ack: u32) -> Vec<(u32, u32)> {
        let mut b: Vec<(u32, u32)> = self.blocks().to_vec();
        b.sort_by_key(|&(l, _)| l.wrapping_sub(ack));
        let mut at = ack;
        let mut out = Vec::new();
        for (l, r) in b {
            if (l.wrapping_sub(ack) as i32) > (at.wrapping_sub(ack) as i32) {
                out.push((at, l));
            }
            if (r.wrapping_sub(ack) as i32) > (at.wrapping_sub(ack) as i32) {
                at = r;
            }
        }
        out
    }
}

/// The story of one resend: the frame that first carried its bytes, the one that
/// carried them last before it (from the second resend on), and its trigger.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Chain {
    /// The original transmission (Wireshark's `tcp.analysis.rto_frame`), when captured.
    pub original_frame: Option<u64>,
    /// Time since it (Wireshark's `tcp.analysis.rto`, whatever the trigger).
    pub since_original_ms: Option<f64>,
    /// The previous send, when this is the second resend or later.
    pub previous_frame: Option<u64>,
    pub since_previous_ms: Option<f64>,
    /// Which resend this is: 1 for the first, 2 for the second...; 0 when the original
    /// was not captured.
    pub resend: u32,
    /// From the second resend on: the wait before the previous resend (to show the
    /// timer's back-off).
    pub previous_wait_ms: Option<f64>,
    /// The resent segment is a SYN (or SYN-ACK).
    pub syn: bool,
    /// The chain was worked out (only when packet records are kept).
    pub linked: bool,
    pub trigger: Trigger,
}

/// What made a sender resend.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Trigger {
    /// A retransmission timeout: `ms` after the previous send of these bytes, with no
    /// segment from the peer in between that could have asked for them.
    Rto { ms: f64 },
    /// The peer's duplicate ACK number `dup_acks` (frame `dup_ack_frame`): Wireshark's
    /// fast retransmission.
    FastRetransmit { dup_ack_frame: u64, dup_acks: i32 },
    /// Right after the peer's ACK at `ack_frame`, whose SACK blocks show it `has` the
    /// bytes above the `hole` this segment fills (relative, end exclusive).
    Sack {
        ack_frame: u64,
        hole: (u32, u32),
        has: (u32, u32),
    },
    /// The bytes first rode on the SYN (TCP Fast Open), and the peer's SYN-ACK at
    /// `syn_ack_frame` acknowledged only the SYN: the server did not take them (no valid
    /// cookie, or Fast Open off), so they are sent again after the handshake (RFC 7413
    /// §4.2.2).
    SynDataNotAcked { syn_ack_frame: u64 },
    /// Nothing in the capture tells: the original was not captured, or the resend
    /// followed an ACK that neither repeats three times nor shows a SACK hole.
    #[default]
    Unknown,
}

impl Trigger {
    /// The JSON name: `rto`, `fast_retransmit`, `sack`, `syn_data_not_acked`, `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Rto { .. } => "rto",
            Trigger::FastRetransmit { .. } => "fast_retransmit",
            Trigger::Sack { .. } => "sack",
            Trigger::SynDataNotAcked { .. } => "syn_data_not_acked",
            Trigger::Unknown => "unknown",
        }
    }
}

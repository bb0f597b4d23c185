//! Per-segment analysis flags, with Wireshark's meanings where Wireshark has them
//! (tcp.analysis.*), plus checks Wireshark does not make. Each flag keeps the values its
//! rule compared, so a front end can say why it fired.

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

/// The values a rule compared, kept for the explanation (relative numbers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub flag: Flag,
    /// What the rule compared, in plain words with the numbers.
    pub why: String,
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

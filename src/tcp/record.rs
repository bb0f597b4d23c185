//! What the engine keeps of each packet and of each run of bytes never captured: the
//! records the packet list, the ladder, `explain` and `--packets` read.

use crate::decode::TcpFlags;
use crate::flow::Dir;
use crate::tcp::analysis::Finding;
use crate::tcp::state::TcpState;
use crate::ts::Ts;
use serde::Serialize;

/// One packet of a connection, as the packet list and ladder show it.
#[derive(Clone, Debug, Serialize)]
pub struct PacketRecord {
    pub frame: u64,
    pub ts: Ts,
    pub dir: Dir,
    #[serde(serialize_with = "ser_flags")]
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub window: u32,
    /// The window with the negotiated scale applied (None when the scale is unknown).
    pub window_scaled: Option<u64>,
    pub analysis: Vec<Finding>,
    /// The snapshot length cut this segment's option list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub options_truncated: bool,
    /// For a duplicate ACK: its number (#n).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dup_ack_num: Option<u32>,
    /// States of (client, server) after this packet.
    #[serde(skip)]
    pub states_after: (TcpState, TcpState),
}

fn ser_flags<S: serde::Serializer>(f: &TcpFlags, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(f)
}

/// A run of bytes never captured, in one direction.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct GapRecord {
    pub dir: Dir,
    /// Stream offset (relative sequence number) where the gap starts.
    pub rel_seq: u64,
    pub len: u64,
}

/// A packet record for other modules' unit tests (explanations, quiz).
#[cfg(test)]
pub(crate) fn test_record(
    dir: Dir,
    flags: u16,
    seq: u32,
    ack: u32,
    len: u32,
    after: (TcpState, TcpState),
) -> PacketRecord {
    PacketRecord {
        frame: 1,
        ts: Ts(0),
        dir,
        flags: TcpFlags(flags),
        seq,
        ack,
        len,
        window: 64240,
        window_scaled: Some(64240),
        analysis: Vec::new(),
        options_truncated: false,
        dup_ack_num: None,
        states_after: after,
    }
}

/// A three-way handshake as records (frames 1-3), for other modules' unit tests.
#[cfg(test)]
pub(crate) fn test_handshake() -> Vec<PacketRecord> {
    use TcpState::*;
    let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
    let mut v = vec![
        test_record(Dir::Client, TcpFlags::SYN, 0, 0, 0, (SynSent, Listen)),
        test_record(Dir::Server, syn_ack, 0, 1, 0, (Established, SynReceived)),
        test_record(
            Dir::Client,
            TcpFlags::ACK,
            1,
            1,
            0,
            (Established, Established),
        ),
    ];
    for (k, p) in v.iter_mut().enumerate() {
        p.frame = k as u64 + 1;
    }
    v
}

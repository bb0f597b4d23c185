//! The TCP engine: per-connection handshake, RFC 9293 endpoint states, reassembly and
//! analysis. Sans-IO: it is handed decoded segments with their frame number and
//! timestamp, and never touches pcap, the terminal or the clock.

pub mod reassembly;
pub mod seq;

use crate::decode::TcpSegment;
use crate::flow::Dir;
use crate::ts::Ts;

/// Per-connection engine state.
#[derive(Debug, Default)]
pub struct TcpConn {
    pub fin_seen: [bool; 2],
    pub rst_seen: bool,
}

impl TcpConn {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on_segment(&mut self, dir: Dir, seg: &TcpSegment<'_>, _frame: u64, _ts: Ts) {
        if seg.flags.fin() {
            self.fin_seen[dir.idx()] = true;
        }
        if seg.flags.rst() {
            self.rst_seen = true;
        }
    }

    /// A FIN or RST was seen: a new SYN on this tuple starts a new connection.
    pub fn is_closing(&self) -> bool {
        self.rst_seen || self.fin_seen.iter().any(|f| *f)
    }
}

//! What the engine hands on when a connection is finished: a small owned summary (the
//! handshake, both endpoints' state paths, Zeek's view, counts, measurements, gaps and,
//! with `--packets`, every packet record), so the engine's buffers can be dropped.

use super::analysis::Counts;
use super::handshake::Handshake;
use super::state::{self, TcpState};
use super::{Close, GapRecord, PacketRecord, Rtt, TcpConn};
use crate::flow::Dir;
use serde::Serialize;

/// Everything the engine learned about a finished connection: small and owned, so the
/// engine's buffers can be dropped.
#[derive(Clone, Debug, Serialize)]
pub struct TcpSummary {
    pub handshake: Handshake,
    pub states: States,
    pub final_states: FinalStates,
    pub conn_state: &'static str,
    pub history: String,
    pub close: Close,
    pub analysis: Counts,
    pub rtt: Rtt,
    pub max_bytes_in_flight: PerDirU64,
    pub last_window: PerDirOpt,
    pub throughput_bps: PerDirF64,
    pub gaps: Vec<GapRecord>,
    /// Every packet (with `--packets`); named so it does not clash with the per-direction
    /// `packets` counts.
    #[serde(rename = "packet_list", skip_serializing_if = "Option::is_none")]
    pub packets: Option<Vec<PacketRecord>>,
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_not_kept: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Serialize)]
pub struct States {
    pub client: Vec<state::Transition>,
    pub server: Vec<state::Transition>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct FinalStates {
    pub client: TcpState,
    pub server: TcpState,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PerDirU64 {
    pub client: u64,
    pub server: u64,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PerDirOpt {
    pub client: Option<u64>,
    pub server: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PerDirF64 {
    pub client: Option<f64>,
    pub server: Option<f64>,
}

impl TcpConn {
    /// Consume the engine into its summary.
    pub fn into_summary(self) -> TcpSummary {
        let conn_state = self.conn_state();
        let close = self.close();
        let c = Dir::Client;
        let s = Dir::Server;
        TcpSummary {
            states: States {
                client: self.transitions(c).into_owned(),
                server: self.transitions(s).into_owned(),
            },
            final_states: FinalStates {
                client: self.state(c),
                server: self.state(s),
            },
            conn_state,
            history: self.history.as_str().to_string(),
            close,
            max_bytes_in_flight: PerDirU64 {
                client: self.max_in_flight(c),
                server: self.max_in_flight(s),
            },
            last_window: PerDirOpt {
                client: self.last_window(c),
                server: self.last_window(s),
            },
            throughput_bps: PerDirF64 {
                client: self.throughput_bps(c),
                server: self.throughput_bps(s),
            },
            packets: self.cfg.keep_packets.then_some(self.packets),
            packets_not_kept: self.packets_dropped,
            handshake: self.handshake,
            analysis: self.counts.map(|c| *c).unwrap_or_default(),
            rtt: self.rtt,
            gaps: self.gaps,
        }
    }
}

//! The RFC 9293 connection states of one endpoint, as inferred from the capture point.
//!
//! See RFC 9293 §3.3.2 (<https://www.rfc-editor.org/rfc/rfc9293#section-3.3.2>).
//! A state changes only through [`EndpointState::set`], which records the old state, the
//! new one, the frame and time that caused it and whether it was seen or inferred.

use crate::ts::Ts;
use serde::Serialize;
use std::fmt;

/// RFC 9293 §3.3.2 connection states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    /// The RFC's name: "SYN-SENT", "TIME-WAIT".
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }

    /// The endpoint has sent its FIN (or is gone).
    pub fn fin_sent(self) -> bool {
        matches!(
            self,
            TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::Closing
                | TcpState::LastAck
                | TcpState::TimeWait
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TcpState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One state change of one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    #[serde(skip)]
    pub from: TcpState,
    /// The state entered.
    pub state: TcpState,
    pub frame: u64,
    pub ts: Ts,
    /// Deduced rather than shown by a packet (LISTEN before the first SYN; ESTABLISHED
    /// assumed when the capture began mid-connection).
    pub inferred: bool,
    /// The rule that fired, in a few words ("sent SYN", "received FIN").
    pub reason: &'static str,
    /// For a change caused by a segment that arrived earlier but took effect only now
    /// (a FIN received ahead of missing data is processed once every byte before it has
    /// arrived, RFC 9293 §3.10.7.4): the frame that carried it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fin_frame: Option<u64>,
}

/// An endpoint's current state and the path it took.
#[derive(Clone, Debug)]
pub struct EndpointState {
    state: TcpState,
    transitions: Vec<Transition>,
}

impl Default for EndpointState {
    fn default() -> Self {
        EndpointState {
            state: TcpState::Closed,
            transitions: Vec::new(),
        }
    }
}

impl EndpointState {
    pub fn state(&self) -> TcpState {
        self.state
    }

    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// Take back the last transition when a later segment proves it did not happen: the
    /// capture point saw the peer's FIN first, but this endpoint's own FIN (not
    /// acknowledging it) shows it had not received it yet. Returns whether it was undone.
    pub fn retract(&mut self, expected: TcpState) -> bool {
        if self.state != expected {
            return false;
        }
        let Some(t) = self.transitions.pop() else {
            return false;
        };
        self.state = t.from;
        true
    }

    /// The only way a state changes.
    pub fn set(
        &mut self,
        to: TcpState,
        frame: u64,
        ts: Ts,
        inferred: bool,
        reason: &'static str,
        fin_frame: Option<u64>,
    ) {
        if to == self.state && !self.transitions.is_empty() {
            return;
        }
        self.transitions.push(Transition {
            from: self.state,
            state: to,
            frame,
            ts,
            inferred,
            reason,
            fin_frame,
        });
        self.state = to;
    }
}

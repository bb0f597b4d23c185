//! The RFC 9293 connection states of one endpoint, as inferred from the capture point.
//!
//! See RFC 9293 §3.3.2 (<https://www.rfc-editor.org/rfc/rfc9293#section-3.3.2>).
//! A state changes only through [`EndpointState::set`], which records the old state, the
//! new one, the frame and time that caused it and whether it was seen or inferred.
//! Which state an [`Event`] leads to is [`next`]: a `match (state, event)` per group of
//! events (opening, closing, RST).

use crate::ts::Ts;
use serde::Serialize;
use std::fmt;
use std::num::NonZeroU64;

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
    pub reason: Reason,
    /// For a change caused by a segment that arrived earlier but took effect only now
    /// (a FIN received ahead of missing data is processed once every byte before it has
    /// arrived, RFC 9293 §3.10.7.4): the frame that carried it.
    /// (Frames count from 1: `NonZeroU64` keeps the field 8 bytes.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fin_frame: Option<NonZeroU64>,
}

/// A transition's rule: a thin pointer to one of [`next`]'s static sentences (8 bytes,
/// where a `&str` takes 16: a handshake-only connection keeps six transitions,
/// docs/memory.md).
pub type Reason = &'static &'static str;

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

    /// The only way a state changes.
    pub fn set(
        &mut self,
        to: TcpState,
        frame: u64,
        ts: Ts,
        inferred: bool,
        reason: Reason,
        fin_frame: Option<u64>,
    ) {
        if to == self.state && !self.transitions.is_empty() {
            return;
        }
        // An opening takes two changes for the client (SYN-SENT, ESTABLISHED), three for
        // the server (LISTEN, SYN-RECEIVED, ESTABLISHED): room for that, not Vec's four
        // (docs/memory.md).
        if self.transitions.capacity() == 0 {
            self.transitions
                .reserve_exact(if to == TcpState::SynSent { 2 } else { 3 });
        }
        self.transitions.push(Transition {
            from: self.state,
            state: to,
            frame,
            ts,
            inferred,
            reason,
            fin_frame: fin_frame.and_then(NonZeroU64::new),
        });
        self.state = to;
    }
}

/// What one segment means to one endpoint, as the engine derives it from the segment and
/// what it knows (which SYN or FIN an ACK covers, whether a FIN is in sequence, whether a
/// RST was accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The capture began mid-connection (no SYN in its first packet).
    CaptureMidConnection,
    /// It answered the peer's SYN, so it was listening for it.
    AnswersSyn,
    /// It sent a SYN: the first of the connection or not, while the peer is in SYN-SENT
    /// or not.
    SendSyn {
        first: bool,
        peer_opening: bool,
    },
    /// It received a SYN (without ACK).
    RecvSyn,
    SendSynAck,
    /// It received a SYN-ACK acknowledging its SYN.
    RecvSynAck,
    /// It received an ACK of its SYN.
    RecvAckOfSyn,
    /// It acknowledged the peer's SYN while thought to be in SYN-SENT.
    SendAckOfSyn,
    SendFin,
    /// It sent its FIN before the peer's FIN, seen first at the capture point, reached it.
    SendFinCrossed,
    /// It received the peer's FIN in sequence.
    RecvFin,
    /// It received the peer's FIN that crossed its own.
    RecvCrossedFin,
    /// It received an ACK of its FIN, on a FIN of the peer's or not.
    RecvAckOfFin {
        with_fin: bool,
    },
    SendRst,
    /// It received an accepted RST.
    RecvRst,
    /// It received an accepted RST from a peer in CLOSED (nothing listening).
    RefusedRst,
}

/// RFC 9293 §3.3.2 (figure 5) and §3.10.7: the state `event` leads to from `state`, and
/// the rule in a few words; `None`: no change. The opening and closing rules are in
/// [`opening`] and [`closing`]; a RST's, which hold in every state, are here.
pub fn next(state: TcpState, event: Event) -> Option<(TcpState, Reason)> {
    use Event::*;
    match event {
        CaptureMidConnection
        | AnswersSyn
        | SendSyn { .. }
        | RecvSyn
        | SendSynAck
        | RecvSynAck
        | RecvAckOfSyn
        | SendAckOfSyn => opening(state, event),
        SendFin | SendFinCrossed | RecvFin | RecvCrossedFin | RecvAckOfFin { .. } => {
            closing(state, event)
        }
        // §3.10.7.1 a port in CLOSED answers with RST: the open is refused.
        RefusedRst if state == TcpState::Closed => None,
        RefusedRst => Some((TcpState::Closed, &"received RST: connection refused")),
        // §3.10.7 RST in any state: the connection is aborted at both ends.
        SendRst => Some((TcpState::Closed, &"sent RST")),
        RecvRst => Some((TcpState::Closed, &"received RST")),
    }
}

/// [`next`] for the events of an opening (§3.10.1, §3.5, §3.10.7.2-4): SYNs, SYN-ACKs
/// and the ACKs of SYNs.
fn opening(state: TcpState, event: Event) -> Option<(TcpState, Reason)> {
    use Event::*;
    use TcpState::*;
    Some(match (state, event) {
        // Mid-connection capture: both ends assumed synchronized.
        (Closed, CaptureMidConnection) => (Established, &"capture began mid-connection"),
        // §3.10.1 passive OPEN: a server waits in LISTEN.
        (Closed, AnswersSyn) => (Listen, &"a server waits in LISTEN before the first SYN"),
        // §3.10.1 active OPEN: CLOSED --send SYN--> SYN-SENT.
        (Closed, SendSyn { first: true, .. }) => (SynSent, &"sent SYN (active open)"),
        // §3.10.7.1 a refused open retried with the same ISN.
        (Closed, SendSyn { first: false, .. }) => (
            SynSent,
            &"sent the same SYN again (same ISN): the refused attempt is retried",
        ),
        // §3.5 simultaneous open, seen from the second SYN's sender.
        (
            Listen,
            SendSyn {
                peer_opening: true, ..
            },
        ) => (SynSent, &"sent SYN (simultaneous open)"),
        // §3.5 simultaneous open: SYN-SENT --recv SYN--> SYN-RECEIVED.
        (SynSent, RecvSyn) => (
            SynReceived,
            &"received SYN while in SYN-SENT (simultaneous open)",
        ),
        // §3.10.7.2 LISTEN --recv SYN, send SYN,ACK--> SYN-RECEIVED.
        (Listen | Closed | SynSent, SendSynAck) => (SynReceived, &"sent SYN-ACK"),
        // §3.10.7.3 SYN-SENT --recv SYN,ACK--> ESTABLISHED.
        (SynSent | SynReceived, RecvSynAck) => (Established, &"received SYN-ACK for its SYN"),
        // §3.10.7.4 SYN-RECEIVED --recv ACK of SYN--> ESTABLISHED.
        (SynReceived, RecvAckOfSyn) => (Established, &"its SYN was acknowledged"),
        // §3.10.7.3 its ACK of the peer's SYN: the SYN-ACK was not captured.
        (SynSent, SendAckOfSyn) => (
            Established,
            &"acknowledged the peer's SYN (SYN-ACK not captured)",
        ),
        // Anything else leaves the state as it is (retransmissions, duplicates).
        _ => return None,
    })
}

/// [`next`] for the events of a close (§3.10.4, §3.10.7.4): FINs and the ACKs of FINs.
fn closing(state: TcpState, event: Event) -> Option<(TcpState, Reason)> {
    use Event::*;
    use TcpState::*;
    Some(match (state, event) {
        // §3.10.4 CLOSE in ESTABLISHED: send FIN --> FIN-WAIT-1.
        (Established | SynReceived | SynSent, SendFin) => (FinWait1, &"sent FIN (active close)"),
        // §3.10.4 CLOSE in CLOSE-WAIT: send FIN --> LAST-ACK.
        (CloseWait, SendFin) => (LastAck, &"sent FIN after the peer's (passive close)"),
        // §3.10.4 CLOSE before the peer's FIN arrived: FIN-WAIT-1.
        (Established | SynReceived, SendFinCrossed) => (
            FinWait1,
            &"sent FIN before the peer's FIN arrived (the FINs crossed)",
        ),
        // §3.10.7.4 eighth step: ESTABLISHED --recv FIN--> CLOSE-WAIT.
        (Established | SynReceived, RecvFin) => (CloseWait, &"received FIN"),
        // §3.10.7.4 eighth step: FIN-WAIT-1 --recv FIN--> CLOSING.
        (FinWait1, RecvFin) => (
            Closing,
            &"received FIN before its FIN was acknowledged (simultaneous close)",
        ),
        // §3.10.7.4 eighth step: FIN-WAIT-1 --recv crossed FIN--> CLOSING.
        (FinWait1, RecvCrossedFin) => (
            Closing,
            &"received the peer's FIN, its own not yet acknowledged (simultaneous close)",
        ),
        // §3.10.7.4 eighth step: FIN-WAIT-2 --recv FIN--> TIME-WAIT.
        (FinWait2, RecvFin) => (TimeWait, &"received FIN"),
        // §3.10.7.4 fifth and eighth steps: FIN-WAIT-1 --recv FIN,ACK--> TIME-WAIT.
        (FinWait1, RecvAckOfFin { with_fin: true }) => (TimeWait, &"received FIN+ACK of its FIN"),
        // §3.10.7.4 fifth step: FIN-WAIT-1 --recv ACK of FIN--> FIN-WAIT-2.
        (FinWait1, RecvAckOfFin { .. }) => (FinWait2, &"its FIN was acknowledged"),
        // §3.10.7.4 fifth step: CLOSING --recv ACK of FIN--> TIME-WAIT.
        (Closing, RecvAckOfFin { .. }) => {
            (TimeWait, &"its FIN was acknowledged (simultaneous close)")
        }
        // §3.10.7.4 fifth step: LAST-ACK --recv ACK of FIN--> CLOSED.
        (LastAck, RecvAckOfFin { .. }) => (Closed, &"its FIN was acknowledged"),
        // Anything else leaves the state as it is (retransmissions, duplicates).
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::TcpState::*;
    use super::*;

    fn to(s: TcpState, e: Event) -> Option<TcpState> {
        next(s, e).map(|(t, _)| t)
    }

    #[test]
    fn opening() {
        assert_eq!(to(Closed, CaptureMidConnection), Some(Established));
        assert_eq!(to(Closed, AnswersSyn), Some(Listen));
        let first = SendSyn {
            first: true,
            peer_opening: false,
        };
        assert_eq!(
            next(Closed, first),
            Some((SynSent, &"sent SYN (active open)"))
        );
        let again = SendSyn {
            first: false,
            peer_opening: false,
        };
        assert!(next(Closed, again).unwrap().1.contains("again"));
        assert_eq!(to(Listen, first), None);
        let crossing = SendSyn {
            first: true,
            peer_opening: true,
        };
        assert_eq!(to(Listen, crossing), Some(SynSent));
        assert_eq!(
            to(SynSent, first),
            None,
            "a retransmitted SYN changes nothing"
        );
        assert_eq!(to(SynSent, RecvSyn), Some(SynReceived));
        assert_eq!(to(Listen, RecvSyn), None);
        for s in [Listen, Closed, SynSent] {
            assert_eq!(to(s, SendSynAck), Some(SynReceived));
        }
        assert_eq!(to(Established, SendSynAck), None);
        for s in [SynSent, SynReceived] {
            assert_eq!(to(s, RecvSynAck), Some(Established));
        }
        assert_eq!(to(SynReceived, RecvAckOfSyn), Some(Established));
        assert_eq!(to(Established, RecvAckOfSyn), None);
        assert_eq!(to(SynSent, SendAckOfSyn), Some(Established));
        assert_eq!(to(SynReceived, SendAckOfSyn), None);
    }

    #[test]
    fn closing() {
        for s in [Established, SynReceived, SynSent] {
            assert_eq!(to(s, SendFin), Some(FinWait1));
        }
        assert_eq!(to(CloseWait, SendFin), Some(LastAck));
        assert_eq!(to(Closing, SendFin), None);
        assert_eq!(to(Established, SendFinCrossed), Some(FinWait1));
        assert_eq!(to(CloseWait, SendFinCrossed), None);
        assert_eq!(to(Established, RecvFin), Some(CloseWait));
        assert_eq!(to(SynReceived, RecvFin), Some(CloseWait));
        assert_eq!(to(FinWait1, RecvFin), Some(Closing));
        assert_eq!(to(FinWait2, RecvFin), Some(TimeWait));
        assert_eq!(to(TimeWait, RecvFin), None);
        assert_eq!(to(FinWait1, RecvCrossedFin), Some(Closing));
        assert_eq!(to(Established, RecvCrossedFin), None);
        let ack = RecvAckOfFin { with_fin: false };
        let fin_ack = RecvAckOfFin { with_fin: true };
        assert_eq!(to(FinWait1, fin_ack), Some(TimeWait));
        assert_eq!(to(FinWait1, ack), Some(FinWait2));
        assert_eq!(to(Closing, ack), Some(TimeWait));
        assert_eq!(to(LastAck, ack), Some(Closed));
        assert_eq!(to(Established, ack), None);
    }

    #[test]
    fn reset() {
        for s in TcpState::ALL {
            assert_eq!(to(s, SendRst), Some(Closed));
            assert_eq!(to(s, RecvRst), Some(Closed));
        }
        assert_eq!(to(Closed, RefusedRst), None);
        assert_eq!(
            next(SynSent, RefusedRst),
            Some((Closed, &"received RST: connection refused"))
        );
    }
}

#[cfg(test)]
mod size {
    /// Six of these per handshake-only connection (docs/memory.md): was 56 bytes.
    #[test]
    fn a_transition_takes_40_bytes() {
        assert_eq!(size_of::<super::Transition>(), 40);
    }
}

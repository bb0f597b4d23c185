//! Is a RST acceptable? RFC 9293 §3.10.7 with RFC 5961 §3.2's refinement: in SYN-SENT a
//! RST counts when it acknowledges the SYN; otherwise when its sequence number is exactly
//! the receiver's next expected one. One inside the window but not exact gets a
//! challenge ACK from a modern stack (older ones accept it: counted as closing, and
//! flagged); one outside the window is ignored. A RST signed with TCP-MD5 (RFC 2385) is
//! dropped by a receiver that cannot verify it.

use super::analysis::{Finding, Side};
use super::seq::SeqNum;
use super::state::TcpState;

/// What the receiver of a RST is known to be and to expect.
#[derive(Clone, Copy, Debug)]
pub struct Receiver {
    pub state: TcpState,
    /// The receiver's own numbers: its last ACK, window and base (its ISN).
    pub side: Side,
    /// Its receive window in bytes (scaled when known; 65535 when never seen).
    pub window_bytes: u64,
}

/// The RST's verdict: accepted (closes the connection), and what to flag.
pub fn judge(
    rcv: &Receiver,
    sender: &Side,
    seq: SeqNum,
    ack: Option<SeqNum>,
    md5: bool,
) -> (bool, Option<Finding>) {
    let (accepted, finding) = if rcv.state == TcpState::SynSent {
        // In SYN-SENT a RST is acceptable if it acknowledges the SYN.
        let ok = ack.is_none_or(|a| rcv.side.base.is_none_or(|b| a == b.add(1)));
        (ok, None)
    } else {
        in_window(rcv, sender, seq)
    };
    (accepted && !md5, finding)
}

/// RFC 5961 §3.2 for a synchronized receiver.
fn in_window(rcv: &Receiver, sender: &Side, seq: SeqNum) -> (bool, Option<Finding>) {
    // The receiver's RCV.NXT is its last ACK, or, when its ACK lags (a FIN it has not
    // acknowledged yet), everything the sender was seen to send.
    let Some(n) = rcv.side.last_ack.or(sender.next_seq) else {
        return (true, None);
    };
    if seq == n || Some(seq) == sender.next_seq {
        return (true, None);
    }
    let off = seq.diff(n);
    if off >= 0 && (off as u64) < rcv.window_bytes.max(1) {
        let f = Finding::RstInWindow {
            seq: sender.rel(seq),
            expected: sender.rel(n),
        };
        (true, Some(f))
    } else {
        let f = Finding::RstOutOfWindow {
            seq: sender.rel(seq),
            window_start: sender.rel(n),
        };
        (false, Some(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcv(state: TcpState, last_ack: Option<u32>) -> Receiver {
        Receiver {
            state,
            side: Side {
                base: Some(SeqNum(1000)),
                last_ack: last_ack.map(SeqNum),
                ..Side::default()
            },
            window_bytes: 1000,
        }
    }

    fn sender() -> Side {
        Side {
            base: Some(SeqNum(5000)),
            next_seq: Some(SeqNum(5101)),
            ..Side::default()
        }
    }

    #[test]
    fn syn_sent_accepts_a_rst_that_acknowledges_the_syn() {
        let r = rcv(TcpState::SynSent, None);
        assert_eq!(
            judge(&r, &sender(), SeqNum(0), Some(SeqNum(1001)), false),
            (true, None)
        );
        assert_eq!(
            judge(&r, &sender(), SeqNum(0), Some(SeqNum(77)), false),
            (false, None)
        );
    }

    #[test]
    fn exact_in_window_and_out_of_window() {
        let r = rcv(TcpState::Established, Some(5101));
        assert_eq!(
            judge(&r, &sender(), SeqNum(5101), None, false),
            (true, None)
        );
        let (ok, f) = judge(&r, &sender(), SeqNum(5201), None, false);
        assert!(ok);
        assert_eq!(
            f,
            Some(Finding::RstInWindow {
                seq: 201,
                expected: 101
            })
        );
        let (ok, f) = judge(&r, &sender(), SeqNum(9000), None, false);
        assert!(!ok);
        assert_eq!(
            f,
            Some(Finding::RstOutOfWindow {
                seq: 4000,
                window_start: 101
            })
        );
    }

    #[test]
    fn an_md5_signed_rst_is_dropped() {
        let r = rcv(TcpState::Established, Some(5101));
        assert_eq!(
            judge(&r, &sender(), SeqNum(5101), None, true),
            (false, None)
        );
    }
}

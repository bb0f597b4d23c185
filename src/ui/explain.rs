//! Plain-language explanations of one packet for the TUI: what it does, the arithmetic
//! behind its relative sequence and acknowledgement numbers, the state changes it caused
//! and why each analysis flag fired.
//!
//! The text is built by the shared explain layer (`crate::explain`), which the reports
//! (`tcpscope explain`, `diagram`, `quiz`) use too: one explain layer, two front ends.

pub use crate::explain::{arrow_label, explain_packet, flag_marker, states_before};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use crate::flow::Dir;
    use crate::tcp::state::TcpState;

    use crate::tcp::test_record as rec;

    #[test]
    fn syn_ack_arithmetic() {
        let p = crate::tcp::test_handshake();
        let t = explain_packet(&p, 1).join("\n");
        assert!(
            t.contains("ACK 1 = client ISN + 1: a SYN counts as one byte"),
            "{t}"
        );
        assert!(t.contains("client state: SYN-SENT → ESTABLISHED"), "{t}");
        let t = explain_packet(&p, 2).join("\n");
        assert!(t.contains("ACK 1 = server ISN + 1"), "{t}");
        assert!(t.contains("completes the three-way handshake"), "{t}");
        assert!(
            t.contains("server state: SYN-RECEIVED → ESTABLISHED"),
            "{t}"
        );
    }

    #[test]
    fn fin_ack_arithmetic() {
        use TcpState::*;
        let p = vec![
            rec(
                Dir::Client,
                TcpFlags::FIN | TcpFlags::ACK,
                79,
                306,
                0,
                (FinWait1, CloseWait),
            ),
            rec(
                Dir::Server,
                TcpFlags::FIN | TcpFlags::ACK,
                306,
                80,
                0,
                (TimeWait, LastAck),
            ),
        ];
        let t = explain_packet(&p, 1).join("\n");
        assert!(
            t.contains("ACK 80 = the client's FIN seq 79 + 0 data bytes + 1"),
            "{t}"
        );
        assert!(
            t.contains("server will acknowledge") || t.contains("client will acknowledge 307"),
            "{t}"
        );
    }

    #[test]
    fn data_segment() {
        use TcpState::*;
        let p = vec![rec(
            Dir::Client,
            TcpFlags::ACK | TcpFlags::PSH,
            1,
            1,
            78,
            (Established, Established),
        )];
        let t = explain_packet(&p, 0).join("\n");
        assert!(t.contains("Carries 78 data bytes, seq 1..78"), "{t}");
        assert!(t.contains("1 + 78 = 79"), "{t}");
    }
}

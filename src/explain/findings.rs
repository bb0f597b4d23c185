//! What each analysis rule compared, in words: the `why` of a [`Finding`]. The engine
//! records typed findings with their values; the sentences exist only here, built when
//! a report, the TUI or `explain` asks for them.

use crate::decode::TcpFlags;
use crate::tcp::analysis::Finding;
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The rule that fired and the numbers it compared, as a sentence fragment.
pub fn why(f: &Finding) -> String {
    match *f {
        Finding::Retransmission {
            seq,
            expected,
            tsval_later,
        } => {
            let mut s =
                format!("seq {seq} < next expected {expected}: these bytes were sent before");
            if tsval_later {
                s.push_str(
                    "; its TSval is newer than the highest segment's, so it was sent later: a retransmission, not reordering (Wireshark would call it out-of-order)",
                );
            }
            s
        }
        Finding::FastRetransmission { seq, dup_acks } => format!(
            "seq {seq} resent within 20 ms of the peer's duplicate ACK #{dup_acks} asking for it"
        ),
        Finding::SpuriousRetransmission { seq, end, acked } => format!(
            "seq {seq}..{end} was already acknowledged by the peer (ACK {acked}): resent needlessly"
        ),
        Finding::OutOfOrder {
            seq,
            expected,
            since_ms,
            threshold_ms,
        } => format!(
            "seq {seq} < next expected {expected}, {since_ms:.3} ms after the highest segment (under the {threshold_ms:.3} ms threshold): reordered, not resent"
        ),
        Finding::DuplicateAck { ack, n } => format!(
            "no data, same ACK {ack} and window as the previous segment: duplicate ACK #{n}"
        ),
        Finding::ZeroWindow => "window 0: the sender's receive buffer is full".to_string(),
        Finding::ZeroWindowProbe { seq } => {
            format!("1 byte at the next expected seq {seq} while the peer advertises a zero window")
        }
        Finding::ZeroWindowProbeAck => {
            "answers the peer's zero-window probe; the window is still 0".to_string()
        }
        Finding::WindowFull { window } => {
            format!("this segment fills the peer's advertised window of {window} bytes")
        }
        Finding::WindowUpdate { from, to } => {
            format!("no data, same ACK, window changed from {from} to {to}")
        }
        Finding::KeepAlive { seq, expected } => {
            format!("seq {seq} = next expected {expected} - 1 with at most one byte: a keep-alive")
        }
        Finding::KeepAliveAck => "answers the peer's keep-alive with the same ACK".to_string(),
        Finding::LostSegment {
            seq,
            expected,
            missing,
        } => format!(
            "seq {seq} > next expected {expected}: {missing} bytes before it were not captured"
        ),
        Finding::AckUnseen { ack, highest } => format!(
            "ACK {ack} > highest seq seen from the peer {highest}: it acknowledges data that was not captured"
        ),
        Finding::OverlapConflict => {
            "bytes overlapping an earlier copy differ from it; the first copy is kept".to_string()
        }
        Finding::AfterClose { reset } => if reset {
            "the connection was already reset"
        } else {
            "both FINs were already acknowledged"
        }
        .to_string(),
        Finding::ImpossibleFlags { flags } => format!(
            "flags [{}] never occur together in a valid segment",
            TcpFlags(flags)
        ),
        Finding::RstInWindow { seq, expected } => format!(
            "RST seq {seq} is inside the window but not the next expected {expected}: RFC 5961 receivers answer with a challenge ACK"
        ),
        Finding::RstOutOfWindow { seq, window_start } => format!(
            "RST seq {seq} is outside the receive window starting at {window_start}: ignored"
        ),
        Finding::BadWindowScale { scale } => {
            format!("window scale {scale} > 14; RFC 7323 says to use 14")
        }
        Finding::SynData { bytes } => {
            format!("{bytes} bytes of data ride on the SYN (TCP Fast Open)")
        }
        Finding::BufferCapHit { cap } => {
            format!("more than {cap} out-of-order bytes buffered: a gap was declared")
        }
    }
}

/// A finding in a report: `{"flag": "retransmission", "why": "..."}` (docs/json.md).
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 2)?;
        st.serialize_field("flag", &self.flag())?;
        st.serialize_field("why", &why(self))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_serializes_as_flag_and_why() {
        let f = Finding::LostSegment {
            seq: 2001,
            expected: 1001,
            missing: 1000,
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"flag":"lost_segment","why":"seq 2001 > next expected 1001: 1000 bytes before it were not captured"}"#
        );
        assert_eq!(
            why(&Finding::ImpossibleFlags { flags: 0x003 }),
            "flags [SYN, FIN] never occur together in a valid segment"
        );
    }
}

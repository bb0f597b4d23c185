//! What each analysis rule compared, in words: the `why` of a [`Finding`]. The engine
//! records typed findings with their values; the sentences exist only here, built when
//! a report, the TUI or `explain` asks for them.

use super::http::ordinal;
use crate::decode::TcpFlags;
use crate::tcp::analysis::{Chain, Finding, Sack, Trigger};
use crate::ts::human_duration;
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The rule that fired and the numbers it compared, as a sentence fragment.
pub fn why(f: &Finding) -> String {
    loss(f).unwrap_or_else(|| other(f))
}

/// The retransmission family and duplicate ACKs: the loss story.
fn loss(f: &Finding) -> Option<String> {
    Some(match *f {
        Finding::Retransmission {
            seq,
            expected,
            tsval_later,
            chain,
        } => {
            let mut s = resend(seq, expected, &chain);
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
        Finding::DuplicateAck {
            ack,
            n,
            of_frame,
            sack,
        } => {
            let mut s =
                format!("dup ACK #{n} of frame {of_frame}: no data, same ACK {ack} and window");
            s.push_str(&sack_story(ack, &sack));
            s
        }
        Finding::ZeroWindowProbe {
            seq,
            window_frame,
            empty,
        } => {
            let what = if empty {
                format!(
                    "an empty segment at seq {seq}, one below the next byte, so the receiver must answer with its window (Wireshark calls it a keep-alive)"
                )
            } else {
                format!("1 byte at the next expected seq {seq}")
            };
            format!(
                "probes the receiver's zero window (advertised at frame {window_frame}): {what}"
            )
        }
        _ => return None,
    })
}

/// A resend: what it repeats, the next new byte, the original and the trigger.
fn resend(seq: u32, expected: u32, c: &Chain) -> String {
    let ago = |ms: f64| human_duration((ms * 1e6).round() as i64);
    let mut s = if c.syn {
        let nth = match c.resend {
            0 | 1 => String::new(),
            n => format!("{} ", ordinal(n as usize)),
        };
        format!(
            "the {nth}SYN retransmission: no SYN-ACK came, so the same SYN (same ISN) went again after a timeout"
        )
    } else {
        format!(
            "seq {seq} < next new byte {expected} (the highest sent so far): these bytes were sent before"
        )
    };
    if let (Some(f), Some(ms), false) = (c.original_frame, c.since_original_ms, c.syn) {
        s.push_str(&format!(", first in frame {f} ({} earlier)", ago(ms)));
    }
    match c.trigger {
        Trigger::Rto { ms } => {
            let prev = c.previous_frame.or(c.original_frame).unwrap_or(0);
            let lead = if c.syn { ":" } else { "; after a timeout:" };
            s.push_str(&format!("{lead} RTO {} after frame {prev}", ago(ms)));
            if let (Some(o), Some(total)) = (c.original_frame.filter(|&o| o != prev), c.since_original_ms) {
                s.push_str(&format!(" ({} after the first send, frame {o})", ago(total)));
            }
            if ms < 200.0 && !c.syn {
                s.push_str(
                    ": shorter than Linux's 200 ms minimum RTO, so likely a tail-loss probe (RFC 8985), a timer too",
                );
            }
            if let Some(w) = c.previous_wait_ms {
                let doubled = (1.8..=2.2).contains(&(ms / w));
                s.push_str(&format!(
                    "; the wait before was {}: {}",
                    ago(w),
                    if doubled { "the timer doubled (back-off)" } else { "RFC 6298 doubles the timer on each timeout; this one did not" }
                ));
            }
        }
        Trigger::FastRetransmit { dup_ack_frame, dup_acks } => s.push_str(&format!(
            "; a fast retransmit, triggered by the {} duplicate ACK (frame {dup_ack_frame})",
            ordinal(dup_acks.max(0) as usize)
        )),
        Trigger::Sack { ack_frame, hole, has } => s.push_str(&format!(
            "; a SACK hole: the ACK of frame {ack_frame} shows the receiver has {}–{} but not {}–{}",
            has.0, has.1, hole.0, hole.1
        )),
        Trigger::SynDataNotAcked { syn_ack_frame } => s.push_str(&format!(
            "; they rode on the SYN (TCP Fast Open), but the SYN-ACK (frame {syn_ack_frame}) acknowledged only the SYN: the server did not take them (no valid Fast Open cookie, or Fast Open off at the server), so the client sends them again"
        )),
        Trigger::Unknown if c.linked && c.original_frame.is_none() => {
            s.push_str("; its first send was not captured, so neither it nor the trigger is known")
        }
        Trigger::Unknown if c.linked => s.push_str(
            "; resent right after a segment from the peer that is neither a third duplicate ACK nor shows a SACK hole: the capture does not tell why",
        ),
        Trigger::Unknown => {}
    }
    s
}

/// A duplicate ACK's SACK blocks in words: what the receiver has and what it lacks.
fn sack_story(ack: u32, sack: &Sack) -> String {
    if sack.blocks().is_empty() {
        return String::new();
    }
    let range = |&(l, r): &(u32, u32)| format!("{l}–{r}");
    let has: Vec<String> = sack.blocks().iter().map(range).collect();
    let lacks: Vec<String> = sack.holes(ack).iter().map(range).collect();
    format!(
        "; SACK {}: the receiver has {} but not {}",
        has.join(", "),
        has.join(" and "),
        lacks.join(" and ")
    )
}

/// Every other finding.
fn other(f: &Finding) -> String {
    match *f {
        Finding::ZeroWindow => "window 0: the sender's receive buffer is full".to_string(),
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
        // Said by `loss`.
        Finding::Retransmission { .. }
        | Finding::FastRetransmission { .. }
        | Finding::SpuriousRetransmission { .. }
        | Finding::OutOfOrder { .. }
        | Finding::DuplicateAck { .. }
        | Finding::ZeroWindowProbe { .. } => String::new(),
    }
}

/// A finding in a report: `{"flag": "retransmission", "why": "..."}` and, for the loss
/// story, the facts behind the sentence (docs/json.md): a resend's `original_frame`,
/// `since_original_ms`, `previous_frame`, `resend`, `trigger`, `trigger_frame`, `rto_ms`,
/// `sack_hole`, `next_new_seq`; a duplicate ACK's `dup_ack_of`, `dup_ack_count`, `sack`; a
/// zero-window probe's `zero_window_frame`.
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 2)?;
        st.serialize_field("flag", &self.flag())?;
        st.serialize_field("why", &why(self))?;
        match *self {
            Finding::Retransmission {
                expected, chain, ..
            } if chain.linked => {
                st.serialize_field("next_new_seq", &expected)?;
                chain_fields(&chain, &mut st)?;
            }
            Finding::DuplicateAck {
                n, of_frame, sack, ..
            } => {
                st.serialize_field("dup_ack_of", &of_frame)?;
                st.serialize_field("dup_ack_count", &n)?;
                let blocks: Vec<[u32; 2]> = sack.blocks().iter().map(|&(l, r)| [l, r]).collect();
                st.serialize_field("sack", &blocks)?;
            }
            Finding::ZeroWindowProbe { window_frame, .. } => {
                st.serialize_field("zero_window_frame", &window_frame)?;
            }
            _ => {}
        }
        st.end()
    }
}

/// A resend's chain as JSON fields.
fn chain_fields<S: SerializeStruct>(c: &Chain, st: &mut S) -> Result<(), S::Error> {
    st.serialize_field("original_frame", &c.original_frame)?;
    st.serialize_field("since_original_ms", &c.since_original_ms)?;
    if let Some(p) = c.previous_frame {
        st.serialize_field("previous_frame", &p)?;
    }
    st.serialize_field("resend", &c.resend)?;
    st.serialize_field("trigger", c.trigger.name())?;
    match c.trigger {
        Trigger::Rto { ms } => st.serialize_field("rto_ms", &ms)?,
        Trigger::FastRetransmit { dup_ack_frame, .. } => {
            st.serialize_field("trigger_frame", &dup_ack_frame)?
        }
        Trigger::Sack {
            ack_frame, hole, ..
        } => {
            st.serialize_field("trigger_frame", &ack_frame)?;
            st.serialize_field("sack_hole", &[hole.0, hole.1])?;
        }
        Trigger::SynDataNotAcked { syn_ack_frame } => {
            st.serialize_field("trigger_frame", &syn_ack_frame)?
        }
        Trigger::Unknown => {}
    }
    Ok(())
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

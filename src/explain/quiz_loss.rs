//! The quiz's loss questions, asked where a capture has loss: before a resend, which seq
//! it carries (or, before a fast retransmit, how many duplicate ACKs came first); before
//! the receiver's first ACK after a resend, what it acknowledges. Every answer comes from
//! the model: the packet's own numbers and its finding's chain.

use super::quiz::{Verdict, parse_number};
use super::{ConnFacts, Said, Topic};
use crate::tcp::PacketRecord;
use crate::tcp::analysis::{Finding, Trigger};

/// What a loss question asks about packet `i`.
enum Subject {
    /// A resend: which seq does it carry?
    Seq,
    /// A fast retransmit: after how many duplicate ACKs?
    DupAcks(i32),
    /// The receiver's first ACK after the resend at position `k`: which ACK number?
    AckAfter(usize),
}

/// The resend finding of a packet, if it is one.
fn resend(p: &PacketRecord) -> Option<&Finding> {
    p.analysis
        .iter()
        .find(|x| matches!(x, Finding::Retransmission { .. }))
}

fn subject(pkts: &[PacketRecord], i: usize) -> Option<Subject> {
    let p = pkts.get(i)?;
    if let Some(Finding::Retransmission { chain, .. }) = resend(p) {
        if p.flags.syn() {
            return None;
        }
        return Some(match chain.trigger {
            Trigger::FastRetransmit { dup_acks, .. } => Subject::DupAcks(dup_acks),
            _ => Subject::Seq,
        });
    }
    ack_after_resend(pkts, i).map(Subject::AckAfter)
}

/// When packet `i` is the receiver's first ACK after a data resend (with nothing from
/// the receiver in between), the resend's position.
pub(super) fn ack_after_resend(pkts: &[PacketRecord], i: usize) -> Option<usize> {
    let p = pkts.get(i)?;
    if !p.flags.ack() || p.flags.syn() || resend(p).is_some() {
        return None;
    }
    let k = pkts[..i]
        .iter()
        .rposition(|q| q.dir == p.dir.other() && q.len > 0 && resend(q).is_some())?;
    let answered = pkts[k + 1..i].iter().any(|q| q.dir == p.dir);
    (!answered).then_some(k)
}

/// The prompt of the loss question about packet `i`, if it has one.
pub(super) fn prompt(pkts: &[PacketRecord], i: usize) -> Option<String> {
    let p = &pkts[i];
    let (who, peer) = (p.dir.name(), p.dir.other().name());
    Some(match subject(pkts, i)? {
        Subject::Seq => format!(
            "Loss: the {who} is about to resend bytes the {peer} is missing (frame {}). Which (relative) seq is resent next?",
            p.frame
        ),
        Subject::DupAcks(_) => format!(
            "Loss: the {who} is about to fast-retransmit (frame {}). How many duplicate ACKs from the {peer} came before it?",
            p.frame
        ),
        Subject::AckAfter(k) => format!(
            "Loss: the {who} answers the resend of frame {}. What (relative) ACK number follows the retransmission?",
            pkts[k].frame
        ),
    })
}

/// Check the answer to the loss question about packet `i`; `all` is what explain says
/// about that packet.
pub(super) fn check(cf: &ConnFacts<'_>, i: usize, answer: &str, all: &[Said]) -> Verdict {
    let p = &cf.packets[i];
    let got = parse_number(answer);
    let pick = |t: Topic| {
        all.iter()
            .filter(move |s| s.topic == t)
            .map(|s| s.text.clone())
    };
    let (want, mut explanation): (u32, Vec<String>) = match subject(cf.packets, i) {
        Some(Subject::DupAcks(n)) => (n.max(0) as u32, pick(Topic::Finding).collect()),
        Some(Subject::Seq) => (
            p.seq,
            pick(Topic::Finding).chain(pick(Topic::Data)).collect(),
        ),
        Some(Subject::AckAfter(k)) => {
            let r = &cf.packets[k];
            let mut v: Vec<String> = pick(Topic::Ack).collect();
            let end = r.seq.wrapping_add(r.len);
            if p.ack != end {
                v.push(format!(
                    "The resend of frame {} ended at seq {end}; the ACK is {}: the {} {}.",
                    r.frame,
                    p.ack,
                    p.dir.name(),
                    if p.ack.wrapping_sub(end) as i32 > 0 {
                        "already held the bytes after the hole, so one ACK covers them all"
                    } else {
                        "is still missing bytes before the resend's end"
                    }
                ));
            }
            (p.ack, v)
        }
        None => (0, Vec::new()),
    };
    if explanation.is_empty() {
        explanation.push("Not a loss question.".to_string());
    }
    Verdict {
        correct: got == Some(want),
        unparsed: got.is_none(),
        expected: want.to_string(),
        explanation,
    }
}

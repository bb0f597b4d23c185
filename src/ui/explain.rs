//! Plain-language explanations of one packet: what it does, the arithmetic behind its
//! relative sequence and acknowledgement numbers, the state changes it caused and why
//! each analysis flag fired.
//!
//! Pure functions over the engine's `PacketRecord`s (no terminal types), so they can move
//! to a shared `explain` module for the reports later.

use crate::flow::Dir;
use crate::tcp::PacketRecord;
use crate::tcp::state::TcpState;

fn side(d: Dir) -> &'static str {
    match d {
        Dir::Client => "client",
        Dir::Server => "server",
    }
}

/// States of (client, server) before packet `i`.
pub fn states_before(pkts: &[PacketRecord], i: usize) -> (TcpState, TcpState) {
    if i == 0 {
        (TcpState::Closed, TcpState::Closed)
    } else {
        pkts[i - 1].states_after
    }
}

/// Explain packet `i` of a connection's packet list. Every line is a sentence.
pub fn explain_packet(pkts: &[PacketRecord], i: usize) -> Vec<String> {
    let Some(p) = pkts.get(i) else {
        return Vec::new();
    };
    let me = side(p.dir);
    let peer = side(p.dir.other());
    let f = p.flags;
    let mut out = Vec::new();
    let seglen = p.len + u32::from(f.syn()) + u32::from(f.fin());
    // The peer's most recent SYN / FIN before this packet, for the ACK arithmetic.
    let peer_syn = pkts[..i]
        .iter()
        .rev()
        .find(|q| q.dir != p.dir && q.flags.syn());
    let peer_fin = pkts[..i]
        .iter()
        .rev()
        .find(|q| q.dir != p.dir && q.flags.fin());

    // What the packet does.
    if f.rst() {
        out.push(format!(
            "RST from the {me}: abort the connection at once; no FIN exchange, unsent and unacknowledged data is discarded."
        ));
    } else if f.syn() && !f.ack() {
        out.push(format!(
            "SYN from the {me}: asks to open a connection. Seq {} is relative: 0 stands for the {me}'s initial sequence number (ISN), shown raw in the header tree.",
            p.seq
        ));
        out.push(
            "A SYN counts as one byte of sequence space, so the first data byte will be seq 1."
                .to_string(),
        );
    } else if f.syn() && f.ack() {
        out.push(format!(
            "SYN-ACK from the {me}: accepts the {peer}'s SYN and sends its own ISN (relative seq {}).",
            p.seq
        ));
    }
    if f.ack() && !f.rst() {
        if p.ack == 1 && peer_syn.is_some() && peer_fin.is_none() {
            out.push(format!(
                "ACK 1 = {peer} ISN + 1: a SYN counts as one byte, so acknowledging the SYN means expecting byte 1 next."
            ));
            if !f.syn() && peer_syn.is_some_and(|s| s.flags.ack()) && p.len == 0 {
                out.push(format!(
                    "This ACK of the {peer}'s SYN-ACK completes the three-way handshake."
                ));
            }
        } else if let Some(fin) = peer_fin
            && p.ack == fin.seq.wrapping_add(fin.len).wrapping_add(1)
        {
            out.push(format!(
                "ACK {} = the {peer}'s FIN seq {} + {} data bytes + 1: a FIN counts as one byte, so this acknowledges the FIN.",
                p.ack, fin.seq, fin.len
            ));
        } else {
            out.push(format!(
                "ACK {}: the {me} has received every {peer} byte before {} and expects byte {} next.",
                p.ack, p.ack, p.ack
            ));
        }
    }
    if p.len > 0 {
        let last = p.seq.wrapping_add(p.len).wrapping_sub(1);
        out.push(format!(
            "Carries {} data bytes, seq {}..{}; the {me}'s next new byte is seq {} + {} = {}.",
            p.len,
            p.seq,
            last,
            p.seq,
            p.len,
            p.seq.wrapping_add(p.len)
        ));
    } else if !f.syn() && !f.fin() && !f.rst() {
        out.push("No data: a pure acknowledgement (it does not use sequence space).".to_string());
    }
    if f.fin() {
        out.push(format!(
            "FIN: the {me} has no more data to send. A FIN counts as one byte (seq {}), so the {peer} will acknowledge {}.",
            p.seq.wrapping_add(p.len),
            p.seq.wrapping_add(seglen)
        ));
    }
    if f.psh() && p.len > 0 {
        out.push("PSH: deliver the data to the application without waiting.".to_string());
    }
    if !f.rst() {
        match p.window_scaled {
            Some(w) if w != u64::from(p.window) => out.push(format!(
                "Window {} × scale {} = {} bytes: how much more the {me} can receive.",
                p.window,
                w / u64::from(p.window.max(1)),
                w
            )),
            Some(w) => out.push(format!(
                "Window {w} bytes: how much more the {me} can receive{}.",
                if f.syn() {
                    " (windows in SYNs are never scaled)"
                } else {
                    ""
                }
            )),
            None => out.push(format!(
                "Window {} (raw): the scale factor is unknown because the handshake was not captured.",
                p.window
            )),
        }
    }

    // State changes.
    let (bc, bs) = states_before(pkts, i);
    let (ac, as_) = p.states_after;
    if bc != ac {
        out.push(format!("client state: {bc} → {ac}"));
    }
    if bs != as_ {
        out.push(format!("server state: {bs} → {as_}"));
    }

    // Analysis flags.
    for x in &p.analysis {
        out.push(format!("⚠ {}: {}", x.flag.label(), x.why));
    }
    out
}

/// A one-line label for a ladder arrow: flags and the relative numbers.
pub fn arrow_label(p: &PacketRecord) -> String {
    let mut s = format!("{} seq={}", p.flags, p.seq);
    if p.flags.ack() {
        s.push_str(&format!(" ack={}", p.ack));
    }
    s.push_str(&format!(
        " len={} win={}",
        p.len,
        p.window_scaled.unwrap_or(u64::from(p.window))
    ));
    s
}

/// Short marker for analysis flags, e.g. "[Retransmission]".
pub fn flag_marker(p: &PacketRecord) -> Option<String> {
    if p.analysis.is_empty() {
        return None;
    }
    let v: Vec<&str> = p.analysis.iter().map(|f| f.flag.label()).collect();
    Some(format!("[{}]", v.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use crate::ts::Ts;

    fn rec(
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
            dup_ack_num: None,
            states_after: after,
        }
    }

    #[test]
    fn syn_ack_arithmetic() {
        use TcpState::*;
        let p = vec![
            rec(Dir::Client, TcpFlags::SYN, 0, 0, 0, (SynSent, Listen)),
            rec(
                Dir::Server,
                TcpFlags::SYN | TcpFlags::ACK,
                0,
                1,
                0,
                (Established, SynReceived),
            ),
            rec(
                Dir::Client,
                TcpFlags::ACK,
                1,
                1,
                0,
                (Established, Established),
            ),
        ];
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

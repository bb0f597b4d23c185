//! Plain-language sentences about a connection: what each packet does, the arithmetic
//! behind its numbers (relative and raw, from the real ISNs), each state change and the
//! rule that made it, each analysis flag and the rule that fired, each HTTP message.
//!
//! One explain layer, several front ends: the TUI's Packets tab, `tcpscope explain`,
//! the diagrams' notes and the quiz all take their text from here. Pure functions over
//! the model (`Connection`, `PacketRecord`, `Transition`, `Finding`, `Exchange`): no
//! terminal, no pcap, no clock. Capture-derived strings (URIs, reasons) go through
//! [`clean`] so no control character reaches a terminal or a document.

pub mod findings;
mod http;
pub mod http2;
mod intro;
pub mod narrative;
mod packet;
pub mod quiz;
mod quiz_loss;
pub mod tls;
pub mod wire;

pub use crate::ts::human_duration;
pub use http::{exchange_summary, http_at_frame, request_line};
pub use intro::{connection_intro, connection_outro, gave_up};
pub use packet::{
    Said, arrow_label, finding, flag_marker, loss_marker, packet, packet_said, state_changes,
    transition,
};
pub use wire::{WireHttp, WirePiece, wire_http};

use crate::flow::Dir;
use crate::http::Exchange;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::state::{TcpState, Transition};
use std::sync::OnceLock;

/// What the explain layer needs to know about one connection. Built from a finished
/// [`Connection`] with [`ConnFacts::of`], or from a bare packet list (no ISNs, no rules,
/// no HTTP) with [`ConnFacts::bare`].
///
/// Explaining every packet of a connection with the same `ConnFacts` is linear in the
/// packet count: the positions of each side's SYNs, FINs and first ACK are found in one
/// pass, the first time [`packet`] needs them, and kept here.
#[derive(Clone, Debug, Default)]
pub struct ConnFacts<'a> {
    pub packets: &'a [PacketRecord],
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_transitions: &'a [Transition],
    pub server_transitions: &'a [Transition],
    pub http: &'a [Exchange],
    /// The server's port, when known (for "no process listens on port 81").
    pub server_port: Option<u16>,
    /// Built lazily from `packets` by [`ConnFacts::marks`].
    marks: OnceLock<Marks<'a>>,
    /// Built lazily from `http` by [`ConnFacts::http_frames`].
    http_frames: OnceLock<HttpFrames<'a>>,
}

/// For each frame, the exchanges with a message starting or ending in it (ascending), so
/// that the HTTP sentences of a packet take one look-up, not a walk over every exchange
/// (which made `explain` quadratic in the exchanges of a connection).
#[derive(Clone, Debug, Default)]
struct HttpFrames<'a> {
    /// The exchanges the positions refer to.
    http: &'a [Exchange],
    at: std::collections::HashMap<u64, Vec<usize>>,
}

impl<'a> HttpFrames<'a> {
    fn of(http: &'a [Exchange]) -> Self {
        let mut at: std::collections::HashMap<u64, Vec<usize>> = Default::default();
        for (k, x) in http.iter().enumerate() {
            let mut frames: Vec<u64> = Vec::new();
            if let Some(r) = &x.request {
                frames.extend([r.frame, r.end_frame]);
            }
            frames.extend(x.interim.iter().map(|i| i.frame));
            if let Some(r) = &x.response {
                frames.extend([r.frame, r.end_frame]);
            }
            frames.sort_unstable();
            frames.dedup();
            for f in frames {
                at.entry(f).or_default().push(k);
            }
        }
        HttpFrames { http, at }
    }
}

/// Where each side's SYNs, FINs and first ACK are in a packet list, so that "the peer's
/// last SYN / FIN before packet `i`" takes a binary search instead of a walk back over
/// `packets[..i]` for every packet. Arrays are indexed by [`Dir::idx`].
#[derive(Clone, Debug, Default)]
struct Marks<'a> {
    /// The list the positions refer to (to detect a `ConnFacts` whose `packets` changed).
    packets: &'a [PacketRecord],
    /// Positions of the packets with SYN set, ascending.
    syns: [Vec<usize>; 2],
    /// Positions of the packets with FIN set, ascending.
    fins: [Vec<usize>; 2],
    /// Position of the first packet with ACK set.
    first_ack: [Option<usize>; 2],
}

impl<'a> Marks<'a> {
    fn of(packets: &'a [PacketRecord]) -> Self {
        let mut m = Marks {
            packets,
            ..Default::default()
        };
        for (k, p) in packets.iter().enumerate() {
            let d = p.dir.idx();
            if p.flags.syn() {
                m.syns[d].push(k);
            }
            if p.flags.fin() {
                m.fins[d].push(k);
            }
            if p.flags.ack() && m.first_ack[d].is_none() {
                m.first_ack[d] = Some(k);
            }
        }
        m
    }

    /// The last position in `v` (ascending) before `i`.
    fn last_before(v: &[usize], i: usize) -> Option<usize> {
        v[..v.partition_point(|&k| k < i)].last().copied()
    }

    /// The most recent SYN `d` sent before packet `i`.
    fn syn_before(&self, d: Dir, i: usize) -> Option<&'a PacketRecord> {
        Self::last_before(&self.syns[d.idx()], i).map(|k| &self.packets[k])
    }

    /// The most recent FIN `d` sent before packet `i`.
    fn fin_before(&self, d: Dir, i: usize) -> Option<&'a PacketRecord> {
        Self::last_before(&self.fins[d.idx()], i).map(|k| &self.packets[k])
    }

    /// Whether `d` sent a packet with ACK set before packet `i`.
    fn acked_before(&self, d: Dir, i: usize) -> bool {
        self.first_ack[d.idx()].is_some_and(|k| k < i)
    }
}

impl<'a> ConnFacts<'a> {
    pub fn bare(packets: &'a [PacketRecord]) -> Self {
        ConnFacts {
            packets,
            ..Default::default()
        }
    }

    pub fn of(c: &'a Connection) -> Self {
        let Some(s) = c.summary.as_ref() else {
            return ConnFacts {
                http: &c.http,
                ..Default::default()
            };
        };
        ConnFacts {
            packets: s.packets.as_deref().unwrap_or(&[]),
            client_isn: s.handshake.client_isn,
            server_isn: s.handshake.server_isn,
            client_transitions: &s.states.client,
            server_transitions: &s.states.server,
            http: &c.http,
            server_port: Some(c.server.port),
            marks: OnceLock::new(),
            http_frames: OnceLock::new(),
        }
    }

    fn isn(&self, d: Dir) -> Option<u32> {
        match d {
            Dir::Client => self.client_isn,
            Dir::Server => self.server_isn,
        }
    }

    fn transitions(&self, d: Dir) -> &'a [Transition] {
        match d {
            Dir::Client => self.client_transitions,
            Dir::Server => self.server_transitions,
        }
    }

    /// The SYN / FIN / ACK positions of `packets`, built on first use. `None` if
    /// `packets` was replaced after they were built (the fields are public): the caller
    /// then builds fresh ones.
    fn marks(&self) -> Option<&Marks<'a>> {
        let m = self.marks.get_or_init(|| Marks::of(self.packets));
        std::ptr::eq(m.packets, self.packets).then_some(m)
    }

    /// The HTTP sentences of `frame`, found through an index of the exchanges by frame
    /// built on first use (rebuilt if `http` was replaced after it was built).
    fn http_at(&self, frame: u64) -> Vec<String> {
        let idx = self.http_frames.get_or_init(|| HttpFrames::of(self.http));
        if !std::ptr::eq(idx.http, self.http) {
            return http_at_frame(self.http, frame);
        }
        let ks = idx.at.get(&frame).map_or(&[][..], |v| v.as_slice());
        http::http_at_frame_of(self.http, ks, frame)
    }
}

/// Make capture-derived text safe for a terminal or a document: control characters,
/// C1 controls, bidi overrides and zero-width characters become visible escapes (the
/// same escaping the TUI uses).
pub fn clean(s: &str) -> String {
    crate::escape::escape(s)
}

/// States of (client, server) before packet `i`.
pub fn states_before(pkts: &[PacketRecord], i: usize) -> (TcpState, TcpState) {
    if i == 0 {
        (TcpState::Closed, TcpState::Closed)
    } else {
        pkts.get(i - 1)
            .map_or((TcpState::Closed, TcpState::Closed), |p| p.states_after)
    }
}

/// Explain packet `i` of a bare packet list (no ISNs, rules or HTTP known).
pub fn explain_packet(pkts: &[PacketRecord], i: usize) -> Vec<String> {
    packet(&ConnFacts::bare(pkts), i)
}

/// What a sentence about a packet is about, so front ends (the quiz, the TUI) choose
/// sentences by topic, never by their wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// What the packet does: SYN, SYN-ACK, RST.
    Opens,
    /// The ACK number and its arithmetic (relative and raw).
    Ack,
    /// The ACK that completes the three-way handshake.
    Handshake,
    /// The payload and the next new byte, or "no data".
    Data,
    Fin,
    Psh,
    Window,
    /// A state change of one side.
    State(Dir),
    /// An analysis finding.
    Finding,
    /// An HTTP message at this frame.
    Http,
}

#[cfg(test)]
mod tests {
    use super::http::ordinal;
    use super::*;
    use crate::tcp::test_handshake as handshake;
    use crate::ts::Ts;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(3_000_000), "3 ms");
        assert_eq!(human_duration(-3_000_000), "3 ms");
        assert_eq!(human_duration(1_500_000_000), "1.5 s");
        assert_eq!(human_duration(12_000), "12 µs");
        assert_eq!(human_duration(999), "999 ns");
        assert_eq!(human_duration(0), "0 ns");
        assert_eq!(human_duration(86_400_000_000_000), "1 day");
        assert_eq!(human_duration(668_322_441_995_000_000), "21 years");
        assert_eq!(human_duration(120_000_000_000), "2 min");
    }

    #[test]
    fn raw_isn_arithmetic() {
        let p = handshake();
        let cf = ConnFacts {
            client_isn: Some(1000),
            server_isn: Some(5000),
            ..ConnFacts::bare(&p)
        };
        let t = packet(&cf, 1).join("\n");
        assert!(
            t.contains("the server answers ACK 1001: the client's ISN 1000 plus 1, because a SYN counts as one byte"),
            "{t}"
        );
        let t = packet(&cf, 0).join("\n");
        assert!(t.contains("(ISN), 1000 in the raw header."), "{t}");
        let t = packet(&cf, 2).join("\n");
        assert!(t.contains("ACK 5001: the server's ISN 5000 plus 1"), "{t}");
    }

    #[test]
    fn transitions_carry_their_rule() {
        let p = handshake();
        let tr = [Transition {
            from: TcpState::SynSent,
            state: TcpState::Established,
            frame: 2,
            ts: Ts(0),
            inferred: false,
            reason: &"received SYN-ACK for its SYN",
            fin_frame: None,
        }];
        let cf = ConnFacts {
            client_transitions: &tr,
            ..ConnFacts::bare(&p)
        };
        let t = packet(&cf, 1).join("\n");
        assert!(
            t.contains("client state: SYN-SENT → ESTABLISHED: received SYN-ACK for its SYN"),
            "{t}"
        );
        // No server transition recorded for frame 2: the state difference is used.
        assert!(t.contains("server state: LISTEN → SYN-RECEIVED"), "{t}");
    }

    /// A varied packet list: both directions, repeated SYNs and FINs, RSTs, packets
    /// without ACK, from a fixed pseudo-random sequence.
    fn mixed(n: usize) -> Vec<PacketRecord> {
        use crate::decode::TcpFlags as F;
        let mut x: u32 = 12345;
        (0..n)
            .map(|k| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let r = x >> 16;
                let dir = if r & 1 == 0 { Dir::Client } else { Dir::Server };
                let flags = [
                    F::SYN,
                    F::SYN | F::ACK,
                    F::ACK,
                    F::FIN | F::ACK,
                    F::FIN,
                    F::RST,
                ][(r >> 1) as usize % 6];
                let mut p = crate::tcp::test_record(
                    dir,
                    flags,
                    r % 7,
                    r % 5,
                    (r >> 4) % 3,
                    (TcpState::Established, TcpState::Established),
                );
                p.frame = k as u64 + 1;
                p
            })
            .collect()
    }

    #[test]
    fn marks_match_a_backward_scan() {
        let pkts = mixed(300);
        let m = Marks::of(&pkts);
        for i in 0..=pkts.len() {
            for d in [Dir::Client, Dir::Server] {
                let back = |pred: &dyn Fn(&PacketRecord) -> bool| {
                    pkts[..i].iter().rev().find(|q| q.dir == d && pred(q))
                };
                let same = |a: Option<&PacketRecord>, b: Option<&PacketRecord>| match (a, b) {
                    (Some(a), Some(b)) => std::ptr::eq(a, b),
                    (None, None) => true,
                    _ => false,
                };
                assert!(
                    same(m.syn_before(d, i), back(&|q| q.flags.syn())),
                    "{i} {d:?}"
                );
                assert!(
                    same(m.fin_before(d, i), back(&|q| q.flags.fin())),
                    "{i} {d:?}"
                );
                assert_eq!(
                    m.acked_before(d, i),
                    pkts[..i].iter().any(|q| q.dir == d && q.flags.ack()),
                    "{i} {d:?}"
                );
            }
        }
    }

    #[test]
    fn replaced_packets_are_not_explained_from_stale_marks() {
        let a = mixed(50);
        let b = mixed(80);
        let mut cf = ConnFacts::bare(&a);
        let _ = packet(&cf, 10);
        cf.packets = &b;
        for i in 0..b.len() {
            assert_eq!(packet(&cf, i), packet(&ConnFacts::bare(&b), i), "{i}");
        }
    }

    /// Explaining every packet of a long connection is linear: the peer's SYN / FIN is
    /// no longer searched for by walking back over all earlier packets (which took
    /// minutes for 200,000 packets in a debug build).
    #[test]
    fn explaining_a_long_connection_is_linear() {
        use crate::decode::TcpFlags as F;
        const N: usize = 200_000;
        let est = (TcpState::Established, TcpState::Established);
        let mut pkts = handshake();
        let mut seq = 1u32;
        while pkts.len() < N - 2 {
            pkts.push(crate::tcp::test_record(
                Dir::Client,
                F::PSH | F::ACK,
                seq,
                1,
                100,
                est,
            ));
            seq += 100;
            pkts.push(crate::tcp::test_record(Dir::Server, F::ACK, 1, seq, 0, est));
        }
        pkts.push(crate::tcp::test_record(
            Dir::Client,
            F::FIN | F::ACK,
            seq,
            1,
            0,
            (TcpState::FinWait1, TcpState::CloseWait),
        ));
        pkts.push(crate::tcp::test_record(
            Dir::Server,
            F::ACK,
            1,
            seq + 1,
            0,
            (TcpState::FinWait1, TcpState::CloseWait),
        ));
        for (k, p) in pkts.iter_mut().enumerate() {
            p.frame = k as u64 + 1;
        }
        let cf = ConnFacts::bare(&pkts);
        let start = std::time::Instant::now();
        let mut lines = 0;
        for i in 0..pkts.len() {
            lines += packet(&cf, i).len();
        }
        let took = start.elapsed();
        assert!(lines > pkts.len());
        assert!(
            took < std::time::Duration::from_secs(20),
            "explaining {} packets took {took:?}",
            pkts.len()
        );
        // The sentences that need the peer's SYN / FIN are still found at the far end.
        let t = packet(&cf, pkts.len() - 1).join("\n");
        assert!(t.contains("the client's FIN seq"), "{t}");
    }

    #[test]
    fn clean_escapes_controls() {
        assert_eq!(clean("a\u{1b}[2Jb\u{202e}\n"), "a^[[2Jb\\u{202E}\\n");
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }
}

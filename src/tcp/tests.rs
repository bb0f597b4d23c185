//! Engine unit tests: segments built with etherparse's PacketBuilder, decoded by
//! `decode`, fed to one `TcpConn`. One builder per situation; each test names the RFC
//! rule or the Wireshark flag it checks.

use super::analysis::Flag;
use super::handshake::Outcome;
use super::reassembly::StreamEvent;
use super::state::TcpState::{self, *};
use super::*;
use crate::decode;
use etherparse::PacketBuilder;

const C: Dir = Dir::Client;
const S: Dir = Dir::Server;

/// A connection under test. Times advance 1 ms per segment unless set.
struct H {
    c: TcpConn,
    frame: u64,
    ts: i64,
    stream: [Vec<u8>; 2],
    gaps: [u64; 2],
}

#[derive(Default, Clone, Copy)]
struct Opts {
    wscale: Option<u8>,
    ts_val: Option<u32>,
    md5: bool,
}

impl H {
    fn new() -> H {
        let cfg = EngineConfig {
            keep_packets: true,
            ..EngineConfig::default()
        };
        H {
            c: TcpConn::new(cfg),
            frame: 0,
            ts: 1_700_000_000_000_000_000,
            stream: [Vec::new(), Vec::new()],
            gaps: [0, 0],
        }
    }

    /// Send one segment. `flags` is a string of S A F R P; returns the flags raised.
    #[allow(
        clippy::too_many_arguments,
        reason = "a segment's fields, spelled out at each call"
    )]
    fn seg_full(
        &mut self,
        dir: Dir,
        flags: &str,
        seq: u32,
        ack: u32,
        data: &[u8],
        win: u16,
        o: Opts,
        dt_us: i64,
    ) -> Vec<Flag> {
        let (src, dst, sp, dp) = match dir {
            Dir::Client => ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80),
            Dir::Server => ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000),
        };
        let mut b = PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, seq, win);
        for ch in flags.chars() {
            b = match ch {
                'S' => b.syn(),
                'A' => b.ack(ack),
                'F' => b.fin(),
                'R' => b.rst(),
                'P' => b.psh(),
                _ => b,
            };
        }
        let mut raw = Vec::new();
        if let Some(ws) = o.wscale {
            raw.extend_from_slice(&[1, 3, 3, ws]);
        }
        if let Some(v) = o.ts_val {
            raw.extend_from_slice(&[1, 1, 8, 10]);
            raw.extend_from_slice(&v.to_be_bytes());
            raw.extend_from_slice(&0u32.to_be_bytes());
        }
        if o.md5 {
            raw.extend_from_slice(&[19, 18]);
            raw.extend_from_slice(&[0u8; 16]);
            raw.extend_from_slice(&[1, 1]);
        }
        if !raw.is_empty() {
            b = b.options_raw(&raw).unwrap();
        }
        let mut bytes = Vec::new();
        b.write(&mut bytes, data).unwrap();
        let d = decode::decode(1, &bytes, bytes.len() as u32);
        let seg = d.tcp.expect("a TCP segment");
        self.frame += 1;
        self.ts += dt_us * 1000;
        let (stream, gaps) = (&mut self.stream, &mut self.gaps);
        self.c
            .on_segment(dir, &seg, self.frame, Ts(self.ts), &mut |d, ev| match ev {
                StreamEvent::Data { bytes, .. } => stream[d.idx()].extend_from_slice(bytes),
                StreamEvent::Gap { len, .. } => gaps[d.idx()] += len,
            });
        self.c
            .packets
            .last()
            .unwrap()
            .analysis
            .iter()
            .map(|f| f.flag())
            .collect()
    }

    fn seg(&mut self, dir: Dir, flags: &str, seq: u32, ack: u32, data: &[u8]) -> Vec<Flag> {
        self.seg_full(dir, flags, seq, ack, data, 1000, Opts::default(), 1000)
    }

    fn states(&self) -> (TcpState, TcpState) {
        (self.c.state(C), self.c.state(S))
    }

    fn path(&self, dir: Dir) -> Vec<TcpState> {
        self.c.transitions(dir).iter().map(|t| t.state).collect()
    }

    /// Client ISN 1000, server ISN 5000: both ESTABLISHED after frame 3.
    fn established() -> H {
        let mut h = H::new();
        h.seg(C, "S", 1000, 0, b"");
        h.seg(S, "SA", 5000, 1001, b"");
        h.seg(C, "A", 1001, 5001, b"");
        assert_eq!(h.states(), (Established, Established));
        h
    }
}

#[test]
fn three_way_handshake_states_and_outcome() {
    let h = H::established();
    assert_eq!(h.path(C), [SynSent, Established]);
    assert_eq!(h.path(S), [Listen, SynReceived, Established]);
    assert!(h.c.transitions(S)[0].inferred, "LISTEN is inferred");
    let hs = &h.c.handshake;
    assert_eq!(hs.outcome, Outcome::Complete);
    assert_eq!(
        (hs.syn_frame, hs.syn_ack_frame, hs.ack_frame),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!((hs.client_isn, hs.server_isn), (Some(1000), Some(5000)));
    assert_eq!(hs.irtt_ms, Some(2.0));
    assert_eq!(hs.syn_to_syn_ack_ms, Some(1.0));
}

#[test]
fn four_way_close() {
    let mut h = H::established();
    h.seg(C, "FA", 1001, 5001, b"");
    assert_eq!(h.states(), (FinWait1, CloseWait));
    h.seg(S, "A", 5001, 1002, b"");
    assert_eq!(h.states(), (FinWait2, CloseWait));
    h.seg(S, "FA", 5001, 1002, b"");
    assert_eq!(h.states(), (TimeWait, LastAck));
    h.seg(C, "A", 1002, 5002, b"");
    assert_eq!(h.states(), (TimeWait, Closed));
    assert_eq!(h.c.close(), Close::Fin);
    assert_eq!(h.c.conn_state(), "SF");
    assert_eq!(h.c.history.as_str(), "ShAFaf");
}

#[test]
fn fin_piggybacked_on_the_ack_of_the_peers_fin() {
    let mut h = H::established();
    h.seg(C, "FA", 1001, 5001, b"");
    // One segment acknowledges the client's FIN and carries the server's FIN.
    h.seg(S, "FA", 5001, 1002, b"");
    assert_eq!(h.states(), (TimeWait, LastAck));
    assert_eq!(h.path(C), [SynSent, Established, FinWait1, TimeWait]);
    h.seg(C, "A", 1002, 5002, b"");
    assert_eq!(h.states(), (TimeWait, Closed));
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut h = H::established();
    h.seg(C, "FA", 1001, 5001, b"");
    // The server's FIN crosses the client's: it does not acknowledge it.
    // Until the server's next segment, the capture point takes it to have received it.
    assert_eq!(h.states(), (FinWait1, CloseWait));
    h.seg(S, "FA", 5001, 1001, b"");
    assert_eq!(h.states(), (Closing, Closing));
    let server = [Listen, SynReceived, Established, FinWait1, Closing];
    assert_eq!(h.path(S), server, "CLOSE-WAIT never entered");
    assert!(h.c.transitions(S)[4].inferred);
    h.seg(C, "A", 1002, 5002, b"");
    h.seg(S, "A", 5002, 1002, b"");
    assert_eq!(h.states(), (TimeWait, TimeWait));
}

#[test]
fn simultaneous_open() {
    let mut h = H::new();
    h.seg(C, "S", 1000, 0, b"");
    h.seg(S, "S", 5000, 0, b"");
    assert_eq!(h.states(), (SynReceived, SynSent));
    h.seg(C, "SA", 1000, 5001, b"");
    h.seg(S, "SA", 5000, 1001, b"");
    assert_eq!(h.states(), (Established, Established));
    assert_eq!(h.c.handshake.outcome, Outcome::SimultaneousOpen);
}

#[test]
fn half_close_data_keeps_flowing() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n");
    h.seg(C, "FA", 1019, 5001, b"");
    h.seg(S, "A", 5001, 1020, b"");
    assert_eq!(h.states(), (FinWait2, CloseWait));
    h.seg(S, "PA", 5001, 1020, b"hello");
    h.seg(S, "PA", 5006, 1020, b" world");
    assert_eq!(h.states(), (FinWait2, CloseWait));
    h.seg(S, "FA", 5012, 1020, b"");
    assert_eq!(h.states(), (TimeWait, LastAck));
    assert_eq!(h.stream[1], b"hello world");
    assert_eq!(h.c.close(), Close::Fin);
}

#[test]
fn rst_answering_a_syn_is_a_refusal() {
    let mut h = H::new();
    h.seg(C, "S", 1000, 0, b"");
    h.seg(S, "RA", 0, 1001, b"");
    assert_eq!(h.states(), (Closed, Closed));
    assert_eq!(h.c.handshake.outcome, Outcome::Refused);
    assert_eq!(h.c.conn_state(), "REJ");
    assert_eq!(h.c.close(), Close::Rst);
}

#[test]
fn rst_in_syn_received_is_reset_during_handshake() {
    let mut h = H::new();
    h.seg(C, "S", 1000, 0, b"");
    h.seg(S, "SA", 5000, 1001, b"");
    h.seg(C, "R", 1001, 0, b"");
    assert_eq!(h.states(), (Closed, Closed));
    assert_eq!(h.c.handshake.outcome, Outcome::ResetDuringHandshake);
}

/// RST with the exact next sequence number closes the connection from every state.
#[test]
fn exact_rst_closes_from_every_state() {
    type Setup = fn(&mut H) -> (u32, Dir);
    let cases: [(&str, Setup, TcpState); 6] = [
        ("ESTABLISHED", |_| (1001, C), Established),
        (
            "FIN-WAIT-1",
            |h| {
                h.seg(C, "FA", 1001, 5001, b"");
                (5001, S)
            },
            FinWait1,
        ),
        (
            "FIN-WAIT-2",
            |h| {
                h.seg(C, "FA", 1001, 5001, b"");
                h.seg(S, "A", 5001, 1002, b"");
                (5001, S)
            },
            FinWait2,
        ),
        (
            "CLOSE-WAIT",
            |h| {
                h.seg(S, "FA", 5001, 1001, b"");
                h.seg(C, "A", 1001, 5002, b"");
                (1001, C)
            },
            CloseWait,
        ),
        (
            "CLOSING",
            |h| {
                h.seg(C, "FA", 1001, 5001, b"");
                h.seg(S, "FA", 5001, 1001, b"");
                (5002, S)
            },
            Closing,
        ),
        (
            "LAST-ACK",
            |h| {
                h.seg(S, "FA", 5001, 1001, b"");
                h.seg(C, "FA", 1001, 5002, b"");
                (1002, C)
            },
            LastAck,
        ),
    ];
    for (name, setup, client_or_server_state) in cases {
        let mut h = H::established();
        let (seq, from) = setup(&mut h);
        let (cs, ss) = h.states();
        assert!(
            cs == client_or_server_state || ss == client_or_server_state,
            "{name}"
        );
        let flags = h.seg(from, "R", seq, 0, b"");
        assert!(flags.is_empty(), "{name}: {flags:?} {:?}", h.states());
        assert_eq!(h.states(), (Closed, Closed), "{name}");
        assert_eq!(h.c.close(), Close::Rst, "{name}");
    }
}

#[test]
fn rst_validity_per_rfc_5961() {
    // In the window but not exact: a challenge ACK is due (flagged; older stacks reset).
    let mut h = H::established();
    let f = h.seg(C, "R", 1500, 0, b"");
    assert_eq!(f, [Flag::RstInWindow]);
    // Out of the window: ignored, the connection stays up.
    let mut h = H::established();
    let f = h.seg(C, "R", 900_000, 0, b"");
    assert_eq!(f, [Flag::RstOutOfWindow]);
    assert_eq!(h.states(), (Established, Established));
    // A RST with a TCP-MD5 signature the receiver cannot verify is dropped (RFC 2385).
    let mut h = H::established();
    let md5 = Opts {
        md5: true,
        ..Opts::default()
    };
    h.seg_full(C, "R", 1001, 0, b"", 1000, md5, 1000);
    assert_eq!(h.states(), (Established, Established));
}

#[test]
fn segment_after_close_is_flagged() {
    let mut h = H::established();
    h.seg(C, "R", 1001, 0, b"");
    assert_eq!(h.seg(S, "PA", 5001, 1001, b"late"), [Flag::AfterClose]);
}

#[test]
fn impossible_flag_combinations() {
    let mut h = H::established();
    assert!(
        h.seg(C, "SF", 1001, 0, b"")
            .contains(&Flag::ImpossibleFlags)
    );
    assert!(h.seg(C, "", 1001, 0, b"").contains(&Flag::ImpossibleFlags));
    assert!(
        h.c.history.as_str().contains('Q'),
        "{}",
        h.c.history.as_str()
    );
}

#[test]
fn absurd_window_scale_is_flagged_and_capped() {
    let mut h = H::new();
    let o = Opts {
        wscale: Some(20),
        ..Opts::default()
    };
    let f = h.seg_full(C, "S", 1000, 0, b"", 1000, o, 1000);
    assert!(f.contains(&Flag::BadWindowScale));
    h.seg_full(S, "SA", 5000, 1001, b"", 1000, o, 1000);
    h.seg(C, "A", 1001, 5001, b"");
    // 1000 << 14, not << 20.
    assert_eq!(h.c.last_window(C), Some(1000 << 14));
}

#[test]
fn data_on_syn_is_noted_and_delivered() {
    let mut h = H::new();
    let f = h.seg(C, "S", 1000, 0, b"early");
    assert!(f.contains(&Flag::SynData));
    assert_eq!(h.c.handshake.syn_data_bytes, 5);
    assert_eq!(h.stream[0], b"early");
}

#[test]
fn sequence_wraparound_past_2_pow_32() {
    let mut h = H::new();
    let isn = u32::MAX - 5;
    h.seg(C, "S", isn, 0, b"");
    h.seg(S, "SA", 5000, isn.wrapping_add(1), b"");
    h.seg(C, "A", isn.wrapping_add(1), 5001, b"");
    h.seg(C, "PA", isn.wrapping_add(1), 5001, b"0123456789");
    let f = h.seg(C, "PA", isn.wrapping_add(11), 5001, b"abcdef");
    assert!(f.is_empty(), "{f:?}");
    h.seg(S, "A", 5001, isn.wrapping_add(17), b"");
    assert_eq!(h.stream[0], b"0123456789abcdef");
    assert!(h.c.rtt.samples >= 1);
    // Relative numbers run on across the wrap.
    assert_eq!(h.c.packets[4].seq, 11);
}

#[test]
fn retransmission_and_out_of_order() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    // Same bytes again, 1 s later: a retransmission.
    let f = h.seg_full(
        C,
        "PA",
        1001,
        5001,
        b"aaaa",
        1000,
        Opts::default(),
        1_000_000,
    );
    assert_eq!(f, [Flag::Retransmission]);
    // A hole, then the segment filling it within the reordering threshold.
    let f = h.seg(C, "PA", 1009, 5001, b"cccc");
    assert_eq!(f, [Flag::LostSegment]);
    let f = h.seg_full(C, "PA", 1005, 5001, b"bbbb", 1000, Opts::default(), 10);
    assert_eq!(f, [Flag::OutOfOrder]);
    assert_eq!(h.stream[0], b"aaaabbbbcccc");
}

#[test]
fn timestamps_turn_a_quick_hole_filler_into_a_retransmission() {
    let mut h = H::established();
    let ts = |v| Opts {
        ts_val: Some(v),
        ..Opts::default()
    };
    h.seg_full(C, "PA", 1001, 5001, b"aaaa", 1000, ts(100), 1000);
    h.seg_full(C, "PA", 1009, 5001, b"cccc", 1000, ts(101), 1000);
    // Arrives 10 us later (Wireshark: out-of-order) but was sent later (TSval 102).
    let f = h.seg_full(C, "PA", 1005, 5001, b"bbbb", 1000, ts(102), 10);
    assert_eq!(f, [Flag::Retransmission]);
}

#[test]
fn duplicate_acks_then_fast_retransmission() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    h.seg(C, "PA", 1009, 5001, b"cccc"); // 1005..1009 lost
    h.seg(S, "A", 5001, 1005, b"");
    let f = h.seg(S, "A", 5001, 1005, b"");
    assert_eq!(f, [Flag::DuplicateAck]);
    assert_eq!(h.c.packets.last().unwrap().dup_ack_num, Some(1));
    h.seg(S, "A", 5001, 1005, b"");
    assert_eq!(h.c.packets.last().unwrap().dup_ack_num, Some(2));
    let f = h.seg(C, "PA", 1005, 5001, b"bbbb");
    assert_eq!(f, [Flag::FastRetransmission, Flag::Retransmission]);
}

#[test]
fn spurious_retransmission_of_acknowledged_data() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    h.seg(S, "A", 5001, 1005, b"");
    let f = h.seg(C, "PA", 1001, 5001, b"aaaa");
    assert_eq!(f, [Flag::SpuriousRetransmission, Flag::Retransmission]);
}

#[test]
fn zero_window_probe_and_window_update() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    let f = h.seg_full(S, "A", 5001, 1005, b"", 0, Opts::default(), 1000);
    assert_eq!(f, [Flag::ZeroWindow]);
    let f = h.seg(C, "A", 1005, 5001, b"b");
    assert_eq!(f, [Flag::ZeroWindowProbe]);
    let f = h.seg_full(S, "A", 5001, 1005, b"", 0, Opts::default(), 1000);
    assert!(f.contains(&Flag::ZeroWindowProbeAck), "{f:?}");
    let f = h.seg_full(S, "A", 5001, 1005, b"", 2000, Opts::default(), 1000);
    assert_eq!(f, [Flag::WindowUpdate]);
}

#[test]
fn keep_alive_and_its_ack() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    h.seg(S, "A", 5001, 1005, b"");
    let f = h.seg(C, "A", 1004, 5001, b"");
    assert_eq!(f, [Flag::KeepAlive]);
    let f = h.seg(S, "A", 5001, 1005, b"");
    assert_eq!(f, [Flag::KeepAliveAck]);
}

#[test]
fn window_full() {
    let mut h = H::established();
    // The server advertises 8 bytes; the client sends exactly 8.
    h.seg_full(S, "A", 5001, 1001, b"", 8, Opts::default(), 1000);
    let f = h.seg(C, "PA", 1001, 5001, b"12345678");
    assert_eq!(f, [Flag::WindowFull]);
}

#[test]
fn ack_of_unseen_data_declares_a_gap() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"aaaa");
    // 1005..1013 never captured, but the server acknowledges it.
    let f = h.seg(S, "A", 5001, 1013, b"");
    assert_eq!(f, [Flag::AckUnseen]);
    assert_eq!(h.gaps[0], 8);
    assert_eq!(h.c.gaps.len(), 1);
    assert_eq!((h.c.gaps[0].rel_seq, h.c.gaps[0].len), (5, 8));
    h.seg(C, "PA", 1013, 5001, b"dddd");
    assert_eq!(h.stream[0], b"aaaadddd");
}

#[test]
fn conflicting_overlap_is_flagged_first_copy_wins() {
    let mut h = H::established();
    h.seg(C, "PA", 1001, 5001, b"abcd");
    let f = h.seg_full(
        C,
        "PA",
        1001,
        5001,
        b"abXd",
        1000,
        Opts::default(),
        1_000_000,
    );
    assert!(f.contains(&Flag::OverlapConflict), "{f:?}");
    assert_eq!(h.stream[0], b"abcd");
}

#[test]
fn mid_stream_start_assumes_established() {
    let mut h = H::new();
    h.seg(S, "PA", 7000, 3000, b"body bytes");
    assert_eq!(h.states(), (Established, Established));
    assert!(h.c.transitions(C)[0].inferred);
    assert_eq!(h.c.handshake.outcome, Outcome::NotCaptured);
    assert_eq!(h.c.history.as_str(), "^d");
    assert_eq!(h.c.conn_state(), "OTH");
}

#[test]
fn syn_retransmissions_with_backoff() {
    let mut h = H::new();
    h.seg(C, "S", 1000, 0, b"");
    let f = h.seg_full(C, "S", 1000, 0, b"", 1000, Opts::default(), 1_000_000);
    assert_eq!(f, [Flag::Retransmission]);
    h.seg_full(C, "S", 1000, 0, b"", 1000, Opts::default(), 2_000_000);
    let hs = &h.c.handshake;
    assert_eq!(hs.syn_retransmissions, 2);
    assert_eq!(hs.syns[2].backoff_ms, Some(2000.0));
    assert_eq!(hs.outcome, Outcome::NoAnswer);
    assert_eq!(h.c.conn_state(), "S0");
}
